#include "core/forecast/series_anomaly.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/common/stats.hpp"
#include "core/forecast/backtest.hpp"

namespace insight::forecast {
namespace {

// The folds of the backtest that chooses each block's learner (as train_forecaster's default).
constexpr int kFolds = 3;

void check_periods(int periods, const char* what, const Frequency& f) {
  if (periods < 1 || periods > 366)
    throw InvalidParameter(std::string(what) + " must be between 1 and 366 " + f.period_noun() + "s",
                           "got " + std::to_string(periods));
}

// Half-widths of the normal band at `confidence` per step: z times the root mean square of
// the backtest residuals the step's conformal band pools (pooled_steps). The conformal band of
// a few dozen residuals cannot place a 99 % level (it is their largest value, about a 95th
// percentile); a point is judged against the wider of the two bands.
std::vector<double> normal_half_widths(const std::vector<std::vector<double>>& residuals,
                                       size_t steps, double confidence) {
  const double z = normal_quantile((1 + confidence) / 2);
  std::vector<double> half(steps, 0.0);
  double sum_sq = 0, last = 0;
  size_t pooled = 0, next = 0;
  for (size_t s = 0; s < steps; ++s) {
    for (const size_t n = pooled_steps(residuals, s); next < n; ++next) {
      for (double r : residuals[next]) sum_sq += r * r;
      pooled += residuals[next].size();
    }
    if (pooled > 0) last = z * std::sqrt(sum_sq / static_cast<double>(pooled));
    half[s] = last;
  }
  return half;
}

}  // namespace

double anomaly_score(double value, double expected, double lower, double upper) noexcept {
  const double bound = value >= expected ? upper : lower;
  const double floor = 1e-9 * std::max(1.0, std::abs(expected));
  return std::abs(value - expected) / std::max(std::abs(bound - expected), floor);
}

int default_block(const Frequency& f) noexcept {
  switch (f.unit()) {
    case FrequencyUnit::Day:
      return 7;
    case FrequencyUnit::Week:
      return 4;
    case FrequencyUnit::Month:
      return 3;
    case FrequencyUnit::Step:
      break;
  }
  return std::min(f.steps_per_day(), 366);
}

Judgement judge_recent(const std::vector<SeriesData>& series, const JudgeOptions& options,
                       const InterruptCheck& check) {
  const Frequency& frequency = options.frequency;
  const std::string periods = frequency.period_noun() + "s";
  check_periods(options.window, "the window", frequency);
  check_periods(options.block, "the block", frequency);
  check_confidence(options.confidence);
  const size_t history = min_fallback_history(frequency);
  check_series_values(series, options.grouped, frequency);
  const auto window = static_cast<size_t>(options.window);
  const auto block = static_cast<size_t>(options.block);
  std::vector<std::optional<JudgedSeries>> judged(series.size());
  parallel_for(
      series.size(), options.threads,
      [&](size_t i, const InterruptCheck& poll_worker) {
        const SeriesData& s = series[i];
        const size_t n = s.values.size();
        if (n < window + history) return;  // skipped
        JudgedSeries out{s.key, {}};
        for (size_t start = n - window; start < n; start += block) {
          const size_t len = std::min(block, n - start);
          const std::vector<double> before(s.values.begin(),
                                           s.values.begin() + static_cast<long>(start));
          const bool explicit_learner =
              options.learner &&
              before.size() >= min_history(*options.learner, frequency) + len * kFolds;
          const Forecast f = forecast(explicit_learner ? options.learner : std::nullopt,
                                      SeriesStart(frequency, s.first_period), before,
                                      static_cast<int>(len), kFolds, options.confidence,
                                      poll_worker);
          const std::vector<double> half =
              normal_half_widths(f.residuals(), len, options.confidence);
          for (size_t h = 0; h < len; ++h) {
            const double v = s.values[start + h], e = f.value[h];
            const double lo = std::min(f.lower[h], e - half[h]);
            const double hi = std::max(f.upper[h], e + half[h]);
            out.points.push_back(JudgedPoint{s.first_period + static_cast<int64_t>(start + h), v,
                                             e, lo, hi, anomaly_score(v, e, lo, hi),
                                             v < lo || v > hi});
          }
        }
        judged[i] = std::move(out);
      },
      check);
  Judgement result;
  size_t longest = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    longest = std::max(longest, series[i].values.size());
    if (judged[i])
      result.series.push_back(std::move(*judged[i]));
    else
      ++result.skipped;
  }
  if (result.series.empty())
    throw InvalidParameter(
        "every series is too short to judge its last " + std::to_string(window) + " " + periods,
        std::to_string(series.size()) + " series, the longest of " + std::to_string(longest) +
            " " + periods + "; " + std::to_string(window + history) + " needed (" +
            std::to_string(history) + " " + periods + " of history before the window)");
  return result;
}

}  // namespace insight::forecast
