// Detection metrics for insight.evaluate_anomaly_detector, with scikit-learn's definitions:
// ROC AUC (ties count one half), average precision (PR AUC as a step function over distinct
// thresholds), and precision / recall / F1 of "score > threshold".
#pragma once

#include <cstddef>
#include <vector>

namespace insight::anomaly {

struct DetectionMetrics {
  double roc_auc = 0, pr_auc = 0, precision = 0, recall = 0, f1 = 0;
  size_t rows = 0, positives = 0;
};

// scores and labels have the same length; labels true = anomaly. Throws InvalidParameter
// unless both classes are present.
DetectionMetrics detection_metrics(const std::vector<double>& scores,
                                   const std::vector<bool>& labels, double threshold);

}  // namespace insight::anomaly
