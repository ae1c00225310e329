#include <gtest/gtest.h>

#include <vector>

#include "core/anomaly/anomaly_model.hpp"
#include "core/anomaly/labels.hpp"
#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace insight::anomaly {
namespace {

LabelledRow fp(double s, double w = 1) { return {s, false, w}; }
LabelledRow fault(double s, double w = 1) { return {s, true, w}; }

TEST(LabelThreshold, NoLabelsKeepsTheContaminationThreshold) {
  const auto t = threshold_from_labels(0.6, 0.7, {});
  EXPECT_DOUBLE_EQ(t.threshold, 0.6);
  EXPECT_FALSE(t.raised());
}

TEST(LabelThreshold, RisesToTheHighestFalsePositiveWhenNoFaultIsInTheWay) {
  const auto t = threshold_from_labels(0.6, 0.7, {fp(0.61), fp(0.65), fault(0.69), fault(0.8)});
  EXPECT_DOUBLE_EQ(t.threshold, 0.65);  // strictly above it stays flagged: 0.65 itself does not
  EXPECT_DOUBLE_EQ(t.false_positive_weight_removed, 2);
  EXPECT_DOUBLE_EQ(t.fault_weight_removed, 0);
  EXPECT_EQ(t.false_positive_rows, 2u);
  EXPECT_EQ(t.fault_rows, 2u);
  EXPECT_EQ(t.false_positive_rows_above, 0u);
}

TEST(LabelThreshold, StopsWhereFaultsWouldWeighMore) {
  // Above 0.62 lie three fault alerts' rows before the next false positive: not worth it.
  const auto t = threshold_from_labels(
      0.6, 0.7, {fp(0.61), fp(0.62), fault(0.63), fault(0.64), fault(0.645), fp(0.65), fault(0.9)});
  EXPECT_DOUBLE_EQ(t.threshold, 0.62);
  EXPECT_EQ(t.false_positive_rows_above, 1u);
}

TEST(LabelThreshold, WeightsCountAlertsNotRows) {
  // One false alarm of one row against a long fault whose 10 rows weigh 1/10 each: the one
  // fault row below 0.63 costs 0.1, the false alarm 1.
  std::vector<LabelledRow> rows{fp(0.63, 1.0), fault(0.62, 0.1)};
  for (int i = 0; i < 9; ++i) rows.push_back(fault(0.7 + 0.01 * i, 0.1));
  const auto t = threshold_from_labels(0.6, 0.7, rows);
  EXPECT_DOUBLE_EQ(t.threshold, 0.63);
  EXPECT_NEAR(t.fault_weight_removed, 0.1, 1e-12);
}

TEST(LabelThreshold, NeverAboveTheCap) {
  const auto t = threshold_from_labels(0.6, 0.64, {fp(0.62), fp(0.66), fp(0.7)});
  EXPECT_DOUBLE_EQ(t.threshold, 0.62);
  EXPECT_EQ(t.false_positive_rows_above, 2u);
  // A cap below the base is the base: labels never lower the threshold.
  EXPECT_DOUBLE_EQ(threshold_from_labels(0.6, 0.5, {fp(0.62)}).threshold, 0.6);
  EXPECT_DOUBLE_EQ(threshold_from_labels(0.6, 0.7, {fp(0.55)}).threshold, 0.6);
}

TEST(LabelThreshold, EqualScoresMoveTogetherAndTiesGoLow) {
  // A false positive and a fault of the same score: raising to it gains nothing.
  EXPECT_DOUBLE_EQ(threshold_from_labels(0.6, 0.7, {fp(0.62), fault(0.62)}).threshold, 0.6);
  // Gain 1 at 0.61 and again 1 at 0.63 (after a fault at 0.62): the lower one.
  EXPECT_DOUBLE_EQ(threshold_from_labels(0.6, 0.7, {fp(0.61), fault(0.62), fp(0.63)}).threshold,
                   0.61);
}

// The payload path: a trained detector, rows a little outside the training cloud labelled as
// false positives, and an outlier labelled as a fault. The stored threshold rises to the
// highest false positive's score (within the cap), the outlier stays flagged, and what the
// labels did is in the metrics; without labels the threshold is the contamination's.
TEST(LabelThreshold, ApplyLabelsRewritesThePayloadsThreshold) {
  Reservoir sample(100000, 3);
  Rng rng(3);
  for (int i = 0; i < 4000; ++i) {
    const double row[2] = {rng.uniform(), rng.uniform()};
    sample.add(row, 2);
  }
  TrainOptions options;
  options.contamination = 0.02;
  Payload p = train_anomaly_payload(sample, options, {"a", "b"});
  const double base = p.meta.at("threshold").get<double>();
  const double cap = p.meta.at("metrics").at("threshold_cap").get<double>();
  ASSERT_GT(cap, base);

  // Points along the square's right edge and beyond: those scoring in (base, cap].
  const ModelPtr held = load_anomaly_model(Payload(p));
  const auto& model = static_cast<const AnomalyModel&>(*held);
  std::vector<double> rows;
  std::vector<bool> labels;
  double highest = base;
  for (int i = 0; i <= 60; ++i)
    for (double y : {0.5, 0.99}) {
      const double x = 0.9 + 0.005 * i;
      const double s = model.score(std::vector<double>{x, y}.data());
      if (s > base && s <= cap) {
        rows.insert(rows.end(), {x, y});
        labels.push_back(false);
        highest = std::max(highest, s);
      }
    }
  ASSERT_GE(labels.size(), 2u);
  rows.insert(rows.end(), {5.0, 5.0});
  labels.push_back(true);
  const std::vector<double> weights(labels.size(), 1.0);

  const LabelledThreshold t = apply_labels(p, rows, labels, weights);
  EXPECT_DOUBLE_EQ(t.threshold, highest);
  EXPECT_DOUBLE_EQ(p.meta.at("threshold").get<double>(), highest);
  EXPECT_DOUBLE_EQ(p.meta.at("metrics").at("threshold").get<double>(), highest);
  EXPECT_DOUBLE_EQ(p.meta.at("metrics").at("threshold_contamination").get<double>(), base);
  EXPECT_EQ(p.meta.at("metrics").at("labels").at("false_positive_rows").get<size_t>(),
            labels.size() - 1);
  EXPECT_EQ(p.meta.at("metrics").at("labels").at("false_positive_rows_above").get<size_t>(), 0u);
  const ModelPtr relabelled = load_anomaly_model(Payload(p));
  const auto& m2 = static_cast<const AnomalyModel&>(*relabelled);
  EXPECT_DOUBLE_EQ(m2.threshold(), highest);
  EXPECT_GT(m2.score(std::vector<double>{5.0, 5.0}.data()), m2.threshold());

  // Rows that do not match the model's features are refused.
  EXPECT_THROW(apply_labels(p, {1.0}, {false}, {1.0}), InvalidParameter);
}

}  // namespace
}  // namespace insight::anomaly
