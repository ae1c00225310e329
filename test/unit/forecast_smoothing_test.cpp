#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/forecast/metrics.hpp"
#include "core/forecast/smoothing.hpp"

namespace insight::forecast {
namespace {

constexpr double kPi = 3.14159265358979323846;

// 100 + slope·t + 10·sin(2πt/7) + noise
std::vector<double> weekly_series(size_t n, double slope, double noise, uint64_t seed = 1) {
  Rng rng(seed);
  std::vector<double> y(n);
  for (size_t t = 0; t < n; ++t)
    y[t] = 100 + slope * static_cast<double>(t) +
           10 * std::sin(2 * kPi * static_cast<double>(t) / 7) + noise * (rng.uniform() - 0.5);
  return y;
}

TEST(ForecastMetrics, KnownValues) {
  const std::vector<double> a{1, 2, 3, 4}, f{2, 2, 5, 4};
  EXPECT_DOUBLE_EQ(mae(a, f), 0.75);
  EXPECT_DOUBLE_EQ(rmse(a, f), std::sqrt(5.0 / 4));
  // sMAPE: 2·1/3 + 0 + 2·2/8 + 0 over 4, in percent
  EXPECT_NEAR(smape(a, f), 100.0 * (2.0 / 3 + 0.5) / 4, 1e-12);
  EXPECT_DOUBLE_EQ(smape({0, 0}, {0, 0}), 0.0);  // 0/0 counts as a perfect forecast
  EXPECT_THROW(mae({1}, {1, 2}), InvalidParameter);
  EXPECT_THROW(mae({}, {}), InvalidParameter);
}

TEST(ForecastMetrics, MaseScaleAndFallbacks) {
  // Weekly pattern repeating exactly: seasonal scale is 0, falls back to the lag-1 scale.
  std::vector<double> weekly;
  for (int w = 0; w < 3; ++w)
    for (int d = 0; d < 7; ++d) weekly.push_back(d);
  const double lag1 = mase_scale(weekly, 7);
  EXPECT_GT(lag1, 0);
  EXPECT_DOUBLE_EQ(mase_scale(std::vector<double>(20, 5.0), 7), 1.0);  // constant series
  const std::vector<double> ramp{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_DOUBLE_EQ(mase_scale(ramp, 7), 7.0);
  EXPECT_DOUBLE_EQ(mase({10, 10}, {17, 3}, 7.0), 1.0);
}

TEST(SeasonalNaive, RepeatsTheLastWeek) {
  std::vector<double> y;
  for (int t = 0; t < 10; ++t) y.push_back(t);
  SeasonalNaive sn;
  sn.fit(y);
  EXPECT_EQ(sn.forecast(9), (std::vector<double>{3, 4, 5, 6, 7, 8, 9, 3, 4}));
  EXPECT_THROW(sn.fit({1, 2, 3}), InvalidParameter);
}

TEST(HoltWinters, RecoversTrendAndSeasonWithoutNoise) {
  const auto y = weekly_series(70, 0.5, 0.0);
  HoltWinters hw;
  hw.fit(y);
  const auto f = hw.forecast(14);
  const auto truth = weekly_series(84, 0.5, 0.0);
  for (size_t h = 0; h < 14; ++h) EXPECT_NEAR(f[h], truth[70 + h], 0.03 * truth[70 + h]) << h;
  const auto& p = hw.params();
  EXPECT_GT(p.alpha, 0);
  EXPECT_LE(p.alpha, 1);
  EXPECT_LE(p.beta, p.alpha);
  EXPECT_GE(p.phi, 0.8);
  EXPECT_LE(p.phi, 0.98);
}

TEST(HoltWinters, BeatsSeasonalNaiveOnATrend) {
  double hw_err = 0, sn_err = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const auto all = weekly_series(98, 1.0, 6.0, seed);
    const std::vector<double> train(all.begin(), all.begin() + 84),
        test(all.begin() + 84, all.end());
    HoltWinters hw;
    hw.fit(train);
    SeasonalNaive sn;
    sn.fit(train);
    hw_err += mae(test, hw.forecast(14));
    sn_err += mae(test, sn.forecast(14));
  }
  EXPECT_LT(hw_err, 0.7 * sn_err);
}

TEST(HoltWinters, FittedParametersLowerTheOneStepError) {
  const auto y = weekly_series(84, 0.3, 8.0, 3);
  HoltWinters hw;
  hw.fit(y);
  const double fitted = HoltWinters::one_step_sse(y, hw.params(), 7);
  EXPECT_LE(fitted, HoltWinters::one_step_sse(y, HoltWintersParams{}, 7));
  EXPECT_LE(fitted, HoltWinters::one_step_sse(y, HoltWintersParams{0.9, 0.5, 0.05, 0.98}, 7));
}

TEST(HoltWinters, ConstantSeriesAndBadInput) {
  HoltWinters hw;
  hw.fit(std::vector<double>(30, 42.0));
  for (double v : hw.forecast(10)) EXPECT_NEAR(v, 42.0, 1e-9);
  try {
    hw.fit(std::vector<double>(10, 1.0));
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_EQ(e.detail(), "10 periods found, holt_winters needs 14");
  }
  std::vector<double> nan(30, 1.0);
  nan[5] = std::nan("");
  EXPECT_THROW(hw.fit(nan), InvalidParameter);
}

}  // namespace
}  // namespace insight::forecast
