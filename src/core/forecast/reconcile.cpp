#include "core/forecast/reconcile.hpp"

#include <algorithm>
#include <cmath>

#include "core/common/error.hpp"
#include "core/forecast/metrics.hpp"

namespace insight::forecast {

std::string_view reconciliation_name(Reconciliation r) noexcept {
  return r == Reconciliation::BottomUp ? "bottom_up" : "wls";
}

std::vector<double> error_variances(const std::vector<std::vector<double>>& residuals,
                                    size_t steps) {
  constexpr double kFloor = 1e-12;
  std::vector<double> out(steps, kFloor);
  double last = kFloor;
  for (size_t s = 0; s < steps; ++s) {
    if (s < residuals.size() && !residuals[s].empty()) {
      double sq = 0;
      for (double e : residuals[s]) sq += e * e;
      last = std::max(kFloor, sq / static_cast<double>(residuals[s].size()));
    }
    out[s] = last;
  }
  return out;
}

std::vector<std::vector<double>> reconcile(Reconciliation method,
                                           const std::vector<std::vector<double>>& groups,
                                           const std::vector<double>& total,
                                           const std::vector<std::vector<double>>& group_variance,
                                           const std::vector<double>& total_variance,
                                           bool non_negative) {
  std::vector<std::vector<double>> out = groups;
  if (method == Reconciliation::BottomUp || groups.empty()) return out;
  const size_t steps = total.size();
  if (group_variance.size() != groups.size() || total_variance.size() < steps)
    throw InternalError("reconciliation inputs do not match");
  std::vector<bool> held(groups.size());
  for (size_t s = 0; s < steps; ++s) {
    std::fill(held.begin(), held.end(), false);
    // Active groups share the difference between the total and everything; a group pushed
    // below 0 is held there and the rest share again (at most one round per group).
    for (size_t round = 0; round <= groups.size(); ++round) {
      double sum = 0, weight = total_variance[s];
      for (size_t g = 0; g < groups.size(); ++g) {
        if (held[g]) continue;
        sum += groups[g][s];
        weight += group_variance[g][s];
      }
      // WLS: b̃ = b + v_g / (v_0 + Σ v) · (t − Σ b): the total moves by v_0's share too.
      const double gap = total[s] - sum;
      bool again = false;
      for (size_t g = 0; g < groups.size(); ++g) {
        if (held[g]) {
          out[g][s] = 0;
          continue;
        }
        out[g][s] = groups[g][s] + group_variance[g][s] / weight * gap;
        if (non_negative && out[g][s] < 0) {
          held[g] = true;
          again = true;
        }
      }
      if (!again) break;
    }
  }
  return out;
}

namespace {
// The residuals without fold k's (all of them when they are one fold's).
Residuals without_fold(const Residuals& residuals, size_t k) {
  Residuals out(residuals.size());
  for (size_t s = 0; s < residuals.size(); ++s)
    for (size_t f = 0; f < residuals[s].size(); ++f)
      if (f != k || residuals[s].size() == 1) out[s].push_back(residuals[s][f]);
  return out;
}
}  // namespace

std::vector<ReconciliationScore> score_reconciliations(
    const std::vector<std::vector<Fold>>& groups, const std::vector<Fold>& total,
    const std::vector<Residuals>& group_residuals, const Residuals& total_residuals,
    bool non_negative) {
  std::vector<ReconciliationScore> out;
  for (Reconciliation method : {Reconciliation::BottomUp, Reconciliation::Wls}) {
    double total_sum = 0, group_sum = 0;
    for (size_t k = 0; k < total.size(); ++k) {
      const size_t steps = total[k].forecast.size();
      std::vector<std::vector<double>> base, group_variance;
      for (size_t g = 0; g < groups.size(); ++g) {
        base.push_back(groups[g].at(k).forecast);
        group_variance.push_back(error_variances(without_fold(group_residuals[g], k), steps));
      }
      const auto r =
          reconcile(method, base, total[k].forecast, group_variance,
                    error_variances(without_fold(total_residuals, k), steps), non_negative);
      std::vector<double> sum(total[k].actual.size(), 0.0);
      double groups_mase = 0;
      for (size_t g = 0; g < groups.size(); ++g) {
        groups_mase += mase(groups[g][k].actual, r[g], groups[g][k].scale);
        for (size_t s = 0; s < sum.size(); ++s) sum[s] += r[g][s];
      }
      total_sum += mase(total[k].actual, sum, total[k].scale);
      group_sum += groups.empty() ? 0 : groups_mase / static_cast<double>(groups.size());
    }
    const auto folds = static_cast<double>(std::max<size_t>(total.size(), 1));
    out.push_back({method, total_sum / folds, group_sum / folds});
  }
  return out;
}

}  // namespace insight::forecast
