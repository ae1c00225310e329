#include "core/anomaly/metrics.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "core/common/error.hpp"

namespace insight::anomaly {

DetectionMetrics detection_metrics(const std::vector<double>& scores,
                                   const std::vector<bool>& labels, double threshold) {
  DetectionMetrics m;
  m.rows = scores.size();
  m.positives = static_cast<size_t>(std::count(labels.begin(), labels.end(), true));
  const size_t negatives = m.rows - m.positives;
  if (m.positives == 0 || negatives == 0)
    throw InvalidParameter("the labels must contain both anomalies and normal rows",
                           std::to_string(m.positives) + " anomalies and " +
                               std::to_string(negatives) + " normal rows found");

  // Descending by score; equal scores form one threshold step.
  std::vector<size_t> order(m.rows);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double tp = 0, fp = 0, prev_tp = 0, prev_fp = 0, auc = 0, ap = 0;
  const auto P = static_cast<double>(m.positives), N = static_cast<double>(negatives);
  for (size_t i = 0; i < m.rows;) {
    size_t j = i;
    while (j < m.rows && scores[order[j]] == scores[order[i]]) {
      (labels[order[j]] ? tp : fp) += 1;
      ++j;
    }
    auc += (fp - prev_fp) * (tp + prev_tp) / 2.0;  // trapezoid: ties count one half
    ap += (tp - prev_tp) / P * (tp / (tp + fp));   // recall step × precision
    prev_tp = tp;
    prev_fp = fp;
    i = j;
  }
  m.roc_auc = auc / (P * N);
  m.pr_auc = ap;

  double tp_t = 0, fp_t = 0;
  for (size_t i = 0; i < m.rows; ++i) {
    if (scores[i] > threshold) (labels[i] ? tp_t : fp_t) += 1;
  }
  m.precision = tp_t + fp_t > 0 ? tp_t / (tp_t + fp_t) : 0.0;
  m.recall = tp_t / P;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  return m;
}

}  // namespace insight::anomaly
