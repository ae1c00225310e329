// The forecasting learners behind one interface: train on a series of one frequency, continue
// it for `horizon` periods, and write/read the fitted state for a model payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/binary_io_fwd.hpp"
#include "core/common/interrupt.hpp"
#include "core/forecast/frequency.hpp"
#include "core/model/algorithm.hpp"

namespace insight::forecast {

// The number is stored in payloads: append only.
enum class Learner : uint8_t {
  SeasonalNaive = 0,
  HoltWinters = 1,
  Linear = 2,
  RandomForest = 3,
  GradientBoosting = 4,
  // The mean of the members' forecasts (combination_members()): forecast combination, which
  // is usually more accurate than any single choice (Bates & Granger 1969; the M4 competition).
  Combination = 5,
  // The Theta method (Assimakopoulos & Nikolopoulos 2000; Hyndman & Billah 2003): simple
  // exponential smoothing with drift, half the slope of the linear trend, on the series
  // deseasonalised by classical decomposition when its season is significant: the M4
  // competition's strong benchmark, for trending series that trees cannot extrapolate.
  Theta = 6,
  // What 'auto' builds (not a choice of its own): the mean of the two single learners with the
  // lowest backtest MASE of the series (its members are in the payload). Averaging the best two
  // hedges against the optimism of choosing the single lowest of several noisy scores.
  BestPair = 7,
};

// The learners a combination averages, and the average itself (step by step; non-empty input
// of equal lengths).
const std::vector<Learner>& combination_members();
// True for the learners that average others (combination, best_pair).
inline bool is_average(Learner l) noexcept {
  return l == Learner::Combination || l == Learner::BestPair;
}
// A best pair of two distinct single learners, fitted on the series (period first onwards).
std::unique_ptr<class FittedLearner> fit_pair(Learner a, Learner b, const SeriesStart& first,
                                              const std::vector<double>& series,
                                              const InterruptCheck& check = {});
std::vector<double> mean_forecast(const std::vector<std::vector<double>>& forecasts);
// What every learner but seasonal naive does to its raw forecast (see learners.cpp): clip a
// never-negative series at 0 and forecast 0 on periods of the season (weekdays of a daily
// series, hours of an hourly one) whose recent median is 0. `train` is the series the forecast
// continues.
void apply_output_rule(Learner learner, const Frequency& frequency,
                       const std::vector<double>& train, std::vector<double>& forecast);

// The payload's algorithm tag of a learner; its name is the learner's name in SQL.
Algorithm learner_algorithm(Learner l) noexcept;
std::string_view learner_name(Learner l) noexcept;
std::optional<Learner> learner_from_name(std::string_view name) noexcept;
std::optional<Learner> learner_from_tag(uint8_t tag) noexcept;
// Periods of history the learner needs to be trained.
size_t min_history(Learner l, const Frequency& f = Frequency::day()) noexcept;
// Every learner one can ask for by name, in order of preference when MASE ties (best_pair,
// which 'auto' builds, is not one of them).
const std::vector<Learner>& all_learners();
// "seasonal_naive, holt_winters, ..." for error messages.
std::string learner_names();

// InvalidParameter unless `series` holds at least `needed` periods, all finite (`learner` names
// the learner in the message).
void require_history(const std::vector<double>& series, size_t needed, const char* learner);

// A forecast taken apart (explain_forecast): named components, each with one value per step,
// that add up to the forecast at every step. Which components depend on the learner:
//   seasonal_naive  level (the last season's mean), seasonality;
//   holt_winters, theta  level, trend, seasonality;
//   linear, random_forest, gradient_boosting  level (the model at a reference point: the
//       history's mean for every lag and rolling statistic, the calendar averaged over a long
//       season) and the exact Shapley values of the three feature groups — calendar, lags,
//       rolling — moving it from there to the step's features;
//   combination, best_pair  the mean of the members' components;
// and every learner: adjustment, what the output rules changed (clipping at 0, the zero rule)
// and, for the feature-based learners, what the recursion's bound held back (features.hpp).
struct Component {
  std::string name;
  std::vector<double> values;  // per step
};
using Explanation = std::vector<Component>;
// Adds `values` to the component `name` (appending it when new), scaled by `weight`.
void add_component(Explanation& e, const std::string& name, const std::vector<double>& values,
                   double weight = 1.0);
// Adds (to "adjustment") what the components lack of `forecast`, when anything: what an output
// rule changed after them.
void add_adjustment(Explanation& e, const std::vector<double>& forecast);

class FittedLearner {
 public:
  virtual ~FittedLearner() = default;
  virtual Learner learner() const noexcept = 0;
  // The forecast's components (see Explanation); they sum to forecast(horizon).
  virtual Explanation explain(int horizon) const = 0;
  // The `horizon` periods after the training series, recursively.
  virtual std::vector<double> forecast(int horizon) const = 0;
  virtual void write(BinaryWriter& w) const = 0;
};

// Trains `learner` on series (period first onwards). InvalidParameter if it is too short.
// `check` runs between units of work, on the calling thread.
std::unique_ptr<FittedLearner> fit_learner(Learner learner, const SeriesStart& first,
                                           const std::vector<double>& series,
                                           const InterruptCheck& check = {});
// CorruptPayload if the state is inconsistent (or not of this frequency's seasons and features).
std::unique_ptr<FittedLearner> read_learner(Learner learner, BinaryReader& r,
                                            const Frequency& frequency);

}  // namespace insight::forecast
