#include "core/forecast/forecast_model.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/metrics.hpp"
#include "core/forecast/reconcile.hpp"
#include "core/model/loader_registry.hpp"

namespace insight::forecast {
namespace {

constexpr size_t kMaxSeries = 10'000'000;
constexpr size_t kMaxResiduals = 52 * 366;  // folds × horizon at most

// The start of a period: "2026-05-31", or "2026-05-31 14:00" for a sub-daily one.
std::string iso_start(const Frequency& f, int64_t period) {
  const int64_t day = f.start_day(period);
  const CivilDate d = civil_from_days(day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  if (!f.sub_daily()) return buf;
  const int64_t minutes = (period - day * f.steps_per_day()) * f.step_seconds() / 60;
  char time[16];
  std::snprintf(time, sizeof time, " %02d:%02d", static_cast<int>(minutes / 60),
                static_cast<int>(minutes % 60));
  return std::string(buf) + time;
}

std::string series_label(const SeriesData& s, bool grouped) {
  return grouped ? "group \"" + s.key + "\"" : "the series";
}

nlohmann::json metrics_json(double mae, double rmse, double smape, double mase) {
  return {{"mae", mae}, {"rmse", rmse}, {"smape", smape}, {"mase", mase}};
}

void write_series(BinaryWriter& w, const SeriesFit& s, const CovariateSpec& spec) {
  w.str(s.key);
  w.i64(s.first_period);
  w.u32(s.periods);
  w.u8(static_cast<uint8_t>(s.learner));
  w.u8(s.fallback ? 1 : 0);
  s.model->write(w);
  w.u32(static_cast<uint32_t>(s.residuals.size()));
  for (const auto& r : s.residuals) w.f64_array(r);
  w.u8(static_cast<uint8_t>(s.candidates.size()));
  for (const CandidateMetrics& c : s.candidates) {
    w.u8(static_cast<uint8_t>(c.learner));
    w.f64(c.mae);
    w.f64(c.rmse);
    w.f64(c.smape);
    w.f64(c.mase);
  }
  if (!spec.empty()) s.effects.write(w);
}

SeriesFit read_series(BinaryReader& r, const Frequency& frequency, uint32_t horizon,
                      const CovariateSpec& spec, size_t& state_bytes) {
  SeriesFit s;
  s.key = r.str(1u << 16);
  s.first_period = r.i64();
  s.periods = r.u32();
  if (s.periods == 0 || !frequency.valid_period(s.first_period) ||
      !frequency.valid_period(s.first_period + static_cast<int64_t>(s.periods) + 366))
    throw CorruptPayload("forecast payload has an invalid date range");
  const auto learner = learner_from_tag(r.u8());
  if (!learner) throw CorruptPayload("forecast payload has an unknown learner");
  s.learner = *learner;
  const uint8_t fallback = r.u8();
  if (fallback > 1) throw CorruptPayload("forecast payload has an invalid flag");
  s.fallback = fallback == 1;
  const size_t before = r.remaining();
  s.model = read_learner(s.learner, r, frequency);
  state_bytes += before - r.remaining();
  const uint32_t steps = r.u32();
  if (steps != horizon) throw CorruptPayload("forecast payload residuals do not match the horizon");
  s.residuals.resize(steps);
  for (auto& step : s.residuals) {
    step = r.f64_array(kMaxResiduals);
    for (double v : step)
      if (!std::isfinite(v)) throw CorruptPayload("forecast payload residual is not finite");
  }
  const uint8_t candidates = r.u8();
  if (candidates > all_learners().size() + 1)  // and the best pair
    throw CorruptPayload("forecast payload has too many candidates");
  for (uint8_t c = 0; c < candidates; ++c) {
    const auto l = learner_from_tag(r.u8());
    if (!l) throw CorruptPayload("forecast payload has an unknown candidate");
    CandidateMetrics m{*l, r.f64(), r.f64(), r.f64(), r.f64()};
    s.candidates.push_back(m);
  }
  if (!spec.empty()) s.effects = Effects::read(r, spec.width());
  return s;
}

}  // namespace

void check_series_values(const std::vector<SeriesData>& series, bool grouped,
                         const Frequency& frequency) {
  for (const SeriesData& s : series) {
    if (!frequency.valid_period(s.first_period) ||
        !frequency.valid_period(s.first_period + static_cast<int64_t>(s.values.size()) + 366))
      throw InvalidParameter("dates must lie between 0001-01-01 and 9998-12-31");
    for (double v : s.values)
      if (!series_value_ok(v))
        throw InvalidParameter(
            "the " + frequency.adjective() + " sums of " + series_label(s, grouped) +
                " are not finite or beyond ±1e15",
            "got " + format_number(v),
            "Forecast in a coarser unit (thousands, millions), or filter "
            "the outliers in a view and train on the view.");
  }
}

Algorithm forecast_algorithm(std::optional<Learner> learner) noexcept {
  return learner ? learner_algorithm(*learner) : Algorithm::ForecastAuto;
}

bool is_forecast_algorithm(Algorithm a) noexcept {
  const auto tag = static_cast<uint16_t>(a);
  return tag >= 20 && tag <= 27;
}

ForecastModel::ForecastModel(Algorithm algorithm, nlohmann::json meta, Frequency frequency,
                             int horizon, int folds, bool grouped, std::vector<SeriesFit> series,
                             size_t state_bytes, CovariateSpec covariates)
    : Model(algorithm, Task::Forecast, std::move(meta)),
      frequency_(frequency),
      horizon_(horizon),
      folds_(folds),
      grouped_(grouped),
      series_(std::move(series)),
      covariates_(std::move(covariates)) {
  // In memory, tree nodes take 20 bytes for 16 serialized: state_bytes · 1.5 is an upper bound.
  bytes_ = sizeof(*this) + json_memory_bytes(this->meta()) + state_bytes + state_bytes / 2;
  for (const SeriesFit& s : series_) {
    bytes_ +=
        sizeof(SeriesFit) + s.key.capacity() + s.candidates.capacity() * sizeof(CandidateMetrics);
    for (const auto& r : s.residuals) bytes_ += sizeof(r) + r.capacity() * sizeof(double);
    bytes_ += 128 + 2 * sizeof(double) * covariates_.width();  // the learner, the effects
  }
  bytes_ += covariates_.holidays.days() * 16;
}

size_t ForecastModel::memory_bytes() const { return bytes_; }

const SeriesFit* ForecastModel::find(const std::string& key) const {
  if (!grouped_) return series_.empty() ? nullptr : &series_[0];
  const auto it =
      std::lower_bound(series_.begin(), series_.end(), key,
                       [](const SeriesFit& s, const std::string& k) { return s.key < k; });
  return it != series_.end() && it->key == key ? &*it : nullptr;
}

std::vector<double> ForecastModel::point_forecast(const SeriesFit& s, int horizon,
                                                  const std::vector<double>& future_regressors,
                                                  Covariates& future) const {
  check_horizon(horizon);
  std::vector<double> value = s.model->forecast(horizon);
  if (covariates_.empty()) return value;
  const size_t needed = static_cast<size_t>(horizon) * covariates_.regressors.size();
  if (future_regressors.size() != needed)
    throw InvalidParameter("the model needs the regressors' values of the " +
                           std::to_string(horizon) + " " + frequency_.period_noun() +
                           "s it forecasts");
  future = make_covariates(covariates_, SeriesStart(frequency_, s.next_period()),
                           static_cast<size_t>(horizon), future_regressors);
  s.effects.add(value, future, 0);
  return value;
}

std::vector<ForecastPoint> ForecastModel::forecast(const SeriesFit& s, int horizon,
                                                   double confidence,
                                                   const std::vector<double>& future_regressors) const {
  check_confidence(confidence);
  Covariates future;
  const std::vector<double> value = point_forecast(s, horizon, future_regressors, future);
  std::vector<double> lower, upper;
  prediction_interval(value, s.residuals, confidence, lower, upper);
  std::vector<ForecastPoint> out(value.size());
  for (size_t h = 0; h < value.size(); ++h)
    out[h] =
        ForecastPoint{s.next_period() + static_cast<int64_t>(h), value[h], lower[h], upper[h]};
  return out;
}

Explanation ForecastModel::explain(const SeriesFit& s, int horizon,
                                   const std::vector<double>& future_regressors) const {
  Covariates future;
  const std::vector<double> value = point_forecast(s, horizon, future_regressors, future);
  Explanation e = s.model->explain(horizon);
  if (covariates_.empty()) return e;
  const auto steps = static_cast<size_t>(horizon);
  for (const Component& c : s.effects.components(covariates_, future, 0, steps))
    add_component(e, c.name, c.values);
  add_adjustment(e, value);  // clipping the sum at 0 again (a never-negative series)
  return e;
}

void ForecastModel::set_total(SeriesFit total, Reconciliation method, bool non_negative) {
  if (!grouped_) throw InternalError("an ungrouped model has no total");
  total_ = std::move(total);
  for (const auto& r : total_->residuals) bytes_ += sizeof(r) + r.capacity() * sizeof(double);
  bytes_ += sizeof(SeriesFit) + 128;
  reconciliation_ = method;
  non_negative_ = non_negative;
}

std::vector<std::vector<ForecastPoint>> ForecastModel::forecast_reconciled(
    int horizon, double confidence,
    const std::vector<std::vector<double>>& future_regressors) const {
  if (!total_)
    throw InvalidParameter("the model has no total to reconcile with",
                           "Grouped models trained before version 0.3 have none, nor those whose "
                           "groups add up beyond ±1e15.",
                           "Retrain it (in a coarser unit, if its sums are that large).");
  if (future_regressors.size() != series_.size())
    throw InternalError("future regressors do not match the series");
  const size_t r = covariates_.regressors.size(), steps = static_cast<size_t>(horizon);
  std::vector<double> total_regressors(steps * r, 0.0);
  for (const auto& f : future_regressors)
    for (size_t i = 0; i < f.size() && i < total_regressors.size(); ++i)
      total_regressors[i] += f[i] / static_cast<double>(series_.size());
  std::vector<std::vector<ForecastPoint>> base;
  std::vector<std::vector<double>> values, variances;
  for (size_t i = 0; i < series_.size(); ++i) {
    base.push_back(forecast(series_[i], horizon, confidence, future_regressors[i]));
    values.emplace_back();
    for (const ForecastPoint& p : base.back()) values.back().push_back(p.value);
    variances.push_back(error_variances(series_[i].residuals, steps));
  }
  std::vector<double> total;
  for (const ForecastPoint& p : forecast(*total_, horizon, confidence, total_regressors))
    total.push_back(p.value);
  const auto reconciled =
      reconcile(reconciliation_, values, total, variances,
                error_variances(total_->residuals, steps), non_negative_);
  for (size_t i = 0; i < base.size(); ++i)
    for (size_t h = 0; h < steps; ++h) {
      const double shift = reconciled[i][h] - base[i][h].value;
      base[i][h].value += shift;
      base[i][h].lower += shift;
      base[i][h].upper += shift;
    }
  return base;
}

// ---- training ----

namespace {

// The total of the series `keep` accepts: per period, the sum of their values and the mean of
// their regressors (over the series that have begun). nullopt when none is kept or a sum is
// beyond what the learners take.
template <class Keep>
std::optional<SeriesData> total_series(const std::vector<SeriesData>& series, const Keep& keep,
                                       size_t regressors) {
  int64_t first = INT64_MAX, end = INT64_MIN;
  for (const SeriesData& s : series)
    if (keep(s)) {
      first = std::min(first, s.first_period);
      end = std::max(end, s.first_period + static_cast<int64_t>(s.values.size()));
    }
  if (first == INT64_MAX) return std::nullopt;
  SeriesData t;
  t.first_period = first;
  const auto n = static_cast<size_t>(end - first);
  t.values.assign(n, 0.0);
  t.regressors.assign(n * regressors, 0.0);
  std::vector<double> present(n, 0.0);
  for (const SeriesData& s : series) {
    if (!keep(s)) continue;
    const auto offset = static_cast<size_t>(s.first_period - first);
    for (size_t i = 0; i < s.values.size(); ++i) {
      t.values[offset + i] += s.values[i];
      present[offset + i] += 1;
      for (size_t j = 0; j < regressors; ++j)
        t.regressors[(offset + i) * regressors + j] += s.regressors[i * regressors + j];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!series_value_ok(t.values[i])) return std::nullopt;
    for (size_t j = 0; j < regressors; ++j)
      t.regressors[i * regressors + j] /= std::max(present[i], 1.0);
  }
  return t;
}

// A series' backtest folds (backtest.hpp: fold k forecasts the horizon after
// n − (folds − k)·horizon) with the forecasts made in them.
std::vector<Fold> backtest_folds(const std::vector<double>& values,
                                 const std::vector<std::vector<double>>& forecasts,
                                 const TrainOptions& options) {
  const auto h = static_cast<size_t>(options.horizon), k = static_cast<size_t>(options.folds);
  std::vector<Fold> folds;
  for (size_t fold = 0; fold < k && fold < forecasts.size(); ++fold) {
    const size_t cut = values.size() - (k - fold) * h;
    const std::vector<double> train(values.begin(), values.begin() + static_cast<long>(cut));
    Fold f;
    f.forecast = forecasts[fold];
    f.actual.assign(values.begin() + static_cast<long>(cut),
                    values.begin() + static_cast<long>(cut + h));
    f.scale = mase_scale(train, options.frequency.season());
    folds.push_back(std::move(f));
  }
  return folds;
}

}  // namespace

Payload train_forecast_payload(std::vector<SeriesData> series, bool grouped,
                               const TrainOptions& options, const InterruptCheck& check,
                               TrainSummary& summary) {
  check_horizon(options.horizon);
  check_folds(options.folds);
  const Frequency& frequency = options.frequency;
  const std::string periods = frequency.period_noun() + "s";
  if (series.empty()) throw InvalidParameter("no rows to train a forecaster on");
  if (!grouped && series.size() != 1) throw InternalError("an ungrouped model has one series");
  std::sort(series.begin(), series.end(),
            [](const SeriesData& a, const SeriesData& b) { return a.key < b.key; });
  for (size_t i = 1; i < series.size(); ++i)
    if (series[i].key == series[i - 1].key) throw InternalError("duplicate group key");
  check_series_values(series, grouped, frequency);
  const CovariateSpec& spec = options.covariates;
  const size_t regressors = spec.regressors.size();
  if (regressors > kMaxRegressors)
    throw InvalidParameter("at most " + std::to_string(kMaxRegressors) + " regressors are taken",
                           "got " + std::to_string(regressors));
  for (const SeriesData& s : series) {
    if (s.regressors.size() != s.values.size() * regressors)
      throw InternalError("regressor values do not match the series");
    for (double v : s.regressors)
      if (!series_value_ok(v))
        throw InvalidParameter("a regressor of " + series_label(s, grouped) +
                                   " is not finite or beyond ±1e15",
                               "got " + format_number(v));
  }
  // An explicit learner needs its history for every series: fail before any work.
  if (options.learner) {
    const size_t needed = min_history(*options.learner, frequency) +
                          static_cast<size_t>(options.horizon) * options.folds;
    for (const SeriesData& s : series)
      if (s.values.size() < needed)
        throw InvalidParameter(
            std::string("the series of ") + (grouped ? "group \"" + s.key + "\"" : "the source") +
                " is too short for " + std::string(learner_name(*options.learner)),
            std::to_string(s.values.size()) + " " + periods + " found, " +
                std::to_string(needed) + " needed (" +
                std::to_string(min_history(*options.learner, frequency)) + " to train, then " +
                std::to_string(options.folds) + " backtest folds of " +
                std::to_string(options.horizon) + " " + periods + ")",
            "Use algorithm => 'auto', which falls back to seasonal_naive for short series.");
  }

  const auto trainable = [&](const SeriesData& s) {
    return options.learner || s.values.size() >= min_fallback_history(frequency);
  };
  // A grouped model also fits the total of the groups it trains, for coherent forecasts.
  std::optional<SeriesData> total_data;
  if (grouped) total_data = total_series(series, trainable, regressors);
  const size_t items = series.size() + (total_data ? 1 : 0);
  std::vector<std::optional<SeriesFit>> fits(items);
  // With a total: each series' chosen forecast per backtest fold, for the measured choice.
  std::vector<std::vector<std::vector<double>>> fold_forecasts(items);
  parallel_for(
      items, options.threads,
      [&](size_t i, const InterruptCheck& poll_worker) {
        const SeriesData& s = i < series.size() ? series[i] : *total_data;
        if (!trainable(s)) return;  // skipped
        const SeriesStart start(frequency, s.first_period);
        const Covariates covariates = make_covariates(spec, start, s.values.size(), s.regressors);
        Forecast f = forecast(options.learner, start, s.values, options.horizon, options.folds,
                              0.5, poll_worker, spec.empty() ? nullptr : &covariates);
        SeriesFit fit;
        fit.key = s.key;
        fit.first_period = s.first_period;
        fit.periods = static_cast<uint32_t>(s.values.size());
        fit.learner = f.learner;
        fit.fallback = f.fallback;
        fit.residuals = f.residuals();
        for (const BacktestScore& c : f.candidates) {
          fit.candidates.push_back({c.learner, c.mae, c.rmse, c.smape, c.mase});
          if (total_data && c.learner == f.learner && !f.fallback) fold_forecasts[i] = c.predicted;
        }
        fit.model = std::move(f.model);
        fit.effects = std::move(f.effects);
        fits[i] = std::move(fit);
      },
      check);
  std::optional<SeriesFit> total;
  if (total_data) {
    if (fits.back()) total = std::move(*fits.back());
    fits.pop_back();
  }

  std::vector<SeriesFit> trained;
  for (auto& f : fits)
    if (f) trained.push_back(std::move(*f));
  summary.series = trained.size();
  summary.skipped_series = series.size() - trained.size();
  if (trained.empty())
    throw InvalidParameter("every series is too short to forecast",
                           std::to_string(series.size()) + " series, none with at least " +
                               std::to_string(min_fallback_history(frequency)) + " " + periods);

  // Metrics: per learner, the mean of its backtest metrics over the series it ran on; the
  // chosen learners' counts; the chosen forecasts' own backtest metrics (means).
  struct Acc {
    size_t n = 0;
    double mae = 0, rmse = 0, smape = 0, mase = 0;
    void add(const CandidateMetrics& c) {
      ++n;
      mae += c.mae;
      rmse += c.rmse;
      smape += c.smape;
      mase += c.mase;
    }
    nlohmann::json json() const {
      const auto d = static_cast<double>(n);
      auto j = metrics_json(mae / d, rmse / d, smape / d, mase / d);
      j["series"] = n;
      return j;
    }
  };
  std::map<std::string, Acc> per_learner;
  std::map<std::string, size_t> chosen;
  Acc best;
  size_t fallbacks = 0;
  int64_t last = trained[0].next_period() - 1, first = trained[0].first_period;
  for (const SeriesFit& s : trained) {
    ++chosen[std::string(learner_name(s.learner))];
    fallbacks += s.fallback ? 1 : 0;
    last = std::max(last, s.next_period() - 1);
    first = std::min(first, s.first_period);
    for (const CandidateMetrics& c : s.candidates) {
      per_learner[std::string(learner_name(c.learner))].add(c);
      if (c.learner == s.learner) best.add(c);
    }
  }
  nlohmann::json m = nlohmann::json::object();
  if (best.n > 0) {
    m = metrics_json(
        best.mae / static_cast<double>(best.n), best.rmse / static_cast<double>(best.n),
        best.smape / static_cast<double>(best.n), best.mase / static_cast<double>(best.n));
  }
  m["series"] = trained.size();
  m["skipped_series"] = summary.skipped_series;
  m["fallback_series"] = fallbacks;
  m["horizon"] = options.horizon;
  m["folds"] = options.folds;
  if (!grouped) {
    m["chosen"] = learner_name(trained[0].learner);
  } else {
    m["chosen"] = chosen;
  }
  nlohmann::json candidates = nlohmann::json::object();
  for (const auto& [name, acc] : per_learner) candidates[name] = acc.json();
  m["candidates"] = candidates;
  // Reconciliation holds groups at 0 when every group the total adds up was never negative.
  const bool non_negative = std::all_of(series.begin(), series.end(), [&](const SeriesData& d) {
    return !trainable(d) ||
           std::all_of(d.values.begin(), d.values.end(), [](double v) { return v >= 0; });
  });
  Reconciliation chosen_reconciliation = Reconciliation::Wls;
  if (total) {
    // The measured choice (reconcile.hpp) on the backtest folds every series shares.
    std::vector<std::vector<Fold>> group_folds;
    std::vector<Residuals> group_residuals;
    const auto& total_folds = fold_forecasts[series.size()];
    bool measurable = !total_folds.empty();
    size_t next = 0;
    for (size_t i = 0; i < series.size() && measurable; ++i) {
      if (!trainable(series[i])) continue;
      measurable = !fold_forecasts[i].empty();
      group_folds.push_back(backtest_folds(series[i].values, fold_forecasts[i], options));
      group_residuals.push_back(trained[next++].residuals);
    }
    nlohmann::json r = nlohmann::json::object();
    if (measurable) {
      const auto scores = score_reconciliations(
          group_folds, backtest_folds(total_data->values, total_folds, options),
          group_residuals, total->residuals, non_negative);
      const ReconciliationScore* lowest = &scores[0];
      for (const auto& sc : scores) {
        if (sc.score() < lowest->score()) lowest = &sc;
        r[std::string(reconciliation_name(sc.method))] = {{"total_mase", sc.total_mase},
                                                          {"group_mase", sc.group_mase}};
      }
      chosen_reconciliation = lowest->method;
    }
    r["method"] = reconciliation_name(chosen_reconciliation);
    r["measured"] = measurable;
    r["total_learner"] = learner_name(total->learner);
    m["reconciliation"] = r;
  }
  if (!spec.empty()) {
    // Each covariate's effect (covariates.hpp), the mean over the series: a regressor's per
    // unit, a holiday's per day of it (what holidays share and the name's own deviation).
    const auto n = static_cast<double>(trained.size());
    nlohmann::json reg = nlohmann::json::object(), hol = nlohmann::json::object();
    for (size_t j = 0; j < regressors; ++j) {
      double sum = 0;
      for (const SeriesFit& s : trained) sum += s.effects.beta()[j];
      reg[spec.regressors[j]] = sum / n;
    }
    for (size_t j = 0; j < spec.holidays.names().size(); ++j) {
      double sum = 0;
      for (const SeriesFit& s : trained) sum += s.effects.holiday_effect(spec, j);
      hol[spec.holidays.names()[j]] = sum / n;
    }
    if (regressors > 0) m["regressor_effects"] = reg;
    if (!spec.holidays.empty()) {
      m["holiday_effects"] = hol;
      m["holiday_days"] = spec.holidays.days();
    }
  }
  summary.metrics = m;

  Payload p;
  p.algorithm = forecast_algorithm(options.learner);
  p.task = Task::Forecast;
  p.meta = {{"frequency", frequency.name()},
            {"horizon", options.horizon},
            {"folds", options.folds},
            {"grouped", grouped},
            {"series", trained.size()},
            {"first_day", iso_start(frequency, first)},
            {"last_day", iso_start(frequency, last)},
            {"metrics", m}};
  if (!spec.empty()) p.meta["covariates"] = true;
  if (total) p.meta["total"] = true;
  BinaryWriter w;
  w.u32(static_cast<uint32_t>(options.horizon));
  w.u32(static_cast<uint32_t>(options.folds));
  w.u8(grouped ? 1 : 0);
  w.u64(trained.size());
  if (!spec.empty()) {
    w.u64(regressors);
    for (const std::string& name : spec.regressors) w.str(name);
    spec.holidays.write(w);
  }
  for (const SeriesFit& s : trained) write_series(w, s, spec);
  if (total) {
    write_series(w, *total, spec);
    w.u8(static_cast<uint8_t>(chosen_reconciliation));
    w.u8(non_negative ? 1 : 0);
  }
  p.body = w.take();
  return p;
}

// ---- loading ----

ModelPtr load_forecast_model(Payload&& p) {
  if (!is_forecast_algorithm(p.algorithm) || p.task != Task::Forecast)
    throw CorruptPayload("not a forecast payload");
  Frequency frequency;  // payloads of 0.2.0 have none: they are daily
  if (p.meta.contains("frequency")) {
    const nlohmann::json& name = p.meta["frequency"];
    const auto f = name.is_string() ? Frequency::parse(name.get<std::string>()) : std::nullopt;
    if (!f) throw CorruptPayload("forecast payload has an unknown frequency");
    frequency = *f;
  }
  BinaryReader r(p.body.data(), p.body.size());
  const uint32_t horizon = r.u32();
  const uint32_t folds = r.u32();
  if (horizon < 1 || horizon > 366 || folds < 1 || folds > 52)
    throw CorruptPayload("forecast payload has an invalid horizon or folds");
  const uint8_t grouped = r.u8();
  if (grouped > 1) throw CorruptPayload("forecast payload has an invalid flag");
  // Each series takes well over 16 bytes: bounds the count by the bytes present.
  const uint64_t count = r.count(kMaxSeries, 16);
  if (count == 0 || (grouped == 0 && count != 1))
    throw CorruptPayload("forecast payload has an invalid number of series");
  CovariateSpec spec;
  if (p.meta.contains("covariates")) {
    if (p.meta["covariates"] != true) throw CorruptPayload("forecast payload has an invalid flag");
    const uint64_t regressors = r.count(kMaxRegressors, 4);
    for (uint64_t j = 0; j < regressors; ++j) {
      spec.regressors.push_back(r.str(1u << 10));
      if (spec.regressors.back().empty()) throw CorruptPayload("regressor without a name");
    }
    spec.holidays = HolidayCalendar::read(r);
    if (spec.empty()) throw CorruptPayload("forecast payload has empty covariates");
  }
  std::vector<SeriesFit> series(count);
  size_t state_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    series[i] = read_series(r, frequency, horizon, spec, state_bytes);
    const SeriesFit& s = series[i];
    if (grouped == 0 && !s.key.empty()) throw CorruptPayload("ungrouped series with a key");
    if (grouped == 1 && i > 0 && !(series[i - 1].key < s.key))
      throw CorruptPayload("forecast payload group keys are not sorted");
  }
  std::optional<SeriesFit> total;
  Reconciliation reconciliation = Reconciliation::Wls;
  bool non_negative = false;
  if (p.meta.contains("total")) {
    if (p.meta["total"] != true || grouped == 0)
      throw CorruptPayload("forecast payload has an invalid total");
    total = read_series(r, frequency, horizon, spec, state_bytes);
    const uint8_t method = r.u8(), flag = r.u8();
    if (method > 1 || flag > 1 || !total->key.empty())
      throw CorruptPayload("forecast payload has an invalid reconciliation");
    reconciliation = static_cast<Reconciliation>(method);
    non_negative = flag == 1;
  }
  r.expect_end();
  auto model = std::make_shared<ForecastModel>(p.algorithm, std::move(p.meta), frequency,
                                               static_cast<int>(horizon), static_cast<int>(folds),
                                               grouped == 1, std::move(series), state_bytes,
                                               std::move(spec));
  if (total) model->set_total(std::move(*total), reconciliation, non_negative);
  return model;
}

namespace {
// This area's payload tags, for load_model().
const PayloadLoaderRegistration kLoaders(
    {Algorithm::ForecastAuto, Algorithm::SeasonalNaive, Algorithm::HoltWinters,
     Algorithm::LinearForecast, Algorithm::RandomForestForecast,
     Algorithm::GradientBoostingForecast, Algorithm::CombinationForecast,
     Algorithm::ThetaForecast},
    load_forecast_model, Task::Forecast, "forecast payload with a wrong task");
}  // namespace

}  // namespace insight::forecast
