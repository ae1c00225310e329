// The threshold a retraining chooses from the operators' labels (insight.alert_labels): the
// flagged rows of alerts resolved as false positives and as fixed faults, scored by the new
// forest. Each labelled row weighs 1 / (rows of its alert), so every alert counts once
// however long it lasted. Starting from the contamination's threshold, the threshold may rise
// to a labelled false positive's score when that takes more false-positive weight out of the
// flagged side than fault weight: the best such score wins, ties go to the lower one, and it
// never rises above `cap` (the training sample's score quantile that keeps half the
// contamination flagged), so labels cannot switch the detector off.
#pragma once

#include <cstddef>
#include <vector>

#include "core/model/payload.hpp"

namespace insight::anomaly {

struct LabelledRow {
  double score = 0;         // by the new model
  bool is_anomaly = false;  // false = a false positive's row, true = a fixed fault's row
  double weight = 1;        // 1 / rows of its alert
};

struct LabelledThreshold {
  double threshold = 0;  // what to store: base, or a labelled false positive's score
  double false_positive_weight_removed = 0;  // alerts' worth taken out of the flagged side
  double fault_weight_removed = 0;
  size_t false_positive_rows = 0, fault_rows = 0;  // labelled rows seen
  size_t false_positive_rows_above = 0;            // still above the chosen threshold
  bool raised() const { return false_positive_weight_removed > 0; }
};

// base: the contamination's threshold; cap: the highest it may go (below base means base).
LabelledThreshold threshold_from_labels(double base, double cap,
                                        const std::vector<LabelledRow>& rows);

// A freshly trained anomaly payload (train_anomaly_payload) and the labelled rows (n × the
// model's features, raw values; labels and weights as in LabelledRow): scores the rows with
// the payload's forest, chooses the threshold above (capped by the payload's
// metrics.threshold_cap) and writes it into the payload's threshold, keeping the
// contamination's as metrics.threshold_contamination and what the labels did as
// metrics.labels. Throws CorruptPayload for a payload that is not an anomaly detector.
LabelledThreshold apply_labels(Payload& payload, const std::vector<double>& rows,
                               const std::vector<bool>& is_anomaly,
                               const std::vector<double>& weights);

}  // namespace insight::anomaly
