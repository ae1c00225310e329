// Rolling-origin backtests, model choice, prediction intervals and honest evaluation
// (issue 4, items 3-5).
// For fold k of `folds`, a learner is trained on the series up to n - (folds - k)·horizon days
// and forecasts the next `horizon` days; the errors of all folds give its MAE, RMSE, sMAPE and
// MASE. 'auto' takes the learner with the lowest MASE among those with enough history.
// Intervals at `confidence` come from the backtest residuals (actual − forecast): for step h,
// split-conformal quantiles of every fold's residuals at steps 1..h (at least 20 of them),
// never narrower than step h − 1's — so they widen with the step.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/forecast/covariates.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {

// The shortest series 'auto' accepts: a season and a week more (14 days, 31 hours, 59 weeks,
// 19 months); below it, even the seasonal-naive fallback has no residuals to size its
// intervals with.
inline size_t min_fallback_history(const Frequency& f) noexcept {
  return static_cast<size_t>(f.season()) + 7;
}

// The largest magnitude of a daily value the learners take: they square, sum and smooth
// values, and gradient boosting works in float; within ±1e15 every step stays finite (a
// larger value once gave infinite splits, a refused XGBoost label, and models whose own
// loader rejected their state). Daily sums beyond it, or not finite, are an InvalidParameter.
constexpr double kMaxSeriesValue = 1e15;
inline bool series_value_ok(double v) noexcept { return std::abs(v) <= kMaxSeriesValue; }

// Range checks shared by training, forecasting and evaluation: InvalidParameter naming the
// argument and its allowed range.
void check_horizon(int horizon);
void check_folds(int folds);
void check_confidence(double confidence);

// Trains `learner` on series (period first onwards) and forecasts `horizon` periods. With
// covariates (rows from the series' first period, through the horizon), on the series less
// their effects, fitted on the series first (covariates.hpp), which the forecast gets back.
// Every function below that takes covariates treats them so; nullptr = none.
std::vector<double> fit_and_forecast(Learner learner, const SeriesStart& first,
                                     const std::vector<double>& series, int horizon,
                                     const InterruptCheck& check = {},
                                     const Covariates* covariates = nullptr);

struct BacktestScore {
  Learner learner = Learner::SeasonalNaive;
  double mae = 0, rmse = 0, smape = 0, mase = 0;
  // residuals[h][k]: actual − forecast at step h + 1 of fold k
  std::vector<std::vector<double>> residuals;
  // predicted[k]: the forecast of fold k (what a combination averages)
  std::vector<std::vector<double>> predicted;
};

// Throws InvalidParameter when the series is too short for `folds` folds of `horizon` days
// on top of the learner's minimum history.
BacktestScore backtest(Learner learner, const SeriesStart& first, const std::vector<double>& series,
                       int horizon, int folds, const InterruptCheck& check = {},
                       const Covariates* covariates = nullptr);

// The mean of member forecasts continuing `train`, with the combination's output rule.
std::vector<double> combine_forecasts(const std::vector<std::vector<double>>& forecasts,
                                      const Frequency& frequency,
                                      const std::vector<double>& train);
// An average's backtest (`average`: Combination or BestPair) from its members' backtests of the
// same series, horizon and folds — the mean of their fold forecasts, without fitting anything
// again. For the combination, equal to backtest(Learner::Combination, ...) up to rounding.
BacktestScore combine_backtests(const std::vector<const BacktestScore*>& members,
                                Learner average, const Frequency& frequency,
                                const std::vector<double>& series, int horizon, int folds);

// Seasonal naive's h-step errors inside the history itself (y_t − y_{t − m·ceil(h/m)}, m the
// season): the residuals of the fallback for series too short to backtest.
std::vector<std::vector<double>> seasonal_naive_residuals(const std::vector<double>& series,
                                                          int horizon, int season);

// Interval bounds around `value` from per-step residuals (residuals[s] = errors at step s+1):
// split-conformal quantiles of the residuals of steps 1..s+1 (extended to later steps until at
// least kMinPooledResiduals are pooled), never narrower than the step before; steps beyond the
// residuals' horizon H widen the last band by sqrt(step / H).
constexpr size_t kMinPooledResiduals = 20;
// How many leading steps of `residuals` the band of step `step` (0-based) pools: steps
// 1..step+1, and further steps until at least kMinPooledResiduals errors are pooled (at most
// all of them). The one pooling rule of prediction_interval and of the normal bands of
// detect_series_anomalies (series_anomaly.cpp).
size_t pooled_steps(const std::vector<std::vector<double>>& residuals, size_t step);
void prediction_interval(const std::vector<double>& value,
                         const std::vector<std::vector<double>>& residuals, double confidence,
                         std::vector<double>& lower, std::vector<double>& upper);

struct Forecast {
  Learner learner = Learner::SeasonalNaive;
  bool fallback = false;                 // 'auto' on a series too short to backtest: seasonal naive
  std::unique_ptr<FittedLearner> model;  // trained on the whole series (less `effects`)
  Effects effects;                       // of the covariates, if any
  // Empty when covariates were given but do not reach the horizon (training: future regressor
  // values are not known yet).
  std::vector<double> value, lower, upper;
  std::vector<BacktestScore> candidates;  // every learner backtested ('auto'), or just one
  // Residuals the intervals come from: the chosen candidate's, or the fallback's.
  const std::vector<std::vector<double>>& residuals() const;

 private:
  friend Forecast forecast(std::optional<Learner>, const SeriesStart&, const std::vector<double>&,
                           int, int, double, const InterruptCheck&, const Covariates*);
  std::vector<std::vector<double>> fallback_residuals_;
};

// learner empty = 'auto': every learner with the history is backtested, and the forecast is
// the best pair — the mean of the two single learners with the lowest backtest MASE (the only
// one, when only one has the history). A series too short to backtest any learner falls back
// to seasonal naive (at least min_fallback_history() periods); an explicit learner needs
// min_history(learner) + folds·horizon periods.
Forecast forecast(std::optional<Learner> learner, const SeriesStart& first,
                  const std::vector<double>& series, int horizon, int folds, double confidence,
                  const InterruptCheck& check = {}, const Covariates* covariates = nullptr);

// Accumulates one learner's out-of-sample errors over folds and series.
struct EvaluationScore {
  std::string algorithm;                                        // a learner name or "auto"
  size_t series = 0;                                            // series it was evaluated on
  double mae = 0, rmse = 0, smape = 0, mase = 0, coverage = 0;  // means over those series
};

// Honest evaluation: for each outer fold, the whole procedure (the 'auto' choice included,
// with its own inner backtest on the training part only) is rerun, and its forecast and
// interval are scored on the next `horizon` days. With 'auto', every candidate learner is
// scored on the same outer folds too. Series shorter than the outer folds plus what the
// procedure needs are skipped (counted in skipped).
struct Evaluation {
  std::vector<EvaluationScore> scores;
  size_t skipped = 0;
};
class Evaluator {
 public:
  Evaluator(std::optional<Learner> learner, int horizon, int folds, double confidence);
  // Adds one series; thread-compatible only (call from one thread, or merge evaluators).
  void add(const SeriesStart& first, const std::vector<double>& series,
           const InterruptCheck& check = {}, const Covariates* covariates = nullptr);
  void merge(const Evaluator& other);
  Evaluation result() const;

 private:
  struct Sums {
    size_t series = 0;
    double mae = 0, rmse = 0, smape = 0, mase = 0, coverage = 0;
  };
  std::optional<Learner> learner_;
  int horizon_, folds_;
  double confidence_;
  std::vector<Sums> sums_;  // index 0 = the procedure ('auto' or the learner), then candidates
  size_t skipped_ = 0;
};

}  // namespace insight::forecast
