// Rolling-origin backtests, model choice and prediction intervals (issue 4, items 3-5).
// For fold k of `folds`, a learner is trained on the series up to n - (folds - k)·horizon days
// and forecasts the next `horizon` days; the errors of all folds give its MAE, RMSE, sMAPE and
// MASE. 'auto' takes the learner with the lowest MASE among those with enough history.
// Intervals at `confidence` come from the backtest residuals (actual − forecast): for step h,
// the empirical quantiles of every fold's residuals at steps 1..h, never narrower than step
// h − 1's — so they widen with the step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/interrupt.hpp"

namespace insight::forecast {

enum class Learner { SeasonalNaive, HoltWinters, Linear };

std::string_view learner_name(Learner l) noexcept;
std::optional<Learner> learner_from_name(std::string_view name) noexcept;
// Days of history the learner needs to be trained.
size_t min_history(Learner l) noexcept;
// Every learner, in order of preference when MASE ties.
const std::vector<Learner>& all_learners();

// Trains `learner` on series (day first_day onwards) and forecasts `horizon` days.
std::vector<double> fit_and_forecast(Learner learner, int64_t first_day,
                                     const std::vector<double>& series, int horizon);

struct BacktestScore {
  Learner learner;
  double mae = 0, rmse = 0, smape = 0, mase = 0;
  // residuals[h][k]: actual − forecast at step h + 1 of fold k
  std::vector<std::vector<double>> residuals;
};

// Throws InvalidParameter when the series is too short for `folds` folds of `horizon` days
// on top of the learner's minimum history.
BacktestScore backtest(Learner learner, int64_t first_day, const std::vector<double>& series,
                       int horizon, int folds, const InterruptCheck& check = {});

struct Forecast {
  Learner learner;
  std::vector<double> value, lower, upper;
  std::vector<BacktestScore> candidates;  // every learner backtested ('auto'), or just one
};

// learner empty = 'auto'. confidence in (0, 1). With 'auto', a series too short for every
// learner but seasonal naive falls back to seasonal naive.
Forecast forecast(std::optional<Learner> learner, int64_t first_day,
                  const std::vector<double>& series, int horizon, int folds, double confidence,
                  const InterruptCheck& check = {});

}  // namespace insight::forecast
