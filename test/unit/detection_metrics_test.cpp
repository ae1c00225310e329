#include <gtest/gtest.h>

#include "core/anomaly/metrics.hpp"
#include "core/common/error.hpp"

namespace insight::anomaly {
namespace {

TEST(DetectionMetrics, PerfectAndInvertedRankings) {
  const std::vector<double> s{0.9, 0.8, 0.2, 0.1};
  auto m = detection_metrics(s, {true, true, false, false}, 0.5);
  EXPECT_DOUBLE_EQ(m.roc_auc, 1.0);
  EXPECT_DOUBLE_EQ(m.pr_auc, 1.0);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.f1, 1.0);
  m = detection_metrics(s, {false, false, true, true}, 0.5);
  EXPECT_DOUBLE_EQ(m.roc_auc, 0.0);
  EXPECT_DOUBLE_EQ(m.recall, 0.0);
}

TEST(DetectionMetrics, MatchesHandComputedValues) {
  // scores: 0.9(+) 0.8(-) 0.7(+) 0.6(-) 0.5(-), threshold 0.65 flags the first three.
  const std::vector<double> s{0.9, 0.8, 0.7, 0.6, 0.5};
  const std::vector<bool> y{true, false, true, false, false};
  const auto m = detection_metrics(s, y, 0.65);
  // ROC AUC: positive pairs ranked above negatives: 0.9 beats 3, 0.7 beats 2 → 5/6.
  EXPECT_NEAR(m.roc_auc, 5.0 / 6.0, 1e-12);
  // AP = 0.5·1 + 0.5·(2/3) (sklearn.metrics.average_precision_score gives 0.8333...).
  EXPECT_NEAR(m.pr_auc, 0.5 + 0.5 * 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.precision, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.recall, 1.0, 1e-12);
  EXPECT_NEAR(m.f1, 0.8, 1e-12);
  EXPECT_EQ(m.rows, 5u);
  EXPECT_EQ(m.positives, 2u);
}

TEST(DetectionMetrics, TiesCountHalf) {
  const auto m = detection_metrics({0.5, 0.5}, {true, false}, 0.9);
  EXPECT_DOUBLE_EQ(m.roc_auc, 0.5);
  EXPECT_DOUBLE_EQ(m.pr_auc, 0.5);
  EXPECT_DOUBLE_EQ(m.precision, 0.0);  // nothing above the threshold
  EXPECT_DOUBLE_EQ(m.f1, 0.0);
}

TEST(DetectionMetrics, NeedsBothClasses) {
  EXPECT_THROW(detection_metrics({0.1, 0.2}, {true, true}, 0.5), InvalidParameter);
  EXPECT_THROW(detection_metrics({0.1, 0.2}, {false, false}, 0.5), InvalidParameter);
}

}  // namespace
}  // namespace insight::anomaly
