// libFuzzer target for the forecasting series builder and what consumes its output
// (scripts/run-fuzz runs it in `make test`).
//
// The input decodes (fuzz_rows.hpp) into options and a sequence of (group, time, value) rows,
// each of which may be NULL in any column. They go through the path of src/pg/forecast.cpp:
//   1. the SQL aggregate `SELECT g, (t)::date, sum(v::numeric)::float8, count(v), count(*)
//      ... GROUP BY 1, 2` — replayed here on the decoded rows (NULL groups and days are groups
//      of their own; a day group whose values are all NULL has a NULL sum);
//   2. build_series(): its row callback (NULL key/day/sum skipped and counted, an infinite
//      date rejected; a replica, as it reads streamed Datums — keep it in step), then the core's
//      SeriesGrid, the same code the server runs: the daily, zero-filled grid per group up to
//      the relation's last day, with its span and calendar checks;
//   3. the core: train_forecast_payload() (train_forecaster), one Evaluator per series,
//      merged (evaluate_forecaster), or judge_recent() (detect_series_anomalies), with small
//      horizons, folds and windows, and only when the series are short enough for a run to
//      stay in the millisecond range. The grid's periods are read at the fuzzed frequency
//      (day, hour, week or month): every learner's seasons, features and payload at each.
// insight::InvalidParameter is the expected outcome of bad data and is caught. Everything
// else — another exception (InternalError and CorruptPayload included), a crash, an
// ASan/UBSan report, a broken invariant below — aborts, and libFuzzer saves the input.
//
// Invariants checked: rows used + skipped = rows read; rows used = rows with a group, a day
// and a value; series keys strictly increasing, each series non-empty, ending on the
// relation's last day, at most 100 years long, its cells the exact daily sums (0 elsewhere);
// training accounts for every series (trained + skipped, and the skipped are exactly the
// short ones under 'auto'); the payload it returns encodes, loads back (a freshly trained
// model must never be "corrupt"), and the loaded model has the same series, days and
// horizon, and forecasts consecutive days with lower ≤ value ≤ upper (all finite for
// realistically sized data), whose explanations (explain_forecast) sum to them, also with a
// holiday calendar and a regressor; a grouped model's reconciled forecasts cover every group
// and step, finite with lower ≤ value ≤ upper; optionally, training on two threads gives the
// same bytes as on
// one; evaluation scores account for every series, with finite metrics and coverage in [0, 1];
// judging accounts for every series (judged + skipped, the skipped exactly those too short),
// each judged series has one day per day of the window, consecutive, ending on the last day,
// with the series' own values, and a day is an anomaly exactly when it is outside its bounds,
// which hold the expected value.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <typeinfo>
#include <vector>

#include "core/common/error.hpp"
#include "core/forecast/backtest.hpp"
#include "core/forecast/covariates.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/forecast/series_anomaly.hpp"
#include "core/forecast/series_grid.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"
#include "fuzz_rows.hpp"
#include "fuzz_run.hpp"

namespace {

using insight::forecast::Learner;
using insight::forecast::SeriesData;

// As in src/pg/forecast.cpp.
constexpr int64_t kPgEpochDay = 10957;

// Resource limits of the harness (not of the code under test).
constexpr size_t kMaxGridCells = size_t{1} << 21;  // 16 MiB of doubles across all series
// Training and evaluation run only on at most this many days in all, so an input stays in the
// millisecond range: seasonal_naive, holt_winters and linear are cheap; the tree learners
// (random_forest, gradient_boosting, their combination, and 'auto' once a series is long
// enough for them) cost tens of milliseconds a fit under the sanitizers, and 'auto' and the
// evaluation fit several times over.
constexpr size_t kLightCells = 400;
constexpr size_t kHeavyCells = 96;
// Values up to this size are "realistic": forecasts from them must be finite.
constexpr double kRealistic = 1e9;

struct Cancelled {};  // what a cancelled query's interrupt check throws (PgError in the server)

struct Options {
  std::optional<Learner> learner;
  // The frequency training, evaluation and judging read the built (daily) grid's periods as:
  // the learners' seasons, features and payloads at every frequency.
  insight::forecast::Frequency frequency;
  int horizon = 7, folds = 1;
  bool grouped = false, evaluate = false, two_threads = false, judge = false;
  bool holidays = false;  // train with a holiday calendar (every 11th day, three names) and a
                          // regressor
  double confidence = 0.9;
  unsigned cancel_after = 0;  // evaluate: the interrupt check throws at this call (0: never)
};

struct Row {
  bool key_null, time_null, value_null;
  std::string key;
  fuzzrows::Time time;
  double value;
};

Options decode_options(fuzzrows::Reader& r) {
  Options o;
  const uint8_t l = r.u8();
  if (l % 8 < 7) o.learner = static_cast<Learner>(l % 8);
  static const insight::forecast::Frequency kFrequencies[4] = {
      insight::forecast::Frequency::day(), insight::forecast::Frequency::hour(),
      insight::forecast::Frequency::week(), insight::forecast::Frequency::month()};
  o.frequency = kFrequencies[(l >> 3) % 4];
  o.horizon = 1 + r.u8() % 14;
  o.folds = 1 + r.u8() % 3;
  const uint8_t f = r.u8();
  o.grouped = f & 1;
  o.evaluate = f & 2;
  o.two_threads = f & 4;
  static constexpr double kConfidence[4] = {0.9, 0.5, 0.999, 0.01};
  o.confidence = kConfidence[(f >> 4) & 3];
  o.cancel_after = (f & 8) ? 1 + r.u8() % 64 : 0;
  o.judge = f & 64;
  o.holidays = f & 128;
  return o;
}

std::vector<Row> decode_rows(fuzzrows::Reader& r, bool grouped) {
  return fuzzrows::read_rows<Row>(r, [&](Row& row, uint8_t flags) {
    row.key = r.str();
    row.time = r.time();
    row.value = r.f64();
    // Without a group column the SQL groups by the literal '': never NULL, always "".
    row.key_null = grouped && (flags & 1);
    if (!grouped) row.key.clear();
    row.time_null = flags & 2;
    row.value_null = flags & 4;
  });
}

// ---- step 1: the SQL aggregate ----

struct DayGroup {  // one output row of the GROUP BY
  bool key_null = false;
  std::string key;
  bool day_null = false, day_finite = true;
  int64_t day = 0;  // core day number (days since 1970-01-01) when finite
  bool sum_null = true;
  double sum = 0;
  int64_t used = 0, all = 0;
};

std::vector<DayGroup> aggregate(const std::vector<Row>& rows) {
  // Group identity: (key or NULL, day or NULL or ±infinity).
  using Id = std::tuple<bool, std::string, bool, int, int64_t>;
  std::map<Id, DayGroup> groups;
  for (const Row& row : rows) {
    const int inf = row.time_null || row.time.finite ? 0 : (row.time.micros < 0 ? -1 : 1);
    const int64_t day = row.time_null || !row.time.finite ? 0 : row.time.day + kPgEpochDay;
    const Id id{row.key_null, row.key_null ? std::string() : row.key, row.time_null, inf, day};
    DayGroup& g = groups[id];
    g.key_null = row.key_null;
    g.key = std::get<1>(id);
    g.day_null = row.time_null;
    g.day_finite = inf == 0;
    g.day = day;
    ++g.all;
    if (!row.value_null) {
      ++g.used;
      g.sum = g.sum_null ? row.value : g.sum + row.value;
      g.sum_null = false;
    }
  }
  std::vector<DayGroup> out;
  for (auto& [id, g] : groups) out.push_back(std::move(g));
  return out;
}

// ---- step 2: build_series() of src/pg/forecast.cpp: its row loop, then the core's grid ----

struct BuiltSeries {
  std::vector<SeriesData> series;
  int64_t rows_used = 0, rows_skipped = 0;
  int64_t last_day = 0;
};

// nullopt: the harness's own memory limit was hit (the server would allocate it).
std::optional<BuiltSeries> build_series(const std::vector<DayGroup>& result, bool grouped) {
  insight::forecast::SeriesGrid grid(grouped);
  BuiltSeries out;
  int64_t last_day = INT64_MIN;
  for (const DayGroup& r : result) {
    if (r.key_null || r.day_null || r.sum_null) {
      out.rows_skipped += r.all;
      continue;
    }
    if (!r.day_finite)
      throw insight::InvalidParameter("time column \"t\" holds an infinite date", "",
                                      "Filter the rows with a view, then train on the view.");
    out.rows_used += r.used;
    out.rows_skipped += r.all - r.used;
    grid.add(r.key, r.day, r.sum);
    last_day = std::max(last_day, r.day);
  }
  if (grid.cells() > kMaxGridCells) return std::nullopt;
  out.series = grid.build();
  out.last_day = last_day;
  return out;
}

bool same_double(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

void check_built(const std::vector<Row>& rows, const BuiltSeries& b, bool grouped) {
  FUZZ_CHECK(b.rows_used + b.rows_skipped == static_cast<int64_t>(rows.size()),
             "used %lld + skipped %lld != %zu rows", static_cast<long long>(b.rows_used),
             static_cast<long long>(b.rows_skipped), rows.size());
  // Independently: the exact daily sums of the rows with a group, a day and a value.
  std::map<std::pair<std::string, int64_t>, double> sums;
  int64_t complete = 0;
  for (const Row& row : rows) {
    if (row.key_null || row.time_null || row.value_null) continue;
    ++complete;
    auto [it, fresh] = sums.try_emplace({row.key, row.time.day + kPgEpochDay}, row.value);
    if (!fresh) it->second += row.value;
  }
  FUZZ_CHECK(b.rows_used == complete, "rows used %lld, rows with group, day and value %lld",
             static_cast<long long>(b.rows_used), static_cast<long long>(complete));
  FUZZ_CHECK(grouped || b.series.size() <= 1, "ungrouped: %zu series", b.series.size());
  size_t cells_with_rows = 0;
  for (size_t i = 0; i < b.series.size(); ++i) {
    const SeriesData& s = b.series[i];
    FUZZ_CHECK(grouped || s.key.empty(), "ungrouped series with a key");
    FUZZ_CHECK(i == 0 || b.series[i - 1].key < s.key, "series keys not strictly increasing");
    FUZZ_CHECK(!s.values.empty(), "empty series");
    FUZZ_CHECK(s.values.size() <= static_cast<size_t>(insight::forecast::kMaxSeriesDays),
               "series too long");
    FUZZ_CHECK(s.first_period + static_cast<int64_t>(s.values.size()) - 1 == b.last_day,
               "series \"%s\" does not end on the last day", s.key.c_str());
    FUZZ_CHECK(
        insight::forecast::valid_day(s.first_period) && insight::forecast::valid_day(b.last_day + 367),
        "series outside the calendar range");
    const auto first = sums.lower_bound({s.key, INT64_MIN});
    FUZZ_CHECK(
        first != sums.end() && first->first.first == s.key && first->first.second == s.first_period,
        "series \"%s\" does not start on its first day", s.key.c_str());
    for (size_t t = 0; t < s.values.size(); ++t) {
      const auto it = sums.find({s.key, s.first_period + static_cast<int64_t>(t)});
      if (it == sums.end()) {
        FUZZ_CHECK(same_double(s.values[t], 0.0), "a day without rows is not 0");
      } else {
        ++cells_with_rows;
        FUZZ_CHECK(same_double(s.values[t], it->second), "cell %zu of \"%s\" is not its daily sum",
                   t, s.key.c_str());
      }
    }
  }
  FUZZ_CHECK(cells_with_rows == sums.size(), "%zu daily sums, %zu placed", sums.size(),
             cells_with_rows);
}

// ---- step 3: the core ----

size_t total_days(const BuiltSeries& b) {
  size_t n = 0;
  for (const SeriesData& s : b.series) n += s.values.size();
  return n;
}

bool realistic(const std::vector<SeriesData>& series) {
  for (const SeriesData& s : series)
    for (double v : s.values)
      if (!(std::fabs(v) <= kRealistic)) return false;
  return true;
}

// Bugs this fuzzer found in training, since fixed (daily sums are limited to ±1e15, a
// subnormal mean is base_score 0; test/fuzz/README.md): the guards keep them fixed, and
// anything else unexpected aborts anyway.
void known_training_error(const insight::Error& e) {
  const std::string what = e.what();
  // Finite but huge values (|v| beyond float's range) give the random forest a non-finite
  // split or leaf, which the ensemble's own validation rejects during training:
  // train_forecaster and evaluate_forecaster fail with XX001 "invalid split node in tree 0".
  if (dynamic_cast<const insight::CorruptPayload*>(&e))
    FUZZ_KNOWN("tree-overflow", what.find("in tree") == std::string::npos,
               "training raised CorruptPayload: %s", e.what());
  // gradient_boosting passes the series mean to XGBoost as base_score in %g text; a
  // subnormal (or float-overflowing) mean is refused: XX000 "XGBoost: Out of range value
  // for base_score".
  if (dynamic_cast<const insight::InternalError*>(&e))
    FUZZ_KNOWN("xgb-base-score", what.find("base_score") == std::string::npos,
               "training raised InternalError: %s", e.what());
  // Huge (e.g. 1e277) or, in evaluation, non-finite daily sums make the features (sums of
  // squares) or the float copies of features and targets ±inf/NaN, which XGBoost refuses:
  // XX000 "XGBoost: ... Input data contains `inf` or `nan`" or "... Label contains NaN,
  // infinity or a value too large" from gradient_boosting, 'auto' and combination.
  if (dynamic_cast<const insight::InternalError*>(&e))
    FUZZ_KNOWN("xgb-nonfinite",
               what.find("contains `inf` or `nan`") == std::string::npos &&
                   what.find("Label contains NaN") == std::string::npos,
               "training raised InternalError: %s", e.what());
}

// train_forecaster: train, encode, load back, forecast.
void train(const BuiltSeries& built, const Options& o) {
  if (built.series.empty()) return;  // "relation ... has no rows with both ... set"
  insight::forecast::TrainOptions to;
  to.frequency = o.frequency;
  to.learner = o.learner;
  to.horizon = o.horizon;
  to.folds = o.folds;
  to.threads = 1;
  if (o.holidays) {
    int64_t first = INT64_MAX;
    for (const SeriesData& s : built.series) first = std::min(first, s.first_period);
    std::vector<std::pair<int64_t, std::string>> rows;
    const int64_t from = o.frequency.start_day(first) - 30,
                  to_day = o.frequency.start_day(built.last_day + 20) + 30;
    for (int64_t d = from - ((from % 11) + 11) % 11; d <= to_day && rows.size() < 50'000; d += 11)
      if (insight::forecast::valid_day(d)) rows.emplace_back(d, "h" + std::to_string(((d % 3) + 3) % 3));
    to.covariates.holidays = insight::forecast::HolidayCalendar::from_rows(rows);
  }
  // With the calendar, a regressor too: half the value on every fifth period (a series' own
  // history as something known ahead, extremes included); its future values are 0.
  std::vector<SeriesData> trained_on = built.series;
  if (o.holidays) {
    to.covariates.regressors = {"r"};
    for (SeriesData& s : trained_on) {
      s.regressors.assign(s.values.size(), 0.0);
      for (size_t t = 0; t < s.values.size(); t += 5) s.regressors[t] = s.values[t] / 2;
    }
  }
  const auto future = [&](int h) {
    return std::vector<double>(o.holidays ? static_cast<size_t>(h) : 0, 0.0);
  };
  insight::forecast::TrainSummary summary;
  insight::Payload payload;
  try {
    payload = insight::forecast::train_forecast_payload(trained_on, o.grouped, to, {}, summary);
  } catch (const insight::InvalidParameter&) {
    return;
  } catch (const insight::Error& e) {
    known_training_error(e);
    throw;
  }
  const size_t n = built.series.size();
  FUZZ_CHECK(summary.series + summary.skipped_series == n, "trained %zu + skipped %zu != %zu",
             summary.series, summary.skipped_series, n);
  size_t short_series = 0;
  for (const SeriesData& s : built.series)
    short_series +=
        s.values.size() < insight::forecast::min_fallback_history(o.frequency) ? 1 : 0;
  if (o.learner) {
    FUZZ_CHECK(summary.skipped_series == 0, "an explicit learner skipped series");
    const size_t needed = insight::forecast::min_history(*o.learner, o.frequency) +
                          static_cast<size_t>(o.horizon) * static_cast<size_t>(o.folds);
    for (const SeriesData& s : built.series)
      FUZZ_CHECK(s.values.size() >= needed, "trained a %zu-day series, %zu needed", s.values.size(),
                 needed);
  } else {
    FUZZ_CHECK(summary.skipped_series == short_series, "'auto' skipped %zu, %zu are short",
               summary.skipped_series, short_series);
  }
  FUZZ_CHECK(payload.task == insight::Task::Forecast, "wrong task");
  FUZZ_CHECK(payload.algorithm == insight::forecast::forecast_algorithm(o.learner),
             "wrong algorithm tag");

  const std::vector<uint8_t> bytes = insight::encode_payload(payload);
  insight::ModelPtr model;
  try {
    model = insight::load_model(bytes.data(), bytes.size());
  } catch (const insight::Error& e) {
    // Fixed (values beyond ±1e15 are refused): a finite but huge daily sum (±1.7e308, say)
    // overflows a learner's state or the backtest residuals to ±inf/NaN; training stores it, and
    // the loader refuses it, so every forecast() of the new model fails with XX001 ("linear
    // forecaster state is not finite", "non-finite number in body" for holt_winters).
    const std::string what = e.what();
    FUZZ_KNOWN("nonfinite-state",
               what.find("not finite") == std::string::npos &&
                   what.find("non-finite") == std::string::npos,
               "a freshly trained forecaster does not load: %s", e.what());
    FUZZ_CHECK(false, "a freshly trained forecaster does not load: %s (%s)", e.what(),
               e.detail().c_str());
  }
  const auto* f = dynamic_cast<const insight::forecast::ForecastModel*>(model.get());
  FUZZ_CHECK(f != nullptr, "loaded model is not a forecaster");
  FUZZ_CHECK(f->grouped() == o.grouped && f->trained_horizon() == o.horizon &&
                 f->trained_folds() == o.folds,
             "loaded model options differ");
  FUZZ_CHECK(f->series().size() == summary.series, "loaded %zu series, trained %zu",
             f->series().size(), summary.series);
  const bool check_finite = realistic(built.series);
  size_t forecasts = 0;
  for (const insight::forecast::SeriesFit& s : f->series()) {
    const auto it =
        std::lower_bound(built.series.begin(), built.series.end(), s.key,
                         [](const SeriesData& a, const std::string& k) { return a.key < k; });
    FUZZ_CHECK(it != built.series.end() && it->key == s.key, "unknown series key in model");
    FUZZ_CHECK(s.first_period == it->first_period && s.periods == it->values.size(),
               "series \"%s\": periods differ", s.key.c_str());
    FUZZ_CHECK(s.next_period() == built.last_day + 1, "series does not continue the last day");
    FUZZ_CHECK(f->frequency() == o.frequency, "model of another frequency");
    FUZZ_CHECK(!o.learner || s.learner == *o.learner, "model uses another learner");
    FUZZ_CHECK(s.residuals.size() == static_cast<size_t>(o.horizon), "residual steps");
    FUZZ_CHECK(f->find(s.key) == &s, "find() does not find series \"%s\"", s.key.c_str());
    if (forecasts++ == 3) continue;  // a few series are enough
    for (int h : {1, o.horizon + 3}) {
      const auto points = f->forecast(s, h, o.confidence, future(h));
      FUZZ_CHECK(points.size() == static_cast<size_t>(h), "forecast of %zu points, %d asked",
                 points.size(), h);
      for (size_t k = 0; k < points.size(); ++k) {
        const auto& p = points[k];
        FUZZ_CHECK(p.period == s.next_period() + static_cast<int64_t>(k),
                   "forecast days not consecutive");
        if (check_finite)
          FUZZ_CHECK(std::isfinite(p.value) && std::isfinite(p.lower) && std::isfinite(p.upper),
                     "non-finite forecast from data within ±%g (learner %d, step %zu: %g [%g, %g])",
                     kRealistic, static_cast<int>(s.learner), k, p.value, p.lower, p.upper);
        if (std::isfinite(p.value) && std::isfinite(p.lower) && std::isfinite(p.upper))
          FUZZ_CHECK(p.lower <= p.value && p.value <= p.upper,
                     "interval does not hold the forecast: %g [%g, %g]", p.value, p.lower, p.upper);
      }
      // explain_forecast: components that add up to each step's forecast.
      const insight::forecast::Explanation e = f->explain(s, h, future(h));
      for (size_t k = 0; k < points.size(); ++k) {
        double sum = 0;
        for (const auto& c : e) {
          FUZZ_CHECK(c.values.size() == points.size(), "component %s of %zu steps", c.name.c_str(),
                     c.values.size());
          sum += c.values[k];
        }
        if (check_finite && std::isfinite(sum))
          FUZZ_CHECK(std::fabs(sum - points[k].value) <=
                         1e-6 * std::max({1.0, std::fabs(points[k].value), std::fabs(sum)}),
                     "components sum to %g, the forecast is %g (learner %d, step %zu)", sum,
                     points[k].value, static_cast<int>(s.learner), k);
      }
    }
  }

  // reconcile => true: every group's forecast, reconciled with the model's total.
  // (A grouped model has none only when its groups' sums add up beyond ±1e15.)
  if (!o.grouped) FUZZ_CHECK(f->total() == nullptr, "an ungrouped model with a total");
  if (f->total() != nullptr) {
    const auto all = f->forecast_reconciled(
        o.horizon, o.confidence,
        std::vector<std::vector<double>>(f->series().size(), future(o.horizon)));
    FUZZ_CHECK(all.size() == f->series().size(), "reconciled %zu series of %zu", all.size(),
               f->series().size());
    for (const auto& points : all) {
      FUZZ_CHECK(points.size() == static_cast<size_t>(o.horizon), "reconciled %zu steps",
                 points.size());
      for (const auto& p : points)
        if (check_finite)
          FUZZ_CHECK(std::isfinite(p.value) && p.lower <= p.value && p.value <= p.upper,
                     "reconciled forecast %g [%g, %g]", p.value, p.lower, p.upper);
    }
  }

  if (o.two_threads && n > 1) {  // the same model, bit for bit, whatever the thread count
    to.threads = 2;
    insight::forecast::TrainSummary again;
    const std::vector<uint8_t> other = insight::encode_payload(
        insight::forecast::train_forecast_payload(trained_on, o.grouped, to, {}, again));
    FUZZ_CHECK(other == bytes, "two threads trained a different model");
  }
}

// Runs work(check) with an interrupt check that cancels at the o.cancel_after-th call; false
// when it stopped at an expected outcome (bad data: InvalidParameter; a cancel).
template <class Work>
bool run_cancellable(const Options& o, Work&& work) {
  unsigned calls = 0;
  const insight::InterruptCheck check = [&calls, &o] {
    if (o.cancel_after != 0 && ++calls >= o.cancel_after) throw Cancelled{};
  };
  try {
    work(check);
  } catch (const insight::InvalidParameter&) {
    return false;
  } catch (const Cancelled&) {
    return false;
  } catch (const insight::Error& e) {
    known_training_error(e);
    throw;
  }
  return true;
}

// evaluate_forecaster: one evaluator per series, merged in order.
void evaluate(const BuiltSeries& built, const Options& o) {
  if (built.series.empty()) return;
  insight::forecast::Evaluator total(o.learner, o.horizon, o.folds, o.confidence);
  const bool done = run_cancellable(o, [&](const insight::InterruptCheck& check) {
    for (const SeriesData& s : built.series) {
      insight::forecast::Evaluator e(o.learner, o.horizon, o.folds, o.confidence);
      e.add(insight::forecast::SeriesStart(o.frequency, s.first_period), s.values, check);
      total.merge(e);
    }
  });
  if (!done) return;
  const insight::forecast::Evaluation result = total.result();
  FUZZ_CHECK(result.scores.size() == 1 + (o.learner ? 0 : insight::forecast::all_learners().size()),
             "%zu scores", result.scores.size());
  FUZZ_CHECK(result.skipped + result.scores[0].series == built.series.size(),
             "evaluated %zu + skipped %zu != %zu series", result.scores[0].series, result.skipped,
             built.series.size());
  const bool check_finite = realistic(built.series);
  for (const auto& s : result.scores) {
    FUZZ_CHECK(s.series <= result.scores[0].series, "a candidate scored on more series");
    if (s.series == 0) continue;
    FUZZ_CHECK(!(s.coverage < 0) && !(s.coverage > 1), "coverage %g", s.coverage);
    if (check_finite)
      FUZZ_CHECK(std::isfinite(s.mae) && std::isfinite(s.rmse) && std::isfinite(s.smape) &&
                     !(s.mae < 0) && !(s.rmse < 0) && !(s.smape < 0) && s.coverage >= 0,
                 "%s: mae %g rmse %g smape %g mase %g coverage %g", s.algorithm.c_str(), s.mae,
                 s.rmse, s.smape, s.mase, s.coverage);
  }
}

// detect_series_anomalies: the last `horizon` days of each series judged, in blocks of
// folds + 1 days.
void judge(const BuiltSeries& built, const Options& o) {
  if (built.series.empty()) return;
  insight::forecast::JudgeOptions jo;
  jo.frequency = o.frequency;
  jo.grouped = o.grouped;
  jo.window = o.horizon;
  jo.block = o.folds + 1;
  jo.confidence = o.confidence;
  jo.threads = o.two_threads ? 2 : 1;
  insight::forecast::Judgement j;
  const bool done = run_cancellable(o, [&](const insight::InterruptCheck& check) {
    j = insight::forecast::judge_recent(built.series, jo, check);
  });
  if (!done) return;
  FUZZ_CHECK(j.series.size() + j.skipped == built.series.size(), "judged %zu + skipped %zu != %zu",
             j.series.size(), j.skipped, built.series.size());
  const size_t window = static_cast<size_t>(o.horizon);
  size_t next = 0;  // the judged series come in the input's order
  for (const SeriesData& s : built.series) {
    const bool too_short =
        s.values.size() < window + insight::forecast::min_fallback_history(o.frequency);
    if (too_short) continue;
    FUZZ_CHECK(next < j.series.size() && j.series[next].key == s.key,
               "series \"%s\" was long enough but not judged", s.key.c_str());
    const auto& days = j.series[next++].points;
    FUZZ_CHECK(days.size() == window, "%zu days judged, window %zu", days.size(), window);
    for (size_t k = 0; k < days.size(); ++k) {
      const auto& d = days[k];
      const size_t t = s.values.size() - window + k;
      FUZZ_CHECK(d.period == s.first_period + static_cast<int64_t>(t),
                 "judged days not the last ones");
      FUZZ_CHECK(same_double(d.value, s.values[t]), "a judged value is not the series' own");
      if (std::isfinite(d.expected) && std::isfinite(d.lower) && std::isfinite(d.upper) &&
          std::isfinite(d.value)) {
        FUZZ_CHECK(d.lower <= d.expected && d.expected <= d.upper,
                   "bounds do not hold the expected value: %g [%g, %g]", d.expected, d.lower,
                   d.upper);
        FUZZ_CHECK(d.anomaly == (d.value < d.lower || d.value > d.upper),
                   "anomaly flag differs from the bounds: %g [%g, %g]", d.value, d.lower, d.upper);
      }
    }
  }
  FUZZ_CHECK(next == j.series.size(), "%zu series judged that are too short",
             j.series.size() - next);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzzrows::Reader r(data, size);
  const Options o = decode_options(r);
  const std::vector<Row> rows = decode_rows(r, o.grouped);
  std::optional<BuiltSeries> built;
  try {
    built = build_series(aggregate(rows), o.grouped);
  } catch (const insight::InvalidParameter&) {
    return 0;
  }
  if (!built) return 0;
  check_built(rows, *built, o.grouped);
  const bool heavy = o.judge || !o.learner || *o.learner == Learner::RandomForest ||
                     *o.learner == Learner::GradientBoosting || *o.learner == Learner::Combination;
  if (total_days(*built) > (heavy ? kHeavyCells : kLightCells)) return 0;
  fuzzrows::run_checked(
      [&] {
        if (o.judge)
          judge(*built, o);
        else if (o.evaluate)
          evaluate(*built, o);
        else
          train(*built, o);
      },
      false);
  return 0;
}
