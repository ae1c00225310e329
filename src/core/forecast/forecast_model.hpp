// A trained forecaster as stored in the catalog: one fitted learner per series (one series per
// group key, or a single series), each with the backtest residuals its intervals come from and
// every candidate's backtest metrics. Training runs the series side by side on a few threads.
//
// Payload body (after the common header; metadata JSON holds the summary and options, and
// "frequency": Frequency::name(), absent in payloads of 0.2.0, which are daily):
//   u32 horizon, u32 folds, u8 grouped, u64 series count; with covariates (metadata
//   "covariates": true) u64 regressor count, their names (str), the HolidayCalendar; then per
//   series (keys strictly increasing in byte order when grouped):
//     str key (empty when not grouped), i64 first period, u32 periods, u8 learner, u8 fallback,
//     learner state (learners.hpp), u32 steps = horizon, per step f64_array of residuals,
//     u8 candidate count, per candidate: u8 learner, f64 mae, rmse, smape, mase;
//     with covariates, the series' Effects;
//   with a total (metadata "total": true, grouped models of 0.3 on), the total's series as one
//   of the above (an empty key), u8 Reconciliation, u8 never-negative.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/forecast/backtest.hpp"
#include "core/forecast/covariates.hpp"
#include "core/forecast/frequency.hpp"
#include "core/forecast/learners.hpp"
#include "core/forecast/reconcile.hpp"
#include "core/model/model.hpp"

namespace insight::forecast {

// A series of one frequency: values[i] is period first_period + i (frequency.hpp's numbering;
// for days, days since 1970-01-01).
struct SeriesData {
  std::string key;  // the group key; empty when the model has no groups
  int64_t first_period = 0;
  std::vector<double> values;
  // With regressors: per period, their values (values.size() × regressors, finite).
  std::vector<double> regressors;
};

struct TrainOptions {
  Frequency frequency;             // of every series
  std::optional<Learner> learner;  // empty = 'auto'
  int horizon = 14;
  int folds = 3;
  unsigned threads = 0;  // 0 = one per core
  CovariateSpec covariates;  // regressors (their values in SeriesData) and holidays
};

struct CandidateMetrics {
  Learner learner;
  double mae, rmse, smape, mase;
};

struct SeriesFit {
  std::string key;
  int64_t first_period = 0;
  uint32_t periods = 0;  // length of the training series; forecasts start after it
  Learner learner = Learner::SeasonalNaive;
  bool fallback = false;
  std::unique_ptr<FittedLearner> model;
  std::vector<std::vector<double>> residuals;  // per step, for the intervals
  std::vector<CandidateMetrics> candidates;
  Effects effects;  // of the model's covariates (none: no effects)
  int64_t next_period() const noexcept { return first_period + periods; }
};

struct ForecastPoint {
  int64_t period;
  double value, lower, upper;
};

class ForecastModel final : public Model {
 public:
  // state_bytes: the size of the learners' serialized state, for memory_bytes().
  ForecastModel(Algorithm algorithm, nlohmann::json meta, Frequency frequency, int horizon,
                int folds, bool grouped, std::vector<SeriesFit> series, size_t state_bytes,
                CovariateSpec covariates = {});
  size_t memory_bytes() const override;

  bool grouped() const noexcept { return grouped_; }
  const Frequency& frequency() const noexcept { return frequency_; }
  int trained_horizon() const noexcept { return horizon_; }
  int trained_folds() const noexcept { return folds_; }
  const std::vector<SeriesFit>& series() const noexcept { return series_; }
  const CovariateSpec& covariates() const noexcept { return covariates_; }
  // The series of a group key (binary search), or nullptr. Ungrouped: the only series.
  const SeriesFit* find(const std::string& key) const;
  // Point forecasts and intervals at `confidence` for `horizon` periods. A model with
  // regressors needs their values for those periods: future_regressors, horizon × regressors
  // (InvalidParameter otherwise); holidays come from the model's calendar.
  std::vector<ForecastPoint> forecast(const SeriesFit& s, int horizon, double confidence,
                                      const std::vector<double>& future_regressors = {}) const;
  // The point forecasts' components (learners.hpp, Explanation; with covariates, one per
  // regressor and "holiday", covariates.hpp), summing to them.
  Explanation explain(const SeriesFit& s, int horizon,
                      const std::vector<double>& future_regressors = {}) const;

  // The total of a grouped model's series (reconcile.hpp), or nullptr (0.2.0's payloads,
  // ungrouped models).
  const SeriesFit* total() const noexcept { return total_ ? &*total_ : nullptr; }
  Reconciliation reconciliation() const noexcept { return reconciliation_; }
  void set_total(SeriesFit total, Reconciliation method, bool non_negative);
  // Every series' forecasts (in series() order) reconciled with the total's: they add up to
  // it at each period. The intervals move with their point forecasts. future_regressors: per
  // series, as forecast() takes them (the total's are their mean). InvalidParameter without a
  // total.
  std::vector<std::vector<ForecastPoint>> forecast_reconciled(
      int horizon, double confidence,
      const std::vector<std::vector<double>>& future_regressors) const;

 private:
  Frequency frequency_;
  int horizon_, folds_;
  bool grouped_;
  std::vector<SeriesFit> series_;
  size_t bytes_ = 0;
  CovariateSpec covariates_;
  std::optional<SeriesFit> total_;
  Reconciliation reconciliation_ = Reconciliation::Wls;
  bool non_negative_ = false;
  // The learner's forecast with the covariates' effects, and the covariates it used.
  std::vector<double> point_forecast(const SeriesFit& s, int horizon,
                                     const std::vector<double>& future_regressors,
                                     Covariates& future) const;
};

// What training saw, for the catalog row.
struct TrainSummary {
  size_t series = 0, skipped_series = 0;
  nlohmann::json metrics;  // the catalog's metrics jsonb
};

// Trains every series. With 'auto', series shorter than min_fallback_history() are skipped (and
// counted); with an explicit learner, a series too short for it is an InvalidParameter naming
// its key and the length needed. No series left to train is an InvalidParameter too.
// `check` runs on the calling thread only (see parallel.hpp).
Payload train_forecast_payload(std::vector<SeriesData> series, bool grouped,
                               const TrainOptions& options, const InterruptCheck& check,
                               TrainSummary& summary);

// InvalidParameter (naming the group when grouped) for a series outside the calendar (a year
// of forecasts included) or with a sum that is not finite or beyond ±kMaxSeriesValue: what
// training and judging check before any learner sees the values.
void check_series_values(const std::vector<SeriesData>& series, bool grouped,
                         const Frequency& frequency);

// Loader for load_model(); CorruptPayload for anything inconsistent.
ModelPtr load_forecast_model(Payload&& payload);

// The algorithm tag of a learner choice, and back (nullopt = 'auto').
Algorithm forecast_algorithm(std::optional<Learner> learner) noexcept;
bool is_forecast_algorithm(Algorithm a) noexcept;

}  // namespace insight::forecast
