// SQL side of forecasting (src/core/forecast): the series builder (a relation's time, value and
// optional group columns → one daily, zero-filled series per group), train_forecaster,
// forecast, evaluate_forecaster and the seasonal anomaly detection of detect_series_anomalies.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/forecast/backtest.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/forecast/options.hpp"
#include "core/forecast/series_anomaly.hpp"
#include "core/forecast/series_grid.hpp"
#include "core/model/payload.hpp"

#include "pg/evaluation.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/stream.hpp"
#include "pg/training.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::forecast::Learner;
using insight::pg::guard;

// Days between 1970-01-01 (the core's day 0) and 2000-01-01 (PostgreSQL's date 0).
constexpr int64_t kPgEpochDay = 10957;

// ---------------------------------------------------------------------------------------
// The series builder
// ---------------------------------------------------------------------------------------

struct SeriesSpec {
  insight::pg::SourceRelation source;
  std::string time_column, value_column;
  std::optional<std::string> group_column;
  // Only this group's rows (detect_sales_anomaly's one product); needs group_column.
  std::optional<std::string> only_group = std::nullopt;
};

struct BuiltSeries {
  std::vector<insight::forecast::SeriesData> series;
  int64_t rows_used = 0, rows_skipped = 0;
  // Rows of days that had not ended when the rows were read (today, or later): left out.
  int64_t rows_incomplete = 0;
};

// The series a forecaster's options describe, read from source.
SeriesSpec series_spec(const insight::pg::SourceRelation& source,
                       const insight::forecast::ForecasterOptions& o) {
  return SeriesSpec{source, o.time_column, o.value_column, o.group_column};
}

std::vector<std::string> series_columns(const SeriesSpec& spec) {
  std::vector<std::string> columns{spec.time_column, spec.value_column};
  if (spec.group_column) columns.push_back(*spec.group_column);
  return columns;
}

// Checks the columns, then reads the daily sums: one row per (group, day). Days are calendar
// days of the time column (a timestamptz in the session's TimeZone); only days that have ended
// when the statement started count (SeriesGrid). The caller has checked the privileges on
// series_columns().
BuiltSeries build_series(const SeriesSpec& spec) {
  const Oid time_type = insight::pg::column_type(spec.source, spec.time_column, "time_column");
  if (time_type != DATEOID && time_type != TIMESTAMPOID && time_type != TIMESTAMPTZOID)
    throw InvalidParameter("time column \"" + spec.time_column + "\" is not a date or time",
                           "time_column must be of type date, timestamp or timestamptz.");
  const Oid value_type = insight::pg::column_type(spec.source, spec.value_column, "value_column");
  if (!insight::pg::is_numeric_type(value_type))
    throw InvalidParameter("value column \"" + spec.value_column + "\" is not numeric",
                           std::string("value_column must be ") + insight::pg::kNumericTypes + ".");
  if (spec.group_column)
    insight::pg::column_type(spec.source, *spec.group_column, "group_column");  // must exist

  const std::string t = insight::pg::quoted(spec.time_column);
  const std::string v = insight::pg::quoted(spec.value_column);
  const std::string g =
      spec.group_column ? insight::pg::quoted(*spec.group_column) + "::pg_catalog.text" : "''";
  // Identifiers are quoted from the catalog's own names; the aggregate may run in parallel.
  // The sum is exact (numeric): float8 partial sums of parallel workers would be added in
  // whatever order they finish, and the same data must give the same model, bit for bit.
  const std::string sql = "SELECT " + g + ", (" + t + ")::pg_catalog.date, pg_catalog.sum(" + v +
                          "::pg_catalog.numeric)::pg_catalog.float8, pg_catalog.count(" + v +
                          "), pg_catalog.count(*) FROM " + spec.source.qualified +
                          (spec.only_group ? " WHERE " + g + " OPERATOR(pg_catalog.=) $1" : "") +
                          " GROUP BY 1, 2";
  const int64_t today = guard([] {
    return static_cast<int64_t>(DatumGetDateADT(DirectFunctionCall1(
        timestamptz_date, TimestampTzGetDatum(GetCurrentStatementStartTimestamp()))));
  });
  insight::forecast::SeriesGrid grid(spec.group_column.has_value(), today + kPgEpochDay);
  BuiltSeries out;
  insight::pg::spi_connect();
  std::vector<insight::pg::SpiArg> args;
  if (spec.only_group) args.push_back(insight::pg::spi_text_arg(*spec.only_group));
  insight::pg::spi_stream(sql.c_str(), args, [&](const Datum* col, const bool* null, int) {
    const int64_t all = DatumGetInt64(col[4]);
    if (null[0] || null[1] || null[2]) {  // no group, no day, or no value at all
      out.rows_skipped += all;
      return;
    }
    const DateADT date = DatumGetDateADT(col[1]);
    if (DATE_NOT_FINITE(date))
      throw InvalidParameter("time column \"" + spec.time_column + "\" holds an infinite date", "",
                             "Filter the rows with a view, then train on the view.");
    const int64_t used = DatumGetInt64(col[3]);
    out.rows_skipped += all - used;
    if (grid.add(insight::pg::text_view(col[0]), static_cast<int64_t>(date) + kPgEpochDay,
                 DatumGetFloat8(col[2])))
      out.rows_used += used;
    else
      out.rows_incomplete += used;
  });
  insight::pg::spi_finish();

  out.series = grid.build();
  return out;
}

// No series to train or evaluate: no rows with time and value, or only rows of days that have
// not ended.
InvalidParameter no_rows(const SeriesSpec& spec, const BuiltSeries& built) {
  if (built.rows_incomplete > 0)
    return InvalidParameter("relation " + spec.source.qualified + " has no rows of a complete day",
                            std::to_string(built.rows_incomplete) +
                                " rows fall on today or later; only days that have ended are used.",
                            "Train once a day has ended.");
  return InvalidParameter("relation " + spec.source.qualified + " has no rows with both \"" +
                          spec.time_column + "\" and \"" + spec.value_column + "\" set");
}

// Timestamptz of midnight of a day in the session's TimeZone.
Datum day_timestamptz(int64_t day) {
  const auto date = static_cast<DateADT>(day - kPgEpochDay);
  return guard([date] { return DirectFunctionCall1(date_timestamptz, DateADTGetDatum(date)); });
}

}  // namespace

namespace {

// The reader is the series grid: exact daily sums per group, zero-filled (build_series).
class ForecastTraining final
    : public insight::pg::TrainingWith<insight::forecast::ForecasterOptions> {
 public:
  using TrainingWith::TrainingWith;
  std::vector<std::string> columns() const override { return series_columns(series_spec({}, o_)); }

  insight::pg::TrainedVersion train(const insight::pg::SourceRelation& source) override {
    const SeriesSpec spec = series_spec(source, o_);
    insight::forecast::TrainOptions options = o_.model;
    options.threads = insight::pg::training_threads();
    BuiltSeries built = build_series(spec);
    if (built.series.empty()) throw no_rows(spec, built);
    insight::forecast::TrainSummary summary;
    insight::Payload payload = insight::forecast::train_forecast_payload(
        std::move(built.series), spec.group_column.has_value(), options, insight::pg::kInterrupts,
        summary);
    if (summary.skipped_series > 0)
      guard([&summary] {
        ereport(NOTICE, (errmsg("%zu of %zu series had fewer than %zu days and were not trained",
                                summary.skipped_series, summary.skipped_series + summary.series,
                                insight::forecast::kMinFallbackHistory)));
        return 0;
      });
    payload.meta["source"] = source.qualified;
    payload.meta["params"] = params();
    nlohmann::json metrics = summary.metrics;
    metrics["incomplete_rows"] = built.rows_incomplete;
    return insight::pg::TrainedVersion(payload, columns(), built.rows_used, built.rows_skipped,
                                       std::move(metrics));
  }
};

const insight::pg::TaskRegistrationOf<ForecastTraining> kForecastTask("forecast");

}  // namespace

// forecast(name, horizon, group_key, confidence)
//   → TABLE(group_key text, forecast_time timestamptz, forecast_value, lower_bound, upper_bound)
INSIGHT_FUNCTION(insight_forecast) {
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  const int horizon = insight::pg::int4_arg(fcinfo, 1, "horizon");
  insight::forecast::check_horizon(horizon);
  std::optional<std::string> key;
  if (!insight::pg::arg_is_null(fcinfo, 2)) key = insight::pg::text_arg(fcinfo, 2, "group_key");
  const double confidence = insight::pg::float8_arg(fcinfo, 3, "confidence");
  insight::forecast::check_confidence(confidence);

  const insight::pg::ModelRef ref = insight::pg::resolve_live_model(name);
  const insight::ModelPtr held = insight::pg::load_model_by_id(ref.model_id);
  const auto& model = insight::pg::model_as<insight::forecast::ForecastModel>(
      *held, name, "a forecaster", "insight.train_forecaster");
  std::vector<const insight::forecast::SeriesFit*> wanted;
  if (key) {
    if (!model.grouped())
      throw InvalidParameter("model \"" + name + "\" has no groups",
                             "It was trained without a group_column.",
                             "Call insight.forecast with group_key => NULL.");
    const auto* s = model.find(*key);
    if (s == nullptr)
      throw insight::UndefinedObject(
          "model \"" + name + "\" has no series for group key " + insight::echo(*key),
          "The model knows " + std::to_string(model.series().size()) + " groups.",
          "Groups with fewer than " + std::to_string(insight::forecast::kMinFallbackHistory) +
              " days of history at training time are not trained; retrain to include new groups.");
    wanted.push_back(s);
  } else {
    for (const auto& s : model.series()) wanted.push_back(&s);
  }
  insight::pg::RowSink sink(fcinfo);
  for (const auto* s : wanted) {
    insight::pg::check_interrupts();
    const auto points = model.forecast(*s, horizon, confidence);
    for (const auto& p : points) {
      Datum v[5] = {model.grouped() ? insight::pg::text_datum(s->key) : static_cast<Datum>(0),
                    day_timestamptz(p.day), Float8GetDatum(p.value), Float8GetDatum(p.lower),
                    Float8GetDatum(p.upper)};
      bool nulls[5] = {!model.grouped(), false, false, false, false};
      sink.put(v, nulls);
    }
  }
  return static_cast<Datum>(0);
}

namespace {

// Backtests the learners on the source's series: rolling origin, `folds` windows of
// `horizon` days per series, the sums merged over series (insight::forecast::Evaluator).
class ForecastEvaluation final
    : public insight::pg::EvaluationWith<insight::forecast::ForecastEvaluationOptions> {
 public:
  using EvaluationWith::EvaluationWith;
  std::vector<std::string> columns() const override {
    return series_columns(series_spec({}, o_.forecaster));
  }

  void evaluate(const insight::pg::SourceRelation& source, insight::pg::RowSink& sink) override {
    const SeriesSpec spec = series_spec(source, o_.forecaster);
    const std::optional<Learner> learner = o_.forecaster.model.learner;
    const int horizon = o_.forecaster.model.horizon, folds = o_.forecaster.model.folds;
    const double confidence = o_.confidence;
    const BuiltSeries built = build_series(spec);
    if (built.series.empty()) throw no_rows(spec, built);
    // One evaluator per series, merged in order: the same sums whatever the thread count.
    std::vector<insight::forecast::Evaluator> per_series(
        built.series.size(), insight::forecast::Evaluator(learner, horizon, folds, confidence));
    insight::parallel_for(
        built.series.size(), insight::pg::training_threads(),
        [&](size_t i, const insight::InterruptCheck& poll_worker) {
          per_series[i].add(built.series[i].first_day, built.series[i].values, poll_worker);
        },
        insight::pg::kInterrupts);
    insight::forecast::Evaluator total(learner, horizon, folds, confidence);
    for (const auto& e : per_series) total.merge(e);
    const insight::forecast::Evaluation result = total.result();
    if (result.scores.empty() || result.scores[0].series == 0) {
      const size_t needed = (learner ? insight::forecast::min_history(*learner) +
                                           static_cast<size_t>(horizon) * static_cast<size_t>(folds)
                                     : insight::forecast::kMinFallbackHistory) +
                            static_cast<size_t>(horizon) * static_cast<size_t>(folds);
      throw InvalidParameter("every series is too short to evaluate",
                             std::to_string(built.series.size()) + " series, none with at least " +
                                 std::to_string(needed) + " days (" + std::to_string(folds) +
                                 " folds of " + std::to_string(horizon) +
                                 " days to score, after what training needs)");
    }
    for (const auto& s : result.scores) {
      if (s.series == 0) continue;  // a learner no series was long enough for
      sink.put_metrics({{"mae", s.mae},
                        {"rmse", s.rmse},
                        {"smape", s.smape},
                        {"mase", s.mase},
                        {"coverage", s.coverage},
                        {"series", static_cast<double>(s.series)}},
                       {s.algorithm});
    }
    if (result.skipped > 0)
      guard([&result] {
        ereport(NOTICE,
                (errmsg("%zu series were too short to evaluate and were skipped", result.skipped)));
        return 0;
      });
  }
};

const insight::pg::EvaluationRegistrationOf<ForecastEvaluation> kForecastEvaluation("forecast");

}  // namespace

namespace {

// The days `since` covers, rounded up: an interval of days and hours, or months of 30 days.
// 22023 unless positive and at most 366 days.
int window_days(FunctionCallInfo fcinfo, int n) {
  if (insight::pg::arg_is_null(fcinfo, n)) throw InvalidParameter("since must not be NULL");
  const Interval* since = PG_GETARG_INTERVAL_P(n);
  const double days = (static_cast<double>(since->month) * DAYS_PER_MONTH + since->day) +
                      static_cast<double>(since->time) / static_cast<double>(USECS_PER_DAY);
  if (!(days > 0) || days > 366) {
    const std::string text = guard([since] {
      return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(since)));
    });
    throw InvalidParameter("since must be a positive interval of at most 366 days", "got " + text);
  }
  return static_cast<int>(std::ceil(days));
}

// The series are daily sums: frequency 'day', or 'auto' (which reads them).
void check_daily_frequency(const std::string& frequency) {
  if (frequency == "auto" || frequency == "day") return;
  throw InvalidParameter("frequency must be 'auto' or 'day', got " + insight::echo(frequency),
                         "detect_series_anomalies reads daily sums.");
}

}  // namespace

// _detect_series(source regclass, time_column text, value_column text, group_column text,
//     since interval, frequency text, confidence float8, only_group text)
//   → TABLE(group_key text, ts timestamptz, value float8, expected float8, lower_bound float8,
//           upper_bound float8, anomaly_score float8, is_anomaly boolean)
// Each group's daily series (only only_group's, when given), its last `since` days judged
// against what the days before predict (insight::forecast::judge_recent, blocks of 7 days).
INSIGHT_FUNCTION(insight_detect_series) {
  const insight::pg::SourceRelation source = insight::pg::source_relation(fcinfo, 0);
  SeriesSpec spec{source, insight::pg::text_arg(fcinfo, 1, "time_column"),
                  insight::pg::text_arg(fcinfo, 2, "value_column"), std::nullopt};
  if (!insight::pg::arg_is_null(fcinfo, 3))
    spec.group_column = insight::pg::text_arg(fcinfo, 3, "group_column");
  insight::forecast::JudgeOptions options;
  options.window = window_days(fcinfo, 4);
  check_daily_frequency(insight::pg::text_arg(fcinfo, 5, "frequency"));
  options.confidence = insight::pg::float8_arg(fcinfo, 6, "confidence");
  insight::forecast::check_confidence(options.confidence);
  options.threads = insight::pg::training_threads();
  if (!insight::pg::arg_is_null(fcinfo, 7))
    spec.only_group = insight::pg::text_arg(fcinfo, 7, "only_group");

  insight::pg::check_select(source, series_columns(spec));
  const BuiltSeries built = build_series(spec);
  if (built.series.empty() && spec.only_group)
    throw insight::UndefinedObject(
        "relation " + source.qualified + " has no rows of group " + insight::echo(*spec.only_group),
        "Only days that have ended count.");
  if (built.series.empty()) throw no_rows(spec, built);
  const insight::forecast::Judgement judged =
      insight::forecast::judge_recent(built.series, options, insight::pg::kInterrupts);
  if (judged.skipped > 0)
    guard([&judged, &options] {
      ereport(NOTICE,
              (errmsg("%zu of %zu series had fewer than %zu days before their last %d and were "
                      "not judged",
                      judged.skipped, judged.skipped + judged.series.size(),
                      insight::forecast::kMinFallbackHistory, options.window)));
      return 0;
    });
  insight::pg::RowSink sink(fcinfo);
  const bool grouped = spec.group_column.has_value();
  for (const auto& s : judged.series)
    for (const auto& d : s.days) {
      Datum v[8] = {grouped ? insight::pg::text_datum(s.key) : static_cast<Datum>(0),
                    day_timestamptz(d.day),
                    Float8GetDatum(d.value),
                    Float8GetDatum(d.expected),
                    Float8GetDatum(d.lower),
                    Float8GetDatum(d.upper),
                    Float8GetDatum(d.score),
                    BoolGetDatum(d.anomaly)};
      bool nulls[8] = {!grouped, false, false, false, false, false, false, false};
      sink.put(v, nulls);
    }
  return static_cast<Datum>(0);
}
