#include <gtest/gtest.h>

#include <vector>

#include "core/anomaly/anomaly_model.hpp"
#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace insight::anomaly {
namespace {

Reservoir sample_of(size_t n, size_t d, uint64_t seed) {
  Reservoir r(100000, seed);
  Rng rng(seed);
  std::vector<double> row(d);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) row[j] = 100.0 * j + 5.0 * (rng.uniform() - 0.5);
    r.add(row.data(), d);
  }
  return r;
}

TEST(AnomalyModel, TrainLoadAndScore) {
  const auto sample = sample_of(3000, 3, 1);
  TrainOptions options;
  options.contamination = 0.1;
  const Payload p = train_anomaly_payload(sample, options, {"a", "b", "c"});
  const auto bytes = encode_payload(p);
  const ModelPtr m = load_model(bytes.data(), bytes.size());
  ASSERT_EQ(m->algorithm(), Algorithm::IsolationForest);
  ASSERT_EQ(m->task(), Task::Anomaly);
  const auto& am = dynamic_cast<const AnomalyModel&>(*m);
  EXPECT_EQ(am.n_features(), 3u);
  EXPECT_EQ(am.feature_names(), (std::vector<std::string>{"a", "b", "c"}));
  // The threshold is the 90th percentile of the training scores: about 10% lie above it.
  size_t above = 0;
  for (size_t i = 0; i < sample.size(); ++i) above += am.score(sample.row(i)) > am.threshold();
  EXPECT_NEAR(static_cast<double>(above) / sample.size(), 0.1, 0.01);
  const double outlier[3] = {0.0, 300.0, 100.0};
  EXPECT_GT(am.score(outlier), am.threshold());
  double contrib[3];
  EXPECT_DOUBLE_EQ(am.score(outlier, contrib), am.score(outlier));
  EXPECT_EQ(p.meta.at("metrics").at("rows_seen").get<uint64_t>(), 3000u);
}

TEST(AnomalyModel, StandardizationDoesNotChangeRanking) {
  // Isolation Forest is invariant to per-feature affine maps: with and without the robust
  // scaler the scores of the same points are equal up to rounding (same seed, same splits).
  const auto sample = sample_of(2000, 2, 2);
  TrainOptions with, without;
  without.standardize = false;
  const auto a = encode_payload(train_anomaly_payload(sample, with, {}));
  const auto b = encode_payload(train_anomaly_payload(sample, without, {}));
  const auto ma = load_model(a.data(), a.size());
  const auto mb = load_model(b.data(), b.size());
  const auto& A = dynamic_cast<const AnomalyModel&>(*ma);
  const auto& B = dynamic_cast<const AnomalyModel&>(*mb);
  for (size_t i = 0; i < 200; ++i)
    EXPECT_NEAR(A.score(sample.row(i)), B.score(sample.row(i)), 1e-9);
}

TEST(AnomalyModel, BadOptionsAndTooFewRows) {
  const auto sample = sample_of(100, 2, 3);
  TrainOptions o;
  o.contamination = 0.0;
  EXPECT_THROW(train_anomaly_payload(sample, o, {}), InvalidParameter);
  o.contamination = 0.51;
  EXPECT_THROW(train_anomaly_payload(sample, o, {}), InvalidParameter);
  o.contamination = 0.05;
  EXPECT_THROW(train_anomaly_payload(sample, o, {"only_one_name"}), InvalidParameter);
  Reservoir one(10, 1);
  const double row[2] = {1, 2};
  one.add(row, 2);
  one.skip();
  try {
    train_anomaly_payload(one, o, {});
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_NE(std::string(e.detail()).find("1 usable rows found (1 skipped"), std::string::npos)
        << e.detail();
  }
}

TEST(AnomalyModel, InconsistentMetadataIsCorrupt) {
  const auto sample = sample_of(500, 2, 4);
  Payload p = train_anomaly_payload(sample, TrainOptions{}, {"x", "y"});
  auto reload = [](Payload q) {
    const auto bytes = encode_payload(q);
    return load_model(bytes.data(), bytes.size());
  };
  EXPECT_NO_THROW(reload(p));
  Payload q = p;
  q.meta.erase("threshold");
  EXPECT_THROW(reload(q), CorruptPayload);
  q = p;
  q.meta["n_features"] = 3;
  EXPECT_THROW(reload(q), CorruptPayload);
  q = p;
  q.meta["scaler"]["iqr"] = {1.0, 0.0};
  EXPECT_THROW(reload(q), CorruptPayload);
  q = p;
  q.meta["features"] = {"x"};
  EXPECT_THROW(reload(q), CorruptPayload);
  q = p;
  q.task = Task::Forecast;
  EXPECT_THROW(reload(q), CorruptPayload);
  q = p;
  q.body.pop_back();
  EXPECT_THROW(reload(q), CorruptPayload);
}

}  // namespace
}  // namespace insight::anomaly

namespace insight::anomaly {
namespace {

TEST(AnomalyModel, ExtremeValuesTrainAModelThatLoadsAndScores) {
  Reservoir r(1000, 1);
  for (int i = 0; i < 300; ++i) {
    const double row[2] = {i % 3 == 0 ? 1.7e308 : -1.6e308, static_cast<double>(i % 11)};
    r.add(row, 2);
  }
  const auto bytes = encode_payload(train_anomaly_payload(r, TrainOptions{}, {"a", "b"}));
  const auto m = load_model(bytes.data(), bytes.size());
  const auto& am = dynamic_cast<const AnomalyModel&>(*m);
  const double x[2] = {1.79e308, 3};
  const double s = am.score(x);
  EXPECT_GT(s, 0.0);
  EXPECT_LE(s, 1.0);
}

}  // namespace
}  // namespace insight::anomaly
