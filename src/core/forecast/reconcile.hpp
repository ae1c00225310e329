// Coherent forecasts of a grouped model (issue 16, item 5): group forecasts that add up to the
// forecast of their total. A grouped model also fits the total series (the sum of its groups);
// forecast(..., reconcile => true) then returns group forecasts reconciled with it:
//   bottom_up  the groups' own forecasts: their sum is the total (the total's forecast unused);
//   wls        the MinT estimator with a diagonal covariance (Wickramasuriya, Athanasopoulos &
//              Hyndman 2019, "WLS var"): the difference between the total's forecast and the
//              groups' sum is shared out in proportion to each forecast's error variance at
//              that step (the total's included), so the series forecast worst move most.
// Which one a model uses is measured at training on the backtest folds (the mean of the total's
// MASE and the groups' mean MASE under each), and kept in the payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace insight::forecast {

enum class Reconciliation : uint8_t { BottomUp = 0, Wls = 1 };
std::string_view reconciliation_name(Reconciliation r) noexcept;

// Per step 0 .. steps-1, the mean squared backtest error (residuals[s] = errors at step s+1;
// steps beyond them take the last step's), never below a tiny positive floor.
std::vector<double> error_variances(const std::vector<std::vector<double>>& residuals,
                                    size_t steps);

// Group forecasts (groups × steps) reconciled with the total's forecast (steps), given each
// one's error variance per step. With non_negative, no reconciled forecast is below 0: a group
// that would be is held at 0 and the others share what is left (coherence then holds unless
// every group is at 0 and the total below).
std::vector<std::vector<double>> reconcile(Reconciliation method,
                                           const std::vector<std::vector<double>>& groups,
                                           const std::vector<double>& total,
                                           const std::vector<std::vector<double>>& group_variance,
                                           const std::vector<double>& total_variance,
                                           bool non_negative);

// The measured choice: per method, the mean of the total's MASE and the groups' mean MASE over
// the folds. groups[g][k] / total[k]: fold k's base forecast, the values it forecast and the
// MASE scale of its training part. The WLS weights of fold k come from the other folds' errors
// (residuals[step][fold], as backtests keep them; all of them with a single fold), so no fold
// is reconciled with weights its own errors sized.
struct ReconciliationScore {
  Reconciliation method;
  double total_mase, group_mase;
  double score() const noexcept { return (total_mase + group_mase) / 2; }
};
struct Fold {
  std::vector<double> forecast, actual;
  double scale = 1;
};
using Residuals = std::vector<std::vector<double>>;
std::vector<ReconciliationScore> score_reconciliations(
    const std::vector<std::vector<Fold>>& groups, const std::vector<Fold>& total,
    const std::vector<Residuals>& group_residuals, const Residuals& total_residuals,
    bool non_negative);

}  // namespace insight::forecast
