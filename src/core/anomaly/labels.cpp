// See labels.hpp.
#include "core/anomaly/labels.hpp"

#include <algorithm>
#include <utility>

#include "core/anomaly/anomaly_model.hpp"
#include "core/common/error.hpp"

namespace insight::anomaly {

LabelledThreshold threshold_from_labels(double base, double cap,
                                        const std::vector<LabelledRow>& rows) {
  LabelledThreshold out;
  out.threshold = base;
  cap = std::max(cap, base);
  // The rows a raise can take out, (base, cap], ascending; equal scores move together.
  std::vector<LabelledRow> movable;
  for (const LabelledRow& r : rows) {
    (r.is_anomaly ? out.fault_rows : out.false_positive_rows) += 1;
    if (r.score > base && r.score <= cap) movable.push_back(r);
  }
  std::sort(movable.begin(), movable.end(),
            [](const LabelledRow& a, const LabelledRow& b) { return a.score < b.score; });
  double fp = 0, fault = 0, best_gain = 0;
  for (size_t i = 0; i < movable.size();) {
    const double s = movable[i].score;
    bool has_fp = false;
    for (; i < movable.size() && movable[i].score == s; ++i) {
      (movable[i].is_anomaly ? fault : fp) += movable[i].weight;
      has_fp = has_fp || !movable[i].is_anomaly;
    }
    // Only a false positive's score is a candidate: between them nothing more is gained.
    if (has_fp && fp - fault > best_gain) {
      best_gain = fp - fault;
      out.threshold = s;
      out.false_positive_weight_removed = fp;
      out.fault_weight_removed = fault;
    }
  }
  for (const LabelledRow& r : rows)
    if (!r.is_anomaly && r.score > out.threshold) ++out.false_positive_rows_above;
  return out;
}

LabelledThreshold apply_labels(Payload& payload, const std::vector<double>& rows,
                               const std::vector<bool>& is_anomaly,
                               const std::vector<double>& weights) {
  const ModelPtr held = load_anomaly_model(Payload(payload));
  const auto& model = static_cast<const AnomalyModel&>(*held);
  const size_t d = model.n_features(), n = is_anomaly.size();
  if (rows.size() != n * d || weights.size() != n)
    throw InvalidParameter("labelled rows do not match the model's features");
  std::vector<LabelledRow> labelled(n);
  for (size_t i = 0; i < n; ++i)
    labelled[i] = {model.score(&rows[i * d]), is_anomaly[i], weights[i]};
  nlohmann::json& metrics = payload.meta["metrics"];
  const double base = model.threshold();
  const double cap = metrics.value("threshold_cap", base);
  const LabelledThreshold t = threshold_from_labels(base, cap, labelled);
  payload.meta["threshold"] = t.threshold;
  metrics["threshold"] = t.threshold;
  metrics["threshold_contamination"] = base;
  metrics["labels"] = {{"false_positive_rows", t.false_positive_rows},
                       {"fault_rows", t.fault_rows},
                       {"false_positive_rows_above", t.false_positive_rows_above},
                       {"false_positive_alerts_removed", t.false_positive_weight_removed},
                       {"fault_alerts_removed", t.fault_weight_removed}};
  return t;
}

}  // namespace insight::anomaly
