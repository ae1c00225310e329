#include "core/model/profile.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "core/anomaly/anomaly_model.hpp"
#include "core/common/error.hpp"
#include "core/model/payload.hpp"

namespace insight::profile {
namespace {

std::vector<double> normal(size_t n, double mean, double sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

Histogram histogram_of(const Distribution& d, const std::vector<double>& values) {
  Histogram h(d);
  for (double x : values) h.add(d, x);
  return h;
}

TEST(Distribution, DecilesOfDistinctValuesHaveEqualShares) {
  std::vector<double> v(1000);
  std::iota(v.begin(), v.end(), 1.0);  // 1 .. 1000
  const Distribution d = Distribution::of(v);
  ASSERT_EQ(d.edges.size(), 9u);
  EXPECT_EQ(d.edges.front(), 100.0);
  EXPECT_EQ(d.edges.back(), 900.0);
  for (double s : d.shares) EXPECT_DOUBLE_EQ(s, 0.1);
  EXPECT_EQ(d.min, 1.0);
  EXPECT_EQ(d.max, 1000.0);
  EXPECT_EQ(d.count, 1000u);
  EXPECT_EQ(d.bin(100.0), 0u);  // bins are (edge, next edge]
  EXPECT_EQ(d.bin(100.5), 1u);
  EXPECT_EQ(d.bin(1e9), 9u);
}

// A count variable that is mostly zero: tied quantiles merge, shares still sum to 1, and the
// same values counted again give the same shares (no drift).
TEST(Distribution, TiesMergeBins) {
  std::vector<double> v(1000, 0.0);
  for (size_t i = 0; i < 150; ++i) v[i] = static_cast<double>(1 + i % 3);
  const Distribution d = Distribution::of(v);
  EXPECT_LT(d.edges.size(), 9u);
  EXPECT_NEAR(std::accumulate(d.shares.begin(), d.shares.end(), 0.0), 1.0, 1e-12);
  const Histogram h = histogram_of(d, v);
  EXPECT_NEAR(psi(d, h), 0.0, 1e-12);
  EXPECT_EQ(out_of_range_share(h), 0.0);
  const Distribution constant = Distribution::of(std::vector<double>(10, 4.0));
  EXPECT_EQ(constant.edges, std::vector<double>{4.0});
  EXPECT_EQ(constant.shares, (std::vector<double>{1.0, 0.0}));
}

TEST(Distribution, RefusesNoValuesAndNonFiniteOnes) {
  EXPECT_THROW(Distribution::of({}), InvalidParameter);
  EXPECT_THROW(Distribution::of({1.0, NAN}), InvalidParameter);
  EXPECT_THROW(Distribution::of({1.0}, 0), InvalidParameter);
}

// Fresh samples of the training distribution stay far below the threshold; a shift of half a
// standard deviation, or a quarter of the values moved by two, crosses it.
TEST(Psi, SeparatesNoiseFromShift) {
  const Distribution d = Distribution::of(normal(25600, 10, 2, 1));
  for (uint64_t seed = 2; seed < 12; ++seed) {
    EXPECT_LT(psi(d, histogram_of(d, normal(kMinRows, 10, 2, seed))), 0.1) << "seed " << seed;
    EXPECT_LT(psi(d, histogram_of(d, normal(20000, 10, 2, seed))), 0.01) << "seed " << seed;
  }
  EXPECT_GT(psi(d, histogram_of(d, normal(20000, 11, 2, 20))), kPsiThreshold);
  std::vector<double> mixed = normal(20000, 10, 2, 21);
  for (size_t i = 0; i < mixed.size() / 4; ++i) mixed[i] += 6;  // a quarter recalibrated
  EXPECT_GT(psi(d, histogram_of(d, mixed)), kPsiThreshold);
  EXPECT_EQ(psi(d, Histogram(d)), 0.0);
}

// A fifth of the values moved far beyond the training maximum (a sensor recalibrated on some
// links): they would pile into the top decile and count as a share of 0.3 against 0.1 there;
// as their own bin against a training share of zero they weigh in full.
TEST(Psi, ValuesBeyondTheRangeWeighInFull) {
  const Distribution d = Distribution::of(normal(25600, 10, 1, 30));
  std::vector<double> recent = normal(20000, 10, 1, 31);
  for (size_t i = 0; i < recent.size() / 5; ++i) recent[i] += 8;
  const Histogram h = histogram_of(d, recent);
  EXPECT_GT(h.above, recent.size() / 6);
  EXPECT_GT(psi(d, h), 1.0);
  EXPECT_NEAR(out_of_range_share(h), 0.2, 0.01);
}

TEST(DriftRows, RangeAndVerdicts) {
  const Distribution d = Distribution::of(normal(1000, 0, 1, 3));
  std::vector<double> recent = normal(kMinRows, 0, 1, 4);
  recent[0] = d.max + 1;
  recent[1] = d.min - 1;
  const auto rows = drift_rows("x", d, histogram_of(d, recent));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].statistic, "psi");
  EXPECT_EQ(rows[1].statistic, "out_of_range");
  EXPECT_DOUBLE_EQ(rows[1].value, 2.0 / static_cast<double>(kMinRows));
  EXPECT_TRUE(rows[1].has_verdict);
  EXPECT_FALSE(rows[1].drifted);
  const auto few = drift_rows("x", d, histogram_of(d, {0.0, 1.0}), false);
  ASSERT_EQ(few.size(), 1u);
  EXPECT_TRUE(few[0].has_value);
  EXPECT_FALSE(few[0].has_verdict);
  const auto none = drift_rows("x", d, Histogram(d));
  EXPECT_FALSE(none[0].has_value);
}

TEST(Distribution, JsonRoundTripAndCorruption) {
  const Distribution d = Distribution::of(normal(500, 3, 1, 5));
  const Distribution back = Distribution::from_json(d.to_json());
  EXPECT_EQ(back.edges, d.edges);
  EXPECT_EQ(back.shares, d.shares);
  EXPECT_EQ(back.count, d.count);
  auto broken = [&](auto edit) {
    nlohmann::json j = d.to_json();
    edit(j);
    return j;
  };
  const std::vector<nlohmann::json> bad = {
      nlohmann::json::array(),
      broken([](nlohmann::json& j) { j.erase("edges"); }),
      broken([](nlohmann::json& j) { j["edges"][1] = j["edges"][0]; }),  // not ascending
      broken([](nlohmann::json& j) { j["shares"][0] = 0.9; }),           // sum is not 1
      broken([](nlohmann::json& j) { j["shares"].erase(0); }),           // one share short
      broken([](nlohmann::json& j) { j["min"] = "low"; }),
      broken([](nlohmann::json& j) { j["max"] = -1e9; }),  // max below min
      broken([](nlohmann::json& j) { j["count"] = -1; }),
  };
  for (const auto& j : bad) EXPECT_THROW(Distribution::from_json(j), CorruptPayload) << j.dump();
}

// A trained detector's payload carries a profile of every feature and of its training
// scores, which reads back with the model's feature count only.
TEST(AnomalyProfile, TrainedDetectorsCarryOne) {
  anomaly::Reservoir sample(4096, 1);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n01(0, 1);
  for (int i = 0; i < 3000; ++i) {
    const double row[3] = {n01(rng), 10 + n01(rng), static_cast<double>(i % 4)};
    sample.add(row, 3);
  }
  anomaly::TrainOptions o;
  o.forest.n_trees = 20;
  o.threads = 1;
  const Payload p = anomaly::train_anomaly_payload(sample, o, {"a", "b", "c"});
  const AnomalyProfile profile = AnomalyProfile::from_json(p.meta.at("profile"), 3);
  ASSERT_EQ(profile.features.size(), 3u);
  EXPECT_EQ(profile.features[0].count, 3000u);
  EXPECT_NEAR(profile.features[1].min, 10 - 3.5, 1.0);
  EXPECT_EQ(profile.features[2].max, 3.0);
  EXPECT_EQ(profile.scores.count, 3000u);
  EXPECT_TRUE(profile.time_column.empty());
  EXPECT_THROW(AnomalyProfile::from_json(p.meta.at("profile"), 2), CorruptPayload);
  nlohmann::json with_time = p.meta.at("profile");
  with_time["time_column"] = "ts";
  EXPECT_EQ(AnomalyProfile::from_json(with_time, 3).time_column, "ts");
  with_time["time_column"] = 5;
  EXPECT_THROW(AnomalyProfile::from_json(with_time, 3), CorruptPayload);
}

}  // namespace
}  // namespace insight::profile
