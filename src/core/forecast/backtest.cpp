#include "core/forecast/backtest.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/common/stats.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/metrics.hpp"
#include "core/forecast/ridge.hpp"
#include "core/forecast/smoothing.hpp"

namespace insight::forecast {
namespace {

constexpr std::array<std::pair<Learner, std::string_view>, 3> kLearners{{
    {Learner::SeasonalNaive, "seasonal_naive"},
    {Learner::HoltWinters, "holt_winters"},
    {Learner::Linear, "linear"},
}};

void check_horizon(int horizon, int folds) {
  if (horizon < 1 || horizon > 366)
    throw InvalidParameter("horizon must be between 1 and 366", "got " + std::to_string(horizon));
  if (folds < 1 || folds > 52)
    throw InvalidParameter("folds must be between 1 and 52", "got " + std::to_string(folds));
}

}  // namespace

std::string_view learner_name(Learner l) noexcept {
  for (const auto& [learner, name] : kLearners)
    if (learner == l) return name;
  return "unknown";
}

std::optional<Learner> learner_from_name(std::string_view name) noexcept {
  for (const auto& [learner, n] : kLearners)
    if (n == name) return learner;
  return std::nullopt;
}

const std::vector<Learner>& all_learners() {
  static const std::vector<Learner> all{Learner::SeasonalNaive, Learner::HoltWinters,
                                        Learner::Linear};
  return all;
}

size_t min_history(Learner l) noexcept {
  switch (l) {
    case Learner::SeasonalNaive:
      return kWeek;
    case Learner::HoltWinters:
      return 2 * kWeek;
    case Learner::Linear:
      return kFeatureWarmup + RidgeForecaster::kMinTrainingRows;
  }
  return 0;
}

std::vector<double> fit_and_forecast(Learner learner, int64_t first_day,
                                     const std::vector<double>& series, int horizon) {
  switch (learner) {
    case Learner::SeasonalNaive: {
      SeasonalNaive m;
      m.fit(series);
      return m.forecast(horizon);
    }
    case Learner::HoltWinters: {
      HoltWinters m;
      m.fit(series);
      return m.forecast(horizon);
    }
    case Learner::Linear: {
      RidgeForecaster m;
      m.fit(first_day, series);
      return m.forecast(horizon);
    }
  }
  throw InternalError("unknown learner");
}

BacktestScore backtest(Learner learner, int64_t first_day, const std::vector<double>& series,
                       int horizon, int folds, const InterruptCheck& check) {
  check_horizon(horizon, folds);
  const auto h = static_cast<size_t>(horizon), k = static_cast<size_t>(folds);
  const size_t needed = min_history(learner) + h * k;
  if (series.size() < needed)
    throw InvalidParameter(
        "the series is too short to backtest " + std::string(learner_name(learner)),
        std::to_string(series.size()) + " days found, " + std::to_string(needed) + " needed (" +
            std::to_string(min_history(learner)) + " to train, then " + std::to_string(folds) +
            " folds of " + std::to_string(horizon) + " days)");
  BacktestScore score;
  score.learner = learner;
  score.residuals.assign(h, std::vector<double>());
  std::vector<double> all_actual, all_forecast;
  double mase_sum = 0;
  for (size_t fold = 0; fold < k; ++fold) {
    poll(check);
    const size_t cut = series.size() - (k - fold) * h;
    const std::vector<double> train(series.begin(), series.begin() + static_cast<long>(cut));
    const std::vector<double> actual(series.begin() + static_cast<long>(cut),
                                     series.begin() + static_cast<long>(cut + h));
    const auto predicted = fit_and_forecast(learner, first_day, train, horizon);
    for (size_t s = 0; s < h; ++s) score.residuals[s].push_back(actual[s] - predicted[s]);
    mase_sum += mase(actual, predicted, mase_scale(train));
    all_actual.insert(all_actual.end(), actual.begin(), actual.end());
    all_forecast.insert(all_forecast.end(), predicted.begin(), predicted.end());
  }
  score.mae = mae(all_actual, all_forecast);
  score.rmse = rmse(all_actual, all_forecast);
  score.smape = smape(all_actual, all_forecast);
  score.mase = mase_sum / static_cast<double>(k);
  return score;
}

Forecast forecast(std::optional<Learner> learner, int64_t first_day,
                  const std::vector<double>& series, int horizon, int folds, double confidence,
                  const InterruptCheck& check) {
  check_horizon(horizon, folds);
  if (!(confidence > 0 && confidence < 1))
    throw InvalidParameter("confidence must be in (0, 1)", "got " + format_number(confidence));
  Forecast out;
  if (learner) {
    out.candidates.push_back(backtest(*learner, first_day, series, horizon, folds, check));
  } else {
    for (Learner l : all_learners()) {
      if (series.size() < min_history(l) + static_cast<size_t>(horizon * folds)) continue;
      out.candidates.push_back(backtest(l, first_day, series, horizon, folds, check));
    }
    if (out.candidates.empty())  // too short for any backtest: report seasonal naive's need
      out.candidates.push_back(
          backtest(Learner::SeasonalNaive, first_day, series, horizon, folds, check));
  }
  const auto best = std::min_element(
      out.candidates.begin(), out.candidates.end(),
      [](const BacktestScore& a, const BacktestScore& b) { return a.mase < b.mase; });
  out.learner = best->learner;
  out.value = fit_and_forecast(out.learner, first_day, series, horizon);
  const double lo_q = (1 - confidence) / 2, hi_q = 1 - lo_q;
  std::vector<double> pooled;
  double lower = 0, upper = 0;
  for (size_t s = 0; s < out.value.size(); ++s) {
    pooled.insert(pooled.end(), best->residuals[s].begin(), best->residuals[s].end());
    lower = std::min(s == 0 ? 0.0 : lower, quantile(pooled, lo_q));
    upper = std::max(s == 0 ? 0.0 : upper, quantile(pooled, hi_q));
    out.lower.push_back(out.value[s] + std::min(lower, 0.0));
    out.upper.push_back(out.value[s] + std::max(upper, 0.0));
  }
  return out;
}

}  // namespace insight::forecast
