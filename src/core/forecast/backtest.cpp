#include "core/forecast/backtest.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/error.hpp"
#include "core/common/stats.hpp"
#include "core/forecast/metrics.hpp"
#include "core/forecast/smoothing.hpp"

namespace insight::forecast {

void check_horizon(int horizon) {
  if (horizon < 1 || horizon > 366)
    throw InvalidParameter("horizon must be between 1 and 366", "got " + std::to_string(horizon));
}

void check_folds(int folds) {
  if (folds < 1 || folds > 52)
    throw InvalidParameter("folds must be between 1 and 52", "got " + std::to_string(folds));
}

void check_confidence(double confidence) {
  if (!(confidence > 0 && confidence < 1))
    throw InvalidParameter("confidence must be between 0 and 1, exclusive",
                           "got " + format_number(confidence));
}

std::vector<double> fit_and_forecast(Learner learner, const SeriesStart& first,
                                     const std::vector<double>& series, int horizon,
                                     const InterruptCheck& check, const Covariates* covariates) {
  if (!covariates) return fit_learner(learner, first, series, check)->forecast(horizon);
  const Effects effects = Effects::fit(series, *covariates, first.frequency.season());
  std::vector<double> f =
      fit_learner(learner, first, effects.remove(series, *covariates), check)->forecast(horizon);
  effects.add(f, *covariates, series.size());
  return f;
}

namespace {
// Scores `predict(fold, train)` on each fold: fold k trains on the series up to
// n − (folds − k)·horizon periods and is scored on the next horizon periods.
template <class Predict>
BacktestScore score_folds(Learner learner, int season, const std::vector<double>& series,
                          int horizon, int folds, const InterruptCheck& check,
                          Predict&& predict) {
  const auto h = static_cast<size_t>(horizon), k = static_cast<size_t>(folds);
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
    std::vector<double> predicted = predict(fold, train);
    for (size_t s = 0; s < h; ++s) score.residuals[s].push_back(actual[s] - predicted[s]);
    mase_sum += mase(actual, predicted, mase_scale(train, season));
    all_actual.insert(all_actual.end(), actual.begin(), actual.end());
    all_forecast.insert(all_forecast.end(), predicted.begin(), predicted.end());
    score.predicted.push_back(std::move(predicted));
  }
  score.mae = mae(all_actual, all_forecast);
  score.rmse = rmse(all_actual, all_forecast);
  score.smape = smape(all_actual, all_forecast);
  score.mase = mase_sum / static_cast<double>(k);
  return score;
}
}  // namespace

BacktestScore backtest(Learner learner, const SeriesStart& first, const std::vector<double>& series,
                       int horizon, int folds, const InterruptCheck& check,
                       const Covariates* covariates) {
  check_horizon(horizon);
  check_folds(folds);
  const auto h = static_cast<size_t>(horizon), k = static_cast<size_t>(folds);
  const size_t needed = min_history(learner, first.frequency) + h * k;
  const std::string periods = first.frequency.period_noun() + "s";
  if (series.size() < needed)
    throw InvalidParameter(
        "the series is too short to backtest " + std::string(learner_name(learner)),
        std::to_string(series.size()) + " " + periods + " found, " + std::to_string(needed) +
            " needed (" + std::to_string(min_history(learner, first.frequency)) +
            " to train, then " + std::to_string(folds) + " folds of " + std::to_string(horizon) +
            " " + periods + ")",
        "Use a shorter horizon, or algorithm => 'auto', which falls back to seasonal_naive.");
  return score_folds(learner, first.frequency.season(), series, horizon, folds, check,
                     [&](size_t, const std::vector<double>& train) {
                       return fit_and_forecast(learner, first, train, horizon, check, covariates);
                     });
}

std::vector<double> combine_forecasts(const std::vector<std::vector<double>>& forecasts,
                                      const Frequency& frequency,
                                      const std::vector<double>& train) {
  std::vector<double> mean = mean_forecast(forecasts);
  apply_output_rule(Learner::Combination, frequency, train, mean);
  return mean;
}

BacktestScore combine_backtests(const std::vector<const BacktestScore*>& members,
                                Learner average, const Frequency& frequency,
                                const std::vector<double>& series, int horizon, int folds) {
  for (const BacktestScore* m : members)
    if (m->predicted.size() != static_cast<size_t>(folds))
      throw InternalError("combining backtests of different folds");
  return score_folds(average, frequency.season(), series, horizon, folds, {},
                     [&](size_t fold, const std::vector<double>& train) {
                       std::vector<std::vector<double>> f;
                       for (const BacktestScore* m : members) f.push_back(m->predicted[fold]);
                       return combine_forecasts(f, frequency, train);
                     });
}

std::vector<std::vector<double>> seasonal_naive_residuals(const std::vector<double>& series,
                                                          int horizon, int season) {
  std::vector<std::vector<double>> out(static_cast<size_t>(std::max(horizon, 0)));
  const auto m = static_cast<size_t>(season);
  for (size_t s = 0; s < out.size(); ++s) {
    const size_t lag = m * ((s / m) + 1);
    for (size_t t = lag; t < series.size(); ++t) out[s].push_back(series[t] - series[t - lag]);
  }
  return out;
}

size_t pooled_steps(const std::vector<std::vector<double>>& residuals, size_t step) {
  size_t n = 0, pooled = 0;
  while (n < residuals.size() && (n <= step || pooled < kMinPooledResiduals))
    pooled += residuals[n++].size();
  return n;
}

void prediction_interval(const std::vector<double>& value,
                         const std::vector<std::vector<double>>& residuals, double confidence,
                         std::vector<double>& lower, std::vector<double>& upper) {
  check_confidence(confidence);
  const double lo_q = (1 - confidence) / 2, hi_q = 1 - lo_q;
  lower.assign(value.size(), 0);
  upper.assign(value.size(), 0);
  std::vector<double> pooled;
  size_t next_step = 0;   // residuals[0 .. next_step) are pooled
  double lo = 0, hi = 0;  // offsets from the point forecast: lo <= 0 <= hi
  size_t last = 0;        // the step the last band was computed for (1-based)
  for (size_t s = 0; s < value.size(); ++s) {
    if (s < residuals.size()) {
      // Three folds give only three errors at step 1, too few to place a 90 % band.
      for (const size_t n = pooled_steps(residuals, s); next_step < n; ++next_step)
        pooled.insert(pooled.end(), residuals[next_step].begin(), residuals[next_step].end());
      if (!pooled.empty()) {
        lo = std::min(lo, conformal_quantile_lower(pooled, lo_q));
        hi = std::max(hi, conformal_quantile(pooled, hi_q));
        last = s + 1;
      }
      lower[s] = value[s] + lo;
      upper[s] = value[s] + hi;
    } else {  // beyond the backtested horizon: grow like a random walk's spread
      const double widen = last > 0 ? std::sqrt(static_cast<double>(s + 1) / last) : 1.0;
      lower[s] = value[s] + lo * widen;
      upper[s] = value[s] + hi * widen;
    }
  }
}

const std::vector<std::vector<double>>& Forecast::residuals() const {
  if (fallback) return fallback_residuals_;
  for (const auto& c : candidates)
    if (c.learner == learner) return c.residuals;
  throw InternalError("forecast has no residuals for its learner");
}

Forecast forecast(std::optional<Learner> learner, const SeriesStart& first,
                  const std::vector<double>& series, int horizon, int folds, double confidence,
                  const InterruptCheck& check, const Covariates* covariates) {
  const Frequency& frequency = first.frequency;
  check_horizon(horizon);
  check_folds(folds);
  check_confidence(confidence);
  Forecast out;
  // The final model is fitted on the series less the covariates' effects (the backtests fit
  // theirs per fold).
  std::vector<double> adjusted;
  if (covariates) {
    out.effects = Effects::fit(series, *covariates, frequency.season());
    adjusted = out.effects.remove(series, *covariates);
  }
  const std::vector<double>& fit_on = covariates ? adjusted : series;
  if (learner) {
    out.candidates.push_back(
        backtest(*learner, first, series, horizon, folds, check, covariates));
  } else {
    for (Learner l : all_learners()) {
      if (series.size() < min_history(l, frequency) + static_cast<size_t>(horizon) * folds)
        continue;
      if (l == Learner::Combination) {  // from the members' backtests: nothing fitted again
        std::vector<const BacktestScore*> members;
        for (Learner m : combination_members())
          for (const BacktestScore& c : out.candidates)
            if (c.learner == m) members.push_back(&c);
        if (members.size() == combination_members().size())
          out.candidates.push_back(combine_backtests(members, Learner::Combination, frequency,
                                                     series, horizon, folds));
        continue;
      }
      out.candidates.push_back(backtest(l, first, series, horizon, folds, check, covariates));
    }
  }
  if (out.candidates.empty()) {  // 'auto' on a series too short to backtest anything
    if (series.size() < min_fallback_history(frequency))
      throw InvalidParameter("the series is too short to forecast",
                             std::to_string(series.size()) + " " + frequency.period_noun() +
                                 "s found, at least " +
                                 std::to_string(min_fallback_history(frequency)) + " needed");
    out.fallback = true;
    out.learner = Learner::SeasonalNaive;
    out.fallback_residuals_ = seasonal_naive_residuals(series, horizon, frequency.season());
  } else if (learner) {
    out.learner = *learner;
  } else {
    // The two single learners with the lowest backtest MASE (ties: the order of
    // all_learners()), averaged: the lowest of several noisy scores is optimistic, and the
    // mean of the best two hedges against it.
    std::vector<const BacktestScore*> singles;
    for (const BacktestScore& c : out.candidates)
      if (!is_average(c.learner)) singles.push_back(&c);
    std::stable_sort(singles.begin(), singles.end(),
                     [](const BacktestScore* a, const BacktestScore* b) { return a->mase < b->mase; });
    if (singles.size() == 1) {
      out.learner = singles[0]->learner;
    } else {
      const Learner a = singles[0]->learner, b = singles[1]->learner;
      // Scored before it joins the candidates: `singles` points into them.
      BacktestScore pair = combine_backtests({singles[0], singles[1]}, Learner::BestPair,
                                             frequency, series, horizon, folds);
      out.candidates.push_back(std::move(pair));
      out.learner = Learner::BestPair;
      poll(check);
      out.model = fit_pair(a, b, first, fit_on, check);
    }
  }
  poll(check);
  if (!out.model) out.model = fit_learner(out.learner, first, fit_on, check);
  if (covariates && covariates->rows() < series.size() + static_cast<size_t>(horizon))
    return out;  // no future covariates: no forecast to make
  out.value = out.model->forecast(horizon);
  if (covariates) out.effects.add(out.value, *covariates, series.size());
  prediction_interval(out.value, out.residuals(), confidence, out.lower, out.upper);
  return out;
}

// ---- evaluation ----

Evaluator::Evaluator(std::optional<Learner> learner, int horizon, int folds, double confidence)
    : learner_(learner), horizon_(horizon), folds_(folds), confidence_(confidence) {
  check_horizon(horizon);
  check_folds(folds);
  check_confidence(confidence);
  sums_.resize(1 + (learner ? 0 : all_learners().size()));
}

namespace {
// One learner's errors on one series, over the outer folds.
struct SeriesErrors {
  std::vector<double> actual, predicted;
  double mase_sum = 0;
  size_t covered = 0, folds = 0;
  void add(const std::vector<double>& a, const std::vector<double>& p,
           const std::vector<double>& lo, const std::vector<double>& hi, double scale) {
    actual.insert(actual.end(), a.begin(), a.end());
    predicted.insert(predicted.end(), p.begin(), p.end());
    mase_sum += mase(a, p, scale);
    for (size_t i = 0; i < a.size(); ++i) covered += (a[i] >= lo[i] && a[i] <= hi[i]) ? 1 : 0;
    ++folds;
  }
};
}  // namespace

void Evaluator::add(const SeriesStart& first, const std::vector<double>& series,
                    const InterruptCheck& check, const Covariates* covariates) {
  const Frequency& frequency = first.frequency;
  for (double v : series)
    if (!series_value_ok(v))
      throw InvalidParameter("a " + frequency.adjective() + " sum is not finite or beyond ±1e15",
                             "got " + format_number(v),
                             "Evaluate in a coarser unit (thousands, millions), or filter the "
                             "outliers in a view.");
  const auto h = static_cast<size_t>(horizon_), k = static_cast<size_t>(folds_);
  const size_t inner =
      learner_ ? min_history(*learner_, frequency) + h * k : min_fallback_history(frequency);
  if (series.size() < inner + h * k) {
    ++skipped_;
    return;
  }
  const std::vector<Learner>& learners = all_learners();
  std::vector<SeriesErrors> errors(sums_.size());
  const size_t first_train = series.size() - h * k;
  for (size_t fold = 0; fold < k; ++fold) {
    poll(check);
    const size_t cut = first_train + fold * h;
    const std::vector<double> train(series.begin(), series.begin() + static_cast<long>(cut));
    const std::vector<double> actual(series.begin() + static_cast<long>(cut),
                                     series.begin() + static_cast<long>(cut + h));
    const double scale = mase_scale(train, frequency.season());
    const Forecast f =
        forecast(learner_, first, train, horizon_, folds_, confidence_, check, covariates);
    errors[0].add(actual, f.value, f.lower, f.upper, scale);
    if (learner_) continue;
    std::vector<std::vector<double>> fold_forecasts(learners.size());
    for (size_t i = 0; i < learners.size(); ++i) {
      const Learner l = learners[i];
      // Scored only where it was a candidate on every fold, so every fold has its interval.
      if (first_train < min_history(l, frequency) + h * k) continue;
      const auto cand = std::find_if(f.candidates.begin(), f.candidates.end(),
                                     [&](const BacktestScore& c) { return c.learner == l; });
      if (cand == f.candidates.end()) throw InternalError("candidate missing from backtest");
      std::vector<double> predicted;
      if (l == f.learner && !f.fallback) {
        predicted = f.value;
      } else if (l == Learner::Combination) {  // the members' forecasts, already made above
        std::vector<std::vector<double>> members;
        for (Learner m : combination_members()) {
          const size_t j = static_cast<size_t>(std::find(learners.begin(), learners.end(), m) -
                                               learners.begin());
          if (j >= learners.size() || fold_forecasts[j].empty())
            throw InternalError("combination member not forecast");
          members.push_back(fold_forecasts[j]);
        }
        predicted = combine_forecasts(members, frequency, train);
      } else {
        predicted = fit_and_forecast(l, first, train, horizon_, check, covariates);
      }
      fold_forecasts[i] = predicted;
      std::vector<double> lo, hi;
      prediction_interval(predicted, cand->residuals, confidence_, lo, hi);
      errors[i + 1].add(actual, predicted, lo, hi, scale);
    }
  }
  for (size_t i = 0; i < errors.size(); ++i) {
    const SeriesErrors& e = errors[i];
    if (e.folds == 0) continue;
    Sums& s = sums_[i];
    ++s.series;
    s.mae += mae(e.actual, e.predicted);
    s.rmse += rmse(e.actual, e.predicted);
    s.smape += smape(e.actual, e.predicted);
    s.mase += e.mase_sum / static_cast<double>(e.folds);
    s.coverage += static_cast<double>(e.covered) / static_cast<double>(e.actual.size());
  }
}

void Evaluator::merge(const Evaluator& other) {
  if (other.sums_.size() != sums_.size()) throw InternalError("merging unlike evaluators");
  for (size_t i = 0; i < sums_.size(); ++i) {
    sums_[i].series += other.sums_[i].series;
    sums_[i].mae += other.sums_[i].mae;
    sums_[i].rmse += other.sums_[i].rmse;
    sums_[i].smape += other.sums_[i].smape;
    sums_[i].mase += other.sums_[i].mase;
    sums_[i].coverage += other.sums_[i].coverage;
  }
  skipped_ += other.skipped_;
}

Evaluation Evaluator::result() const {
  Evaluation out;
  out.skipped = skipped_;
  for (size_t i = 0; i < sums_.size(); ++i) {
    const Sums& s = sums_[i];
    EvaluationScore e;
    e.algorithm = i == 0 ? (learner_ ? std::string(learner_name(*learner_)) : "auto")
                         : std::string(learner_name(all_learners()[i - 1]));
    e.series = s.series;
    if (s.series > 0) {
      const auto n = static_cast<double>(s.series);
      e.mae = s.mae / n;
      e.rmse = s.rmse / n;
      e.smape = s.smape / n;
      e.mase = s.mase / n;
      e.coverage = s.coverage / n;
    }
    out.scores.push_back(e);
  }
  return out;
}

}  // namespace insight::forecast
