// SQL side of forecasting (src/core/forecast): the series builder (a relation's time, value and
// optional group columns → one zero-filled series per group at the frequency asked or
// inferred), train_forecaster, forecast, evaluate_forecaster and the seasonal anomaly
// detection of detect_series_anomalies.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
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
#include "core/forecast/frequency.hpp"
#include "core/forecast/options.hpp"
#include "core/forecast/series_anomaly.hpp"
#include "core/forecast/series_grid.hpp"
#include "core/model/payload.hpp"

#include "pg/evaluation.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/stream.hpp"
#include "pg/training.hpp"
#include "pg/usage.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::forecast::Frequency;
using insight::forecast::Learner;
using insight::pg::guard;

// Microseconds between 1970-01-01 (the core's local epoch) and 2000-01-01 (PostgreSQL's
// timestamp 0).
constexpr int64_t kPgEpochUsecs =
    static_cast<int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

// ---------------------------------------------------------------------------------------
// The series builder
// ---------------------------------------------------------------------------------------

struct SeriesSpec {
  insight::pg::SourceRelation source;
  std::string time_column, value_column;
  std::optional<std::string> group_column;
  // Only this group's rows (detect_sales_anomaly's one product); needs group_column.
  std::optional<std::string> only_group = std::nullopt;
  // As asked: 'auto', a name or an interval (resolve_frequency()).
  std::string frequency = "auto";
  // Read beside the sums: their mean per group and period.
  std::vector<std::string> regressors = {};
};

struct BuiltSeries {
  Frequency frequency;  // resolved: what the series are made of
  insight::forecast::GapFill fill = insight::forecast::GapFill::Zero;
  size_t interpolated = 0;  // periods filled by interpolation (GapFill::Interpolate)
  std::vector<insight::forecast::SeriesData> series;
  int64_t rows_used = 0, rows_skipped = 0;
  // Rows of periods that had not ended when the rows were read (today, this hour, or later):
  // left out.
  int64_t rows_incomplete = 0;
};

// The series a forecaster's options describe, read from source.
SeriesSpec series_spec(const insight::pg::SourceRelation& source,
                       const insight::forecast::ForecasterOptions& o) {
  return SeriesSpec{source,       o.time_column, o.value_column, o.group_column,
                    std::nullopt, o.frequency,   o.regressors};
}

std::vector<std::string> series_columns(const SeriesSpec& spec) {
  std::vector<std::string> columns{spec.time_column, spec.value_column};
  if (spec.group_column) columns.push_back(*spec.group_column);
  columns.insert(columns.end(), spec.regressors.begin(), spec.regressors.end());
  return columns;
}

bool is_date_or_time(Oid type) {
  return type == DATEOID || type == TIMESTAMPOID || type == TIMESTAMPTZOID;
}

// 42703 unless spec's source has its time column, 22023 unless it is a date or time. `of`
// names the relation in the message when it is not the source argument.
void check_time_column(const SeriesSpec& spec, const std::string& of = "") {
  const Oid type = insight::pg::column_type(spec.source, spec.time_column, "time_column");
  if (!is_date_or_time(type))
    throw InvalidParameter(
        "time column \"" + spec.time_column + "\"" + of + " is not a date or time",
        "time_column must be of type date, timestamp or timestamptz.");
}

// The mean of each regressor per group and period, as float8 (", avg(...), ..."): numeric or
// boolean columns (true = 1); 22023 naming `argument` for any other type, 42703 when absent.
std::string regressor_means_sql(const SeriesSpec& spec, const char* argument) {
  std::string sql;
  for (const std::string& r : spec.regressors) {
    const Oid type = insight::pg::column_type(spec.source, r, argument);
    std::string x = insight::pg::quoted(r);
    if (type == BOOLOID)
      x = "(" + x + ")::pg_catalog.int4";
    else if (!insight::pg::is_numeric_type(type))
      throw InvalidParameter("regressor column \"" + r + "\" is not numeric",
                             std::string(argument) + " must name columns of type " +
                                 insight::pg::kNumericTypes + ", or boolean.");
    sql += ", pg_catalog.avg((" + x + ")::pg_catalog.numeric)::pg_catalog.float8";
  }
  return sql;
}

// The group column as text, or '' without one (one series).
std::string group_sql(const SeriesSpec& spec) {
  return spec.group_column ? insight::pg::quoted(*spec.group_column) + "::pg_catalog.text" : "''";
}

// The time column as a wall-clock timestamp in the session's TimeZone.
std::string wall_clock_sql(const SeriesSpec& spec) {
  return "(" + insight::pg::quoted(spec.time_column) + ")::pg_catalog.timestamp";
}

// The rows a query over the source reads: only only_group's when given (its text appended to
// `args`, numbered after the parameters `where` already uses). `where` is the condition
// without it, or empty.
std::string rows_sql(const SeriesSpec& spec, const std::string& where,
                     std::vector<insight::pg::SpiArg>& args) {
  std::string cond = where;
  if (spec.only_group) {
    args.push_back(insight::pg::spi_text_arg(*spec.only_group));
    cond += (cond.empty() ? "" : " AND ") + group_sql(spec) + " OPERATOR(pg_catalog.=) $" +
            std::to_string(args.size());
  }
  return " FROM " + spec.source.qualified + (cond.empty() ? "" : " WHERE " + cond);
}

// The facts one aggregate over the time column gives about the grid its times lie on (as
// wall-clock times in the session's TimeZone; only only_group's rows when given).
insight::forecast::TimeFacts time_facts(const SeriesSpec& spec) {
  const std::string x = wall_clock_sql(spec);
  auto date_part = [&x](const char* field) {
    return std::string("pg_catalog.date_part('") + field + "', " + x + ")::pg_catalog.int4";
  };
  std::vector<insight::pg::SpiArg> args;
  const std::string sql =
      "SELECT pg_catalog.count(*), pg_catalog.bool_and(pg_catalog.date_trunc('hour', " + x +
      ") OPERATOR(pg_catalog.=) " + x + "), pg_catalog.bit_or(1 OPERATOR(pg_catalog.<<) " +
      date_part("hour") + "), pg_catalog.bit_or(1 OPERATOR(pg_catalog.<<) " + date_part("isodow") +
      "), pg_catalog.bit_or(1::pg_catalog.int8 OPERATOR(pg_catalog.<<) " + date_part("day") +
      "), pg_catalog.bool_and(pg_catalog.date_part('day', " + x +
      " OPERATOR(pg_catalog.+) '1 day'::pg_catalog.interval) OPERATOR(pg_catalog.=) 1)" +
      rows_sql(spec, insight::pg::quoted(spec.time_column) + " IS NOT NULL", args);
  insight::forecast::TimeFacts facts;
  insight::pg::spi_stream(sql.c_str(), args, [&](const Datum* col, const bool* null, int) {
    facts.rows = DatumGetInt64(col[0]);
    if (facts.rows == 0 || null[1]) return;
    facts.on_the_hour = DatumGetBool(col[1]);
    facts.hours = static_cast<uint32_t>(DatumGetInt32(col[2]));
    facts.weekdays = static_cast<uint32_t>(DatumGetInt32(col[3]));
    facts.month_days = static_cast<uint64_t>(DatumGetInt64(col[4]));
    facts.month_ends = DatumGetBool(col[5]);
  });
  return facts;
}

// The frequency spec.frequency asks for: 'auto' infers it from the time column (frequency.hpp);
// a frequency finer than the data's grid is a 22023 naming the argument. Inside spi_connect().
Frequency resolve_frequency(const SeriesSpec& spec, const insight::forecast::TimeFacts& facts) {
  if (spec.frequency == "auto") return insight::forecast::infer(facts);
  const Frequency f = Frequency::from_text(spec.frequency);
  if (insight::forecast::finer_than(f, facts)) {
    const Frequency grid = insight::forecast::infer(facts);
    throw InvalidParameter(
        "frequency '" + f.name() + "' is finer than the data in \"" + spec.time_column + "\"",
        "Its times lie on a grid of one " + grid.period_noun() + ": the " + f.period_noun() +
            "s between them would be empty.",
        "Use frequency => '" + grid.name() + "' (or 'auto', which infers it), or a coarser one.");
  }
  return f;
}

// The SQL expression of the period a time falls in: the wall-clock timestamp of its start.
std::string period_start_sql(const Frequency& f, const SeriesSpec& spec) {
  const std::string x = wall_clock_sql(spec);
  switch (f.unit()) {
    case insight::forecast::FrequencyUnit::Day:
      return "pg_catalog.date_trunc('day', " + x + ")";
    case insight::forecast::FrequencyUnit::Week:
      return "pg_catalog.date_trunc('week', " + x + ")";
    case insight::forecast::FrequencyUnit::Month:
      return "pg_catalog.date_trunc('month', " + x + ")";
    case insight::forecast::FrequencyUnit::Step:
      break;
  }
  return "pg_catalog.date_bin('" + std::to_string(f.step_seconds()) +
         " seconds'::pg_catalog.interval, " + x + ", '2000-01-01'::pg_catalog.timestamp)";
}

// Checks the columns, resolves the frequency, then reads the sums: one row per (group, period).
// Periods are those of the time column's wall-clock times in the session's TimeZone; only
// periods that have ended when the statement started count (SeriesGrid). The caller has
// checked the privileges on series_columns().
BuiltSeries build_series(const SeriesSpec& spec) {
  check_time_column(spec);
  insight::pg::numeric_column(spec.source, spec.value_column, "value_column", "value",
                              "value_column");
  if (spec.group_column)
    insight::pg::column_type(spec.source, *spec.group_column, "group_column");  // must exist
  const std::string regressors = regressor_means_sql(spec, "regressors");

  const std::string v = insight::pg::quoted(spec.value_column);
  BuiltSeries out;
  insight::pg::spi_connect();
  const insight::forecast::TimeFacts facts = time_facts(spec);
  out.frequency = resolve_frequency(spec, facts);
  out.fill = insight::forecast::gap_fill_for(out.frequency, facts);
  // Identifiers are quoted from the catalog's own names; the aggregate may run in parallel.
  // The sum is exact (numeric): float8 partial sums of parallel workers would be added in
  // whatever order they finish, and the same data must give the same model, bit for bit.
  std::vector<insight::pg::SpiArg> args;
  const std::string sql =
      "SELECT " + group_sql(spec) + ", " + period_start_sql(out.frequency, spec) +
      ", pg_catalog.sum(" + v + "::pg_catalog.numeric)::pg_catalog.float8, pg_catalog.count(" + v +
      "), pg_catalog.count(*)" + regressors + rows_sql(spec, "", args) + " GROUP BY 1, 2";
  const int64_t now = guard([] {
    return static_cast<int64_t>(DatumGetTimestamp(DirectFunctionCall1(
        timestamptz_timestamp, TimestampTzGetDatum(GetCurrentStatementStartTimestamp()))));
  });
  insight::forecast::SeriesGrid grid(spec.group_column.has_value(), out.frequency,
                                     out.frequency.period_of(now + kPgEpochUsecs), out.fill,
                                     spec.regressors);
  std::vector<double> means(spec.regressors.size());
  insight::pg::spi_stream(sql.c_str(), args, [&](const Datum* col, const bool* null, int) {
    const int64_t all = DatumGetInt64(col[4]);
    if (null[0] || null[1] || null[2]) {  // no group, no time, or no value at all
      out.rows_skipped += all;
      return;
    }
    const Timestamp start = DatumGetTimestamp(col[1]);
    if (TIMESTAMP_NOT_FINITE(start))
      throw InvalidParameter("time column \"" + spec.time_column + "\" holds an infinite date", "",
                             "Filter the rows with a view, then train on the view.");
    const int64_t used = DatumGetInt64(col[3]);
    out.rows_skipped += all - used;
    for (size_t j = 0; j < means.size(); ++j) {
      means[j] = null[5 + j] ? std::nan("") : DatumGetFloat8(col[5 + j]);  // NaN: no value
      if (!null[5 + j] && std::isnan(means[j]))
        throw InvalidParameter("regressor column \"" + spec.regressors[j] + "\" holds NaN");
    }
    if (grid.add(insight::pg::text_view(col[0]), out.frequency.period_of(start + kPgEpochUsecs),
                 DatumGetFloat8(col[2]), means.data()))
      out.rows_used += used;
    else
      out.rows_incomplete += used;
  });
  insight::pg::spi_finish();

  out.series = grid.build(&out.interpolated);
  return out;
}

// No series to train or evaluate: no rows with time and value, or only rows of periods that
// have not ended.
InvalidParameter no_rows(const SeriesSpec& spec, const BuiltSeries& built) {
  const std::string noun = built.frequency.period_noun();
  if (built.rows_incomplete > 0)
    return InvalidParameter(
        "relation " + spec.source.qualified + " has no rows of a complete " + noun,
        std::to_string(built.rows_incomplete) + " rows fall on " +
            (noun == "day" ? std::string("today") : "the current " + noun) + " or later; only " +
            noun + "s that have ended are used.",
        "Train once a " + noun + " has ended.");
  return InvalidParameter("relation " + spec.source.qualified + " has no rows with both \"" +
                          spec.time_column + "\" and \"" + spec.value_column + "\" set");
}

// The holidays relation a forecaster's `holidays` option names (as a relation is written in
// SQL, resolved on the search_path): its (day, name) rows, NULLs left out. 42P01 when it does
// not exist, 42703 without a day or name column, 22023 for a day that is not a date or time,
// 42501 unless the caller may read both columns. Inside spi_connect().
// `qualified` receives its schema-qualified name.
insight::forecast::HolidayCalendar read_holidays(const std::string& relation,
                                                 std::string& qualified) {
  const char* text = relation.c_str();
  const Oid relid = guard([text] {
    return RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(text)), NoLock,
                            true);
  });
  if (relid == InvalidOid)
    throw insight::UndefinedTable(
        "holidays relation " + insight::echo(relation) + " does not exist", "",
        "holidays names a relation of (day date, name text) rows.");
  const insight::pg::SourceRelation source = insight::pg::source_relation(relid);
  const Oid day_type = insight::pg::column_type(source, "day", "holidays' day column");
  insight::pg::column_type(source, "name", "holidays' name column");
  if (!is_date_or_time(day_type))
    throw InvalidParameter(
        "holidays relation " + source.qualified + " has a day column that is not a date",
        "holidays must have columns day (date) and name (text).");
  insight::pg::check_select(source, {"day", "name"});
  qualified = source.qualified;
  std::vector<std::pair<int64_t, std::string>> rows;
  const std::string sql =
      "SELECT (day)::pg_catalog.date OPERATOR(pg_catalog.-) '1970-01-01'::pg_catalog.date, "
      "(name)::pg_catalog.text FROM " +
      source.qualified + " WHERE day IS NOT NULL AND name IS NOT NULL";
  insight::pg::spi_stream(sql.c_str(), {}, [&](const Datum* col, const bool*, int) {
    rows.emplace_back(DatumGetInt32(col[0]), std::string(insight::pg::text_view(col[1])));
  });
  return insight::forecast::HolidayCalendar::from_rows(std::move(rows));
}

// The covariates a forecaster's options ask for: its regressors and its holidays' calendar
// (o.holidays becomes the relation's schema-qualified name).
insight::forecast::CovariateSpec covariate_spec(insight::forecast::ForecasterOptions& o) {
  insight::forecast::CovariateSpec spec;
  spec.regressors = o.regressors;
  if (o.holidays) {
    std::string qualified;
    insight::pg::spi_connect();
    spec.holidays = read_holidays(*o.holidays, qualified);
    insight::pg::spi_finish();
    o.holidays = qualified;
  }
  return spec;
}

// Timestamptz of a period's start, a wall-clock time in the session's TimeZone (midnight, for
// a day).
Datum period_timestamptz(const Frequency& f, int64_t period) {
  const Timestamp local = f.start_usecs(period) - kPgEpochUsecs;
  return guard(
      [local] { return DirectFunctionCall1(timestamp_timestamptz, TimestampGetDatum(local)); });
}

}  // namespace

namespace {

// The reader is the series grid: exact sums per group and period, zero-filled (build_series).
class ForecastTraining final
    : public insight::pg::TrainingWith<insight::forecast::ForecasterOptions> {
 public:
  using TrainingWith::TrainingWith;
  std::vector<std::string> columns() const override { return series_columns(series_spec({}, o_)); }

  insight::pg::TrainedVersion train(const insight::pg::SourceRelation& source,
                                    const std::string& /*name*/) override {
    const SeriesSpec spec = series_spec(source, o_);
    insight::forecast::TrainOptions options = o_.model;
    options.threads = insight::pg::training_threads();
    options.covariates = covariate_spec(o_);
    BuiltSeries built = build_series(spec);
    if (built.series.empty()) throw no_rows(spec, built);
    options.frequency = built.frequency;
    insight::forecast::TrainSummary summary;
    insight::Payload payload = insight::forecast::train_forecast_payload(
        std::move(built.series), spec.group_column.has_value(), options, insight::pg::kInterrupts,
        summary);
    if (summary.skipped_series > 0) {
      // Built before the guard: nothing with a destructor lives in a frame ereport may leave.
      const std::string noun = built.frequency.period_noun();
      const size_t needed = insight::forecast::min_fallback_history(built.frequency);
      guard([&summary, &noun, needed] {
        ereport(NOTICE, (errmsg("%zu of %zu series had fewer than %zu %ss and were not trained",
                                summary.skipped_series, summary.skipped_series + summary.series,
                                needed, noun.c_str())));
        return 0;
      });
    }
    payload.meta["source"] = source.qualified;
    payload.meta["params"] = params();
    nlohmann::json metrics = summary.metrics;
    metrics["incomplete_rows"] = built.rows_incomplete;
    metrics["frequency"] = built.frequency.name();
    metrics["gap_fill"] =
        built.fill == insight::forecast::GapFill::Interpolate ? "interpolated" : "zero";
    metrics["interpolated_periods"] = built.interpolated;
    return insight::pg::TrainedVersion(payload, columns(), built.rows_used, built.rows_skipped,
                                       std::move(metrics));
  }
};

const insight::pg::TaskRegistrationOf<ForecastTraining> kForecastTask("forecast");

}  // namespace

namespace {

// The series of a live forecaster that forecast() and explain_forecast() answer for: the one
// of group_key, or every one when it is NULL. 22023 for a key of an ungrouped model, 42704 for
// a group the model has no series for.
std::vector<const insight::forecast::SeriesFit*> wanted_series(
    const insight::forecast::ForecastModel& model, const std::string& name,
    const std::optional<std::string>& key) {
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
          "Groups with fewer than " +
              std::to_string(insight::forecast::min_fallback_history(model.frequency())) + " " +
              model.frequency().period_noun() +
              "s of history at training time are not trained; retrain to include new groups.");
    wanted.push_back(s);
  } else {
    for (const auto& s : model.series()) wanted.push_back(&s);
  }
  return wanted;
}

// The arguments forecast() and explain_forecast() share: name, horizon, group_key, and
// regressors_source (argument `source_arg`, absent in 0.2.0's forecast()).
struct ForecastCall {
  std::string name;
  int horizon;
  std::optional<std::string> key;
  std::optional<insight::pg::SourceRelation> regressors_source = std::nullopt;
  double confidence = 0.9;  // forecast()'s
};

ForecastCall forecast_call(FunctionCallInfo fcinfo, int source_arg) {
  ForecastCall c{insight::pg::text_arg(fcinfo, 0, "name"),
                 insight::pg::int4_arg(fcinfo, 1, "horizon"), std::nullopt};
  insight::forecast::check_horizon(c.horizon);
  if (!insight::pg::arg_is_null(fcinfo, 2)) c.key = insight::pg::text_arg(fcinfo, 2, "group_key");
  if (PG_NARGS() > source_arg && !insight::pg::arg_is_null(fcinfo, source_arg))
    c.regressors_source = insight::pg::source_relation(fcinfo, source_arg);
  return c;
}

// The values of a model's regressors in the `horizon` periods it forecasts, per group key
// (horizon × regressors each, the mean of the rows of each period), from call.regressors_source
// — the relation with the training source's time, group and regressor columns. 22023 when it
// is missing or lacks a value of the periods forecast; none for a model without regressors.
std::map<std::string, std::vector<double>> future_regressors(
    const insight::forecast::ForecastModel& model, const ForecastCall& call,
    const std::vector<const insight::forecast::SeriesFit*>& wanted) {
  std::map<std::string, std::vector<double>> out;
  const std::vector<std::string>& names = model.covariates().regressors;
  if (names.empty()) {
    if (call.regressors_source)
      throw InvalidParameter("model \"" + call.name + "\" has no regressors",
                             "regressors_source is only for models trained with regressors.",
                             "Call it with regressors_source => NULL.");
    return out;
  }
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  if (!call.regressors_source)
    throw InvalidParameter(
        "model \"" + call.name + "\" needs the future values of its regressors (" + list + ")", "",
        "Pass regressors_source => a relation with the training source's time"
        " and group columns and " +
            list + " for the periods forecast.");
  if (!model.meta().contains("params"))
    throw insight::CorruptPayload("model \"" + call.name +
                                  "\" has regressors but no training options");
  const auto o = insight::forecast::ForecasterOptions::from_json(model.meta()["params"]);
  SeriesSpec spec{*call.regressors_source,  o.time_column, "", o.group_column, std::nullopt,
                  model.frequency().name(), names};
  std::vector<std::string> columns{spec.time_column};
  if (spec.group_column) columns.push_back(*spec.group_column);
  columns.insert(columns.end(), names.begin(), names.end());
  insight::pg::check_select(spec.source, columns);
  check_time_column(spec, " of regressors_source");
  if (spec.group_column) insight::pg::column_type(spec.source, *spec.group_column, "group_column");
  const std::string means = regressor_means_sql(spec, "regressors_source");
  const Frequency& f = model.frequency();
  const int64_t next = model.series().front().next_period();
  const int64_t end = next + call.horizon;
  std::vector<insight::pg::SpiArg> args{
      insight::pg::spi_timestamptz_arg(DatumGetTimestampTz(period_timestamptz(f, next))),
      insight::pg::spi_timestamptz_arg(DatumGetTimestampTz(period_timestamptz(f, end)))};
  const std::string x = wall_clock_sql(spec);
  const std::string sql = "SELECT " + group_sql(spec) + ", " + period_start_sql(f, spec) + means +
                          rows_sql(spec,
                                   x + " OPERATOR(pg_catalog.>=) $1::pg_catalog.timestamp AND " +
                                       x + " OPERATOR(pg_catalog.<) $2::pg_catalog.timestamp",
                                   args) +
                          " GROUP BY 1, 2";
  for (const auto* s : wanted)
    out[s->key].assign(static_cast<size_t>(call.horizon) * names.size(), std::nan(""));
  insight::pg::spi_connect();
  insight::pg::spi_stream(sql.c_str(), args, [&](const Datum* col, const bool* null, int) {
    if (null[0] || null[1]) return;
    const auto it = out.find(std::string(insight::pg::text_view(col[0])));
    if (it == out.end()) return;
    const int64_t period = f.period_of(DatumGetTimestamp(col[1]) + kPgEpochUsecs);
    if (period < next || period >= end) return;
    for (size_t j = 0; j < names.size(); ++j)
      if (!null[2 + j])
        it->second[static_cast<size_t>(period - next) * names.size() + j] =
            DatumGetFloat8(col[2 + j]);
  });
  insight::pg::spi_finish();
  for (const auto& [key, values] : out)
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isnan(values[i]) && insight::forecast::series_value_ok(values[i])) continue;
      const auto step = static_cast<int64_t>(i / names.size());
      const Datum start = period_timestamptz(f, next + step);
      const std::string when =
          guard([start] { return DatumGetCString(DirectFunctionCall1(timestamptz_out, start)); });
      throw InvalidParameter(
          "regressors_source has no value of \"" + names[i % names.size()] + "\"" +
              (model.grouped() ? " for group " + insight::echo(key) : std::string()) + " at " +
              when,
          std::isnan(values[i])
              ? "Forecasts need every regressor in each of the " + std::to_string(call.horizon) +
                    " " + f.period_noun() + "s forecast."
              : "Its value is not finite or beyond ±1e15.",
          "");
    }
  return out;
}

// Runs emit(model, series, future regressors, sink) for each series of the live forecaster the
// call names (one group's, or every group's), answering cancels between series. With
// `reconcile`, emit_reconciled(model, series, its reconciled points, sink) instead: every
// series is forecast, and the wanted ones are reconciled with the total (reconcile.hpp).
template <class Emit, class EmitReconciled>
void each_series(FunctionCallInfo fcinfo, const ForecastCall& call, bool reconcile, Emit&& emit,
                 EmitReconciled&& emit_reconciled) {
  const insight::pg::UsageTimer timer = insight::pg::usage_start_always();
  const insight::pg::ModelRef ref = insight::pg::resolve_live_model(call.name);
  const insight::ModelPtr held = insight::pg::load_model_by_id(ref.model_id);
  const auto& model = insight::pg::model_as<insight::forecast::ForecastModel>(
      *held, call.name, "a forecaster", "insight.train_forecaster");
  const auto wanted = wanted_series(model, call.name, call.key);
  static const std::vector<double> kNone;
  if (reconcile) {
    if (!model.grouped())
      throw InvalidParameter("model \"" + call.name + "\" has no groups to reconcile",
                             "It was trained without a group_column.",
                             "Call it with reconcile => false.");
    std::vector<const insight::forecast::SeriesFit*> all;
    for (const auto& s : model.series()) all.push_back(&s);
    const auto regressors = future_regressors(model, call, all);
    std::vector<std::vector<double>> per_series;
    for (const auto* s : all) {
      const auto it = regressors.find(s->key);
      per_series.push_back(it == regressors.end() ? kNone : it->second);
    }
    insight::pg::check_interrupts();
    const auto points = model.forecast_reconciled(call.horizon, call.confidence, per_series);
    insight::pg::RowSink sink(fcinfo);
    for (const auto* s : wanted)
      emit_reconciled(model, *s, points[static_cast<size_t>(s - model.series().data())], sink);
    insight::pg::usage_record(timer, insight::pg::model_usage_key(ref.model_id), sink.rows());
    return;
  }
  const auto regressors = future_regressors(model, call, wanted);
  insight::pg::RowSink sink(fcinfo);
  for (const auto* s : wanted) {
    insight::pg::check_interrupts();
    const auto it = regressors.find(s->key);
    emit(model, *s, it == regressors.end() ? kNone : it->second, sink);
  }
  insight::pg::usage_record(timer, insight::pg::model_usage_key(ref.model_id), sink.rows());
}

template <class Emit>
void each_series(FunctionCallInfo fcinfo, const ForecastCall& call, Emit&& emit) {
  each_series(fcinfo, call, false, std::forward<Emit>(emit), [](auto&&...) {});
}

}  // namespace

// forecast(name, horizon, group_key, confidence, regressors_source, reconcile)
//   → TABLE(group_key text, forecast_time timestamptz, forecast_value, lower_bound, upper_bound)
INSIGHT_FUNCTION(insight_forecast) {
  ForecastCall call = forecast_call(fcinfo, 4);
  call.confidence = insight::pg::float8_arg(fcinfo, 3, "confidence");
  insight::forecast::check_confidence(call.confidence);
  const bool reconcile =
      PG_NARGS() > 5 && !insight::pg::arg_is_null(fcinfo, 5) && PG_GETARG_BOOL(5);
  auto put = [](const auto& model, const auto& s, const auto& points, auto& sink) {
    for (const auto& p : points) {
      Datum v[5] = {model.grouped() ? insight::pg::text_datum(s.key) : static_cast<Datum>(0),
                    period_timestamptz(model.frequency(), p.period), Float8GetDatum(p.value),
                    Float8GetDatum(p.lower), Float8GetDatum(p.upper)};
      bool nulls[5] = {!model.grouped(), false, false, false, false};
      sink.put(v, nulls);
    }
  };
  each_series(
      fcinfo, call, reconcile,
      [&](const auto& model, const auto& s, const auto& future, auto& sink) {
        put(model, s, model.forecast(s, call.horizon, call.confidence, future), sink);
      },
      put);
  return static_cast<Datum>(0);
}

// explain_forecast(name, horizon, group_key, regressors_source)
//   → TABLE(group_key text, forecast_time timestamptz, component text, value float8)
// One row per period and component of each forecast; a period's values sum to its
// forecast_value (insight::forecast::Explanation).
INSIGHT_FUNCTION(insight_explain_forecast) {
  const ForecastCall call = forecast_call(fcinfo, 3);
  each_series(fcinfo, call, [&](const auto& model, const auto& s, const auto& future, auto& sink) {
    const insight::forecast::Explanation e = model.explain(s, call.horizon, future);
    for (int h = 0; h < call.horizon; ++h) {
      const Datum time = period_timestamptz(model.frequency(), s.next_period() + h);
      for (const auto& c : e) {
        Datum v[4] = {model.grouped() ? insight::pg::text_datum(s.key) : static_cast<Datum>(0),
                      time, insight::pg::text_datum(c.name),
                      Float8GetDatum(c.values[static_cast<size_t>(h)])};
        bool nulls[4] = {!model.grouped(), false, false, false};
        sink.put(v, nulls);
      }
    }
  });
  return static_cast<Datum>(0);
}

namespace {

// Backtests the learners on the source's series: rolling origin, `folds` windows of
// `horizon` periods per series, the sums merged over series (insight::forecast::Evaluator).
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
    insight::forecast::ForecasterOptions o = o_.forecaster;
    const insight::forecast::CovariateSpec covariates = covariate_spec(o);
    const BuiltSeries built = build_series(spec);
    if (built.series.empty()) throw no_rows(spec, built);
    // One evaluator per series, merged in order: the same sums whatever the thread count.
    std::vector<insight::forecast::Evaluator> per_series(
        built.series.size(), insight::forecast::Evaluator(learner, horizon, folds, confidence));
    insight::parallel_for(
        built.series.size(), insight::pg::training_threads(),
        [&](size_t i, const insight::InterruptCheck& poll_worker) {
          const auto& s = built.series[i];
          const insight::forecast::SeriesStart start(built.frequency, s.first_period);
          const insight::forecast::Covariates c =
              insight::forecast::make_covariates(covariates, start, s.values.size(), s.regressors);
          per_series[i].add(start, s.values, poll_worker, covariates.empty() ? nullptr : &c);
        },
        insight::pg::kInterrupts);
    insight::forecast::Evaluator total(learner, horizon, folds, confidence);
    for (const auto& e : per_series) total.merge(e);
    const insight::forecast::Evaluation result = total.result();
    if (result.scores.empty() || result.scores[0].series == 0) {
      const Frequency& f = built.frequency;
      const size_t scored = static_cast<size_t>(horizon) * static_cast<size_t>(folds);
      const size_t needed = (learner ? insight::forecast::min_history(*learner, f) + scored
                                     : insight::forecast::min_fallback_history(f)) +
                            scored;
      const std::string periods = f.period_noun() + "s";
      throw InvalidParameter("every series is too short to evaluate",
                             std::to_string(built.series.size()) + " series, none with at least " +
                                 std::to_string(needed) + " " + periods + " (" +
                                 std::to_string(folds) + " folds of " + std::to_string(horizon) +
                                 " " + periods + " to score, after what training needs)");
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

// The days `since` covers (months of 30 days). 22023 unless positive and at most 366 days.
double since_days(FunctionCallInfo fcinfo, int n) {
  if (insight::pg::arg_is_null(fcinfo, n)) throw InvalidParameter("since must not be NULL");
  const Interval* since = insight::pg::interval_arg(fcinfo, n);
  const double days = insight::pg::interval_days(since);
  if (!(days > 0) || days > 366)
    throw InvalidParameter("since must be a positive interval of at most 366 days",
                           "got " + insight::pg::interval_text(since));
  return days;
}

// The periods of `f` that `days` cover, rounded up (a month counts 30 days). 22023 beyond the
// 366 periods a window may hold.
int window_periods(double days, const Frequency& f) {
  const double periods = std::ceil(days * static_cast<double>(Frequency::kSecondsPerDay) /
                                       static_cast<double>(f.nominal_seconds()) -
                                   1e-9);
  if (periods > 366)
    throw InvalidParameter("since covers " + insight::format_number(periods) + " " +
                               f.period_noun() + "s; at most 366 can be judged",
                           "", "Use a shorter since, or a coarser frequency.");
  return std::max(1, static_cast<int>(periods));
}

}  // namespace

// _detect_series(source regclass, time_column text, value_column text, group_column text,
//     since interval, frequency text, confidence float8, only_group text, algorithm text)
//   → TABLE(group_key text, ts timestamptz, value float8, expected float8, lower_bound float8,
//           upper_bound float8, anomaly_score float8, is_anomaly boolean)
// Each group's series at the frequency asked or inferred (only only_group's, when given), its
// last `since` judged against what the periods before predict (insight::forecast::judge_recent,
// blocks of default_block() periods: a week of days, a day of hours).
INSIGHT_FUNCTION(insight_detect_series) {
  const insight::pg::SourceRelation source = insight::pg::source_relation(fcinfo, 0);
  SeriesSpec spec{source, insight::pg::text_arg(fcinfo, 1, "time_column"),
                  insight::pg::text_arg(fcinfo, 2, "value_column"), std::nullopt};
  if (!insight::pg::arg_is_null(fcinfo, 3))
    spec.group_column = insight::pg::text_arg(fcinfo, 3, "group_column");
  insight::forecast::JudgeOptions options;
  const double days = since_days(fcinfo, 4);
  spec.frequency = insight::pg::text_arg(fcinfo, 5, "frequency");
  if (spec.frequency != "auto") Frequency::from_text(spec.frequency);  // 22023 before any work
  options.confidence = insight::pg::float8_arg(fcinfo, 6, "confidence");
  insight::forecast::check_confidence(options.confidence);
  options.threads = insight::pg::training_threads();
  if (!insight::pg::arg_is_null(fcinfo, 7))
    spec.only_group = insight::pg::text_arg(fcinfo, 7, "only_group");
  options.learner =
      insight::forecast::learner_option(insight::pg::text_arg(fcinfo, 8, "algorithm"));

  insight::pg::check_select(source, series_columns(spec));
  const BuiltSeries built = build_series(spec);
  if (built.series.empty() && spec.only_group)
    throw insight::UndefinedObject(
        "relation " + source.qualified + " has no rows of group " + insight::echo(*spec.only_group),
        "Only " + built.frequency.period_noun() + "s that have ended count.");
  if (built.series.empty()) throw no_rows(spec, built);
  options.frequency = built.frequency;
  options.grouped = spec.group_column.has_value();
  options.window = window_periods(days, built.frequency);
  options.block = insight::forecast::default_block(built.frequency);
  const insight::forecast::Judgement judged =
      insight::forecast::judge_recent(built.series, options, insight::pg::kInterrupts);
  if (judged.skipped > 0) {
    // Built before the guard: nothing with a destructor lives in a frame ereport may leave.
    const std::string noun = options.frequency.period_noun();
    const size_t needed = insight::forecast::min_fallback_history(options.frequency);
    guard([&judged, &options, &noun, needed] {
      ereport(NOTICE,
              (errmsg("%zu of %zu series had fewer than %zu %ss before their last %d and were "
                      "not judged",
                      judged.skipped, judged.skipped + judged.series.size(), needed, noun.c_str(),
                      options.window)));
      return 0;
    });
  }
  insight::pg::RowSink sink(fcinfo);
  const bool grouped = spec.group_column.has_value();
  for (const auto& s : judged.series)
    for (const auto& d : s.points) {
      Datum v[8] = {grouped ? insight::pg::text_datum(s.key) : static_cast<Datum>(0),
                    period_timestamptz(built.frequency, d.period),
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
