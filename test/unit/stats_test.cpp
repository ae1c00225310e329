// The core's quantile definitions (core/common/stats.hpp) and its random generator's mixing
// function (core/common/random.hpp): each meaning exists once, and the three quantiles differ.
#include "core/common/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/random.hpp"

namespace insight {
namespace {

TEST(Quantile, ThreeDefinitionsThreeAnswers) {
  const std::vector<double> v = {7, 3, 10, 1, 5, 9, 2, 8, 4, 6};  // 1..10, shuffled
  // position 0.9 · 9 = 8.1: interpolated, nearest order statistic, ⌈11 · 0.9⌉ = 10th smallest
  EXPECT_DOUBLE_EQ(quantile_linear(v, 0.9), 9.1);
  auto scratch = v;
  EXPECT_EQ(quantile_nearest(scratch, 0.9), 9);
  EXPECT_EQ(conformal_quantile(v, 0.9), 10);
  EXPECT_EQ(conformal_quantile_lower(v, 0.1), 1);
  EXPECT_DOUBLE_EQ(quantile_linear(v, 0.5), 5.5);
  scratch = v;
  EXPECT_EQ(quantile_nearest(scratch, 0.5), 6);  // position 4.5 rounds up
  std::vector<double> empty;
  EXPECT_TRUE(std::isnan(quantile_nearest(empty, 0.5)));
}

TEST(Random, SplitmixReferenceOutputs) {
  uint64_t x = 0;
  EXPECT_EQ(Rng::splitmix64(x), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(x, kSplitmixGamma);
  EXPECT_EQ(mix64(kSplitmixGamma), 0xE220A8397B1DCDAFull);
}

}  // namespace
}  // namespace insight

namespace insight {
namespace {

TEST(NormalQuantile, MatchesKnownValuesAndIsSymmetric) {
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-8);
  EXPECT_NEAR(normal_quantile(0.995), 2.575829303548901, 1e-8);
  EXPECT_NEAR(normal_quantile(0.841344746068543), 1.0, 1e-8);
  EXPECT_NEAR(normal_quantile(1e-6), -4.753424308822899, 1e-7);
  for (double p : {1e-4, 0.01, 0.02425, 0.1, 0.3, 0.49})
    EXPECT_NEAR(normal_quantile(p), -normal_quantile(1 - p), 1e-9) << p;
}

}  // namespace
}  // namespace insight
