#include "core/forecast/forecast_model.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/forecast/features.hpp"
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

// ---- training ----

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

  std::vector<std::optional<SeriesFit>> fits(series.size());
  parallel_for(
      series.size(), options.threads,
      [&](size_t i, const InterruptCheck& poll_worker) {
        const SeriesData& s = series[i];
        if (!options.learner && s.values.size() < min_fallback_history(frequency))
          return;  // skipped
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
        for (const BacktestScore& c : f.candidates)
          fit.candidates.push_back({c.learner, c.mae, c.rmse, c.smape, c.mase});
        fit.model = std::move(f.model);
        fit.effects = std::move(f.effects);
        fits[i] = std::move(fit);
      },
      check);

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
  for (const SeriesFit& s : trained) {
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
    SeriesFit& s = series[i];
    s.key = r.str(1u << 16);
    if (grouped == 0 && !s.key.empty()) throw CorruptPayload("ungrouped series with a key");
    if (grouped == 1 && i > 0 && !(series[i - 1].key < s.key))
      throw CorruptPayload("forecast payload group keys are not sorted");
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
    if (steps != horizon)
      throw CorruptPayload("forecast payload residuals do not match the horizon");
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
  }
  r.expect_end();
  return std::make_shared<ForecastModel>(p.algorithm, std::move(p.meta), frequency,
                                         static_cast<int>(horizon),
                                         static_cast<int>(folds), grouped == 1, std::move(series),
                                         state_bytes, std::move(spec));
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
