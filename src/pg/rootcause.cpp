// SQL side of root-cause correlation (src/core/rootcause): insight._correlate behind the
// correlate_* functions, and insight.train_root_cause_classifier. Topology and telemetry are
// read with the caller's privileges, telemetry streamed straight from the executor into the
// detectors' arrays (pg/stream.hpp) through the (link_id, ts) primary key.
#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cmath>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/error.hpp"
#include "core/model/payload.hpp"
#include "core/rootcause/classifier.hpp"
#include "core/rootcause/detector.hpp"
#include "core/rootcause/options.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/stream.hpp"
#include "pg/training.hpp"
#include "pg/usage.hpp"
#include "pg/values.hpp"

#include "pg/pg_prelude.hpp"

using insight::InvalidParameter;
using insight::UndefinedObject;
using insight::pg::guard;
namespace rc = insight::rootcause;

namespace {

constexpr int kMaxHours = 720;
using insight::pg::unix_seconds;
TimestampTz pg_timestamp(int64_t unix) { return insight::pg::timestamptz_from_unix(unix); }

using insight::pg::text_view;
std::string text_or_empty(const Datum* v, const bool* n, int i) {
  return n[i] ? std::string() : std::string(text_view(v[i]));
}

// insight.links with each link's hub site and satellite (the link's own, else its antenna's).
rc::Topology read_topology() {
  std::vector<rc::LinkInfo> links;
  insight::pg::spi_stream(
      "SELECT l.link_id, l.network_id, l.hub_antenna_id, a.site_id, l.remote_site_id, "
      "       coalesce(l.satellite_name, a.satellite_name) "
      "FROM insight.links l LEFT JOIN insight.hub_antennas a ON a.antenna_id = l.hub_antenna_id",
      {}, [&](const Datum* v, const bool* n, int) {
        links.push_back(rc::LinkInfo{text_or_empty(v, n, 0), text_or_empty(v, n, 1),
                                     text_or_empty(v, n, 2), text_or_empty(v, n, 3),
                                     text_or_empty(v, n, 4), text_or_empty(v, n, 5)});
      });
  return rc::Topology(std::move(links));
}

// GUC insight.correlate_raw_rows: above this many raw rows a scope is read from the
// five-minute rollup (where it is fresh).
int correlate_raw_rows = 250000;

constexpr const char* kBucketOrigin = "timestamptz '2000-01-01 00:00+00'";

// Telemetry of `links` over [start, end), streamed into the series. Raw: one range scan of the
// (link_id, ts) primary key per link, written as a lateral join because a large
// "link_id = ANY ($1)" list makes the planner prefer a sequential scan of the whole table.
// Coarse: five-minute means, from insight.link_metrics_5m for the buckets before
// `covered_until` and from the raw rows after it, one sample per bucket at its start.
rc::Window read_window(const rc::Topology& topology, const std::vector<size_t>& links,
                       int64_t start, int64_t end, bool coarse, int64_t covered_until) {
  rc::Window w;
  w.start = start;
  w.end = end;
  w.links = links;
  w.series.resize(links.size());
  if (links.empty()) return w;
  std::vector<std::string> ids;
  for (const size_t l : links) ids.push_back(topology.link(l).link_id);
  // Rows come back with the link's position in $1 (1-based), not its id: no text per row.
  std::string columns;
  for (size_t k = 0; k < rc::kMetricCount; ++k) {
    columns += ", m.";
    columns += rc::metric_column(k);
  }
  const std::vector<insight::pg::SpiArg> args = {
      insight::pg::spi_text_array_arg(ids), insight::pg::spi_timestamptz_arg(pg_timestamp(start)),
      insight::pg::spi_timestamptz_arg(pg_timestamp(end)),
      insight::pg::spi_timestamptz_arg(pg_timestamp(coarse ? covered_until : end))};
  int64_t last_ord = 0;
  rc::Series* current = nullptr;
  const insight::pg::RowCallback add_row = [&](const Datum* v, const bool* n, int) {
    const int64_t ord = DatumGetInt64(v[0]);
    if (ord != last_ord) {
      if (ord < 1 || ord > static_cast<int64_t>(w.series.size()))
        throw insight::InternalError("telemetry row of an unknown link");
      last_ord = ord;
      current = &w.series[static_cast<size_t>(ord - 1)];
    }
    current->ts.push_back(unix_seconds(DatumGetTimestampTz(v[1])));
    std::array<float, rc::kMetricCount> row;
    for (size_t k = 0; k < rc::kMetricCount; ++k) {
      row[k] = n[k + 2] ? std::nanf("") : static_cast<float>(DatumGetFloat8(v[k + 2]));
    }
    current->values.push_back(row);
  };
  // One range scan per link of `table`'s (link_id, time) key, up to `until`.
  auto per_link = [&](const char* table, const char* time, const char* until) {
    return std::string("SELECT k.ord, m.") + time + columns +
           " FROM unnest($1::text[]) WITH ORDINALITY AS k(id, ord) CROSS JOIN LATERAL (SELECT * "
           "FROM " +
           table + " t WHERE t.link_id = k.id AND t." + time + " >= $2 AND t." + time + " < " +
           until + " ORDER BY t." + time + ") m";
  };
  if (!coarse) {
    insight::pg::spi_stream(per_link("insight.link_metrics", "ts", "$3").c_str(), args, add_row);
  } else {
    // The rollup's complete buckets, then the newer raw rows as five-minute means: the raw
    // tail is short, one scan of the ts index serves every link.
    insight::pg::spi_stream(per_link("insight.link_metrics_5m", "bucket", "least($3, $4)").c_str(),
                            args, add_row);
    std::string means;
    for (size_t k = 0; k < rc::kMetricCount; ++k) {
      means += ", avg(m.";
      means += rc::metric_column(k);
      means += ")";
    }
    const std::string tail =
        "SELECT k.ord, date_bin('5 minutes', m.ts, " + std::string(kBucketOrigin) + ")" + means +
        " FROM unnest($1::text[]) WITH ORDINALITY AS k(id, ord) "
        "JOIN insight.link_metrics m ON m.link_id = k.id "
        "WHERE m.ts >= greatest($2, $4) AND m.ts < $3 GROUP BY 1, 2 ORDER BY 1, 2";
    last_ord = 0;
    insight::pg::spi_stream(tail.c_str(), args, add_row);
  }
  // Rows arrive in time order per link; a series is sorted here only if they did not.
  for (rc::Series& s : w.series) {
    if (std::is_sorted(s.ts.begin(), s.ts.end())) continue;
    std::vector<size_t> order(s.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return s.ts[a] < s.ts[b]; });
    rc::Series sorted;
    for (const size_t i : order) {
      sorted.ts.push_back(s.ts[i]);
      sorted.values.push_back(s.values[i]);
    }
    s = std::move(sorted);
  }
  return w;
}

// Where the five-minute rollup is complete up to, if it covers any of the window and the
// caller may read it (it is only a faster path to what insight.link_metrics holds).
std::optional<int64_t> rollup_covered_until(int64_t start) {
  bool readable = false;
  insight::pg::spi_stream(
      "SELECT has_table_privilege('insight.rollup_state', 'SELECT') "
      "AND has_table_privilege('insight.link_metrics_5m', 'SELECT')",
      {}, [&](const Datum* v, const bool* n, int) { readable = !n[0] && DatumGetBool(v[0]); });
  if (!readable) return std::nullopt;
  std::optional<int64_t> until;
  insight::pg::spi_stream(
      "SELECT refreshed_until FROM insight.rollup_state WHERE name = 'link_metrics_5m' "
      "AND isfinite(refreshed_until)",
      {}, [&](const Datum* v, const bool* n, int) {
        if (!n[0]) until = unix_seconds(DatumGetTimestampTz(v[0]));
      });
  if (until && *until > start) return until;
  return std::nullopt;
}

// Raw rows of one link in the window: with the scope's size, the estimate of its raw rows.
int64_t raw_rows_of(const std::string& link_id, int64_t start, int64_t end) {
  int64_t rows = 0;
  insight::pg::spi_stream(
      "SELECT count(*) FROM insight.link_metrics WHERE link_id = $1 AND ts >= $2 AND ts < $3",
      {insight::pg::spi_text_arg(link_id), insight::pg::spi_timestamptz_arg(pg_timestamp(start)),
       insight::pg::spi_timestamptz_arg(pg_timestamp(end))},
      [&](const Datum* v, const bool* n, int) { rows = n[0] ? 0 : DatumGetInt64(v[0]); });
  return rows;
}

// The view's telemetry: its own links raw unless that would be more than
// insight.correlate_raw_rows rows and the rollup covers the window; its context peers from
// the rollup whenever it covers the window. `how` says what was read, for the evidence.
rc::Window read_view(const rc::Topology& topology, const rc::View& view, int64_t start, int64_t end,
                     nlohmann::json& how) {
  const auto covered = rollup_covered_until(start);
  bool scope_coarse = false;
  int64_t estimate = 0;
  if (covered) {
    estimate = raw_rows_of(topology.link(view.links.front()).link_id, start, end) *
               static_cast<int64_t>(view.links.size());
    scope_coarse = estimate > correlate_raw_rows;
  }
  rc::Window w = read_window(topology, view.links, start, end, scope_coarse, covered.value_or(0));
  const rc::Window peers =
      read_window(topology, view.context, start, end, covered.has_value(), covered.value_or(0));
  w.links.insert(w.links.end(), peers.links.begin(), peers.links.end());
  w.series.insert(w.series.end(), std::make_move_iterator(peers.series.begin()),
                  std::make_move_iterator(peers.series.end()));
  size_t rows = 0;
  for (const auto& s : w.series) rows += s.size();
  how = {{"scope", scope_coarse ? "5-minute rollup" : "raw"},
         {"context", view.context.empty() ? nlohmann::json(nullptr)
                                          : nlohmann::json(covered ? "5-minute rollup" : "raw")},
         {"rows_read", rows}};
  return w;
}

// Each scope's entity: how messages name it, and the topology table that lists it.
struct Entity {
  const char* noun;
  const char* table;
  const char* exists_sql;
  const char* argument;  // the id's argument name in the correlate_* function of the scope
};
const Entity& entity(rc::ScopeKind s) {
  static const std::array<Entity, 4> kEntities = {{
      {"link", "insight.links", "SELECT EXISTS (SELECT FROM insight.links WHERE link_id = $1)",
       "link_id"},
      {"hub antenna", "insight.hub_antennas",
       "SELECT EXISTS (SELECT FROM insight.hub_antennas WHERE antenna_id = $1)", "antenna_id"},
      {"satellite", "insight.satellites",
       "SELECT EXISTS (SELECT FROM insight.satellites WHERE satellite_name = $1)",
       "satellite_name"},
      {"network", "insight.networks",
       "SELECT EXISTS (SELECT FROM insight.networks WHERE network_id = $1)", "network_id"},
  }};
  return kEntities[static_cast<size_t>(s)];  // ScopeKind: Link, HubAntenna, Satellite, Network
}

// 42704 unless the entity is in its topology table (or referenced by a link).
void require_entity(rc::ScopeKind scope, const std::string& id, const rc::Topology& t) {
  if (!rc::scope_links(t, scope, id).empty()) return;
  bool exists = false;
  insight::pg::spi_stream(
      entity(scope).exists_sql, {insight::pg::spi_text_arg(id)},
      [&](const Datum* v, const bool* n, int) { exists = !n[0] && DatumGetBool(v[0]); });
  if (!exists) {
    throw UndefinedObject(
        std::string(entity(scope).noun) + " " + insight::echo(id) + " does not exist", "",
        std::string("Known ids are in ") + entity(scope).table + ".");
  }
}

void notice(const std::string& message, const std::string& hint) {
  const char* m = message.c_str();
  const char* h = hint.c_str();
  guard([m, h] {
    ereport(NOTICE, (errmsg("%s", m), errhint("%s", h)));
    return 0;
  });
}

rc::ScopeKind scope_arg(FunctionCallInfo fcinfo, int n) {
  const std::string s = insight::pg::text_arg(fcinfo, n, "scope");
  const auto scope = rc::scope_from_name(s);
  if (!scope)
    throw InvalidParameter("invalid scope " + insight::echo(s), "",
                           "scope must be one of link, hub_antenna, satellite, network.");
  return *scope;
}

int hours_arg(FunctionCallInfo fcinfo, int n) {
  const int32_t hours = insight::pg::int4_arg(fcinfo, n, "hours");
  if (hours < 1 || hours > kMaxHours)
    throw InvalidParameter("hours must be between 1 and 720", "hours = " + std::to_string(hours),
                           "");
  return hours;
}

// The correlate_* functions' default classifier: until one is trained under this name, the
// detectors work alone.
constexpr const char* kDefaultClassifier = "root_cause";

// The live classifier `name`; nullptr for the default name with no deployed version. Any other
// name must have one: 42704 (a misspelt name is not silently the detectors alone). model_id
// is set to the classifier's.
std::shared_ptr<const insight::Model> optional_classifier(const std::string& name,
                                                          int64_t& model_id) {
  std::optional<insight::pg::ModelRef> ref = insight::pg::find_live_model(name);
  if (!ref && name != kDefaultClassifier) ref = insight::pg::resolve_live_model(name);
  if (!ref) return nullptr;
  model_id = ref->model_id;
  return insight::pg::load_model_by_id(ref->model_id);
}

}  // namespace

namespace insight::pg {
void init_rootcause() {
  DefineCustomIntVariable(
      "insight.correlate_raw_rows",
      "Raw telemetry rows above which a correlate_* scope is read from the five-minute rollup.",
      "Wide scopes of one-minute telemetry (a network of a thousand links) are read as "
      "five-minute means from insight.link_metrics_5m where insight.refresh_link_rollup() has "
      "kept it fresh; 0 reads every scope from the rollup, a large value never.",
      &correlate_raw_rows, 250000, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}
}  // namespace insight::pg

// _correlate(scope, scope_id, hours, until, classifier)
//   → TABLE(pattern_type, severity, confidence, root_cause, affected, recommendations, evidence)
INSIGHT_FUNCTION(insight_correlate) {
  const rc::ScopeKind scope = scope_arg(fcinfo, 0);
  const std::string id = insight::pg::text_arg(fcinfo, 1, entity(scope).argument);
  const int hours = hours_arg(fcinfo, 2);
  const TimestampTz until = insight::pg::arg_is_null(fcinfo, 3)
                                ? guard([] { return GetCurrentTransactionStartTimestamp(); })
                                : PG_GETARG_TIMESTAMPTZ(3);
  const insight::pg::UsageTimer timer = insight::pg::usage_start_always();
  std::string classifier_name;
  std::shared_ptr<const insight::Model> model;
  int64_t classifier_id = 0;
  const rc::RootCauseModel* classifier = nullptr;
  if (!insight::pg::arg_is_null(fcinfo, 4)) {
    classifier_name = insight::pg::text_arg(fcinfo, 4, "classifier");
    model = optional_classifier(classifier_name, classifier_id);
    if (model) {
      classifier = &insight::pg::model_as<rc::RootCauseModel>(
          *model, classifier_name, "a root-cause classifier",
          "insight.train_root_cause_classifier()");
    }
  }
  const int64_t end = unix_seconds(until);
  const int64_t start = end - static_cast<int64_t>(hours) * 3600;

  insight::pg::spi_connect();
  const rc::Topology topology = read_topology();
  require_entity(scope, id, topology);
  const rc::View view = rc::make_view(topology, scope, id);
  insight::pg::RowSink sink(fcinfo);
  if (view.links.empty()) {
    insight::pg::spi_finish();
    notice(std::string(entity(scope).noun) + " \"" + id + "\" has no links",
           "Links are listed in insight.links.");
    return static_cast<Datum>(0);
  }
  nlohmann::json telemetry;
  const auto read_started = std::chrono::steady_clock::now();
  const rc::Window window = read_view(topology, view, start, end, telemetry);
  insight::pg::spi_finish();
  telemetry["read_ms"] = static_cast<double>(insight::pg::elapsed_us(read_started) / 100) / 10.0;
  const auto analysis_started = std::chrono::steady_clock::now();
  const rc::Analysis analysis(topology, scope, window, view.links.size());
  if (analysis.samples() == 0) {
    notice("no telemetry for " + std::string(entity(scope).noun) + " \"" + id + "\" in the last " +
               std::to_string(hours) + " hours before the analysis time",
           "insight.link_metrics has no rows for its links in that window; widen hours or "
           "pass until.");
    return static_cast<Datum>(0);
  }
  auto findings = rc::correlate(analysis, classifier, classifier_name);
  telemetry["analysis_ms"] =
      static_cast<double>(insight::pg::elapsed_us(analysis_started) / 100) / 10.0;
  for (rc::Finding& f : findings) {
    f.evidence["telemetry"] = telemetry;
    Datum v[7] = {insight::pg::text_datum(std::string(rc::pattern_name(f.pattern))),
                  Float8GetDatum(f.severity),
                  Float8GetDatum(f.confidence),
                  insight::pg::text_datum(f.root_cause),
                  insight::pg::text_array_datum(f.affected),
                  insight::pg::text_array_datum(f.recommendations),
                  insight::pg::jsonb_datum(f.evidence.dump())};
    bool nulls[7] = {false, false, false, false, false, false, false};
    sink.put(v, nulls);
  }
  // The classifier's use: one call, the findings it ranked.
  if (classifier != nullptr)
    insight::pg::usage_record(timer, insight::pg::model_usage_key(classifier_id), sink.rows());
  return static_cast<Datum>(0);
}

namespace {

// The reader reads incidents: each labelled incident's telemetry window, seen through its own
// scope and the views around it, becomes labelled episodes for the classifier.
class RootCauseTraining final : public insight::pg::TrainingWith<rc::ClassifierTrainingOptions> {
 public:
  using TrainingWith::TrainingWith;
  std::vector<std::string> columns() const override {
    return {"scope", "scope_id", "started_at", "ended_at", "root_cause"};
  }

  insight::pg::TrainedVersion train(const insight::pg::SourceRelation& source,
                                    const std::string& /*name*/) override {
    for (const auto& c : columns()) insight::pg::column_type(source, c, "an incidents column");
    insight::pg::spi_connect();
    // Incidents with a root cause; NULL or unknown values are counted and skipped.
    std::vector<rc::Incident> incidents;
    int64_t skipped = 0;
    const std::string sql =
        "SELECT scope::text, scope_id::text, started_at::timestamptz, ended_at::timestamptz, "
        "root_cause::text FROM " +
        source.qualified + " ORDER BY started_at, scope, scope_id";
    insight::pg::spi_stream(sql.c_str(), {}, [&](const Datum* v, const bool* n, int) {
      if (n[0] || n[1] || n[2] || n[3] || n[4]) {
        ++skipped;
        return;
      }
      const auto scope = rc::scope_from_name(text_view(v[0]));
      const auto cause = rc::pattern_from_name(text_view(v[4]));
      if (!scope || !cause || *cause == rc::Pattern::None) {
        ++skipped;
        return;
      }
      incidents.push_back(rc::Incident{*scope, std::string(text_view(v[1])),
                                       unix_seconds(DatumGetTimestampTz(v[2])),
                                       unix_seconds(DatumGetTimestampTz(v[3])), *cause});
    });
    const rc::Topology topology = read_topology();
    std::vector<rc::TrainingRow> rows;
    int64_t used = 0;
    size_t matched_own = 0, views_matched = 0, views_total = 0;
    for (size_t i = 0; i < incidents.size(); ++i) {
      const rc::Incident& inc = incidents[i];
      insight::pg::check_interrupts();
      const auto views = rc::training_views(topology, inc);
      if (views.empty() || inc.end <= inc.start) {
        ++skipped;
        continue;
      }
      const auto [start, end] = rc::training_window(inc);
      bool any = false;
      for (size_t k = 0; k < views.size(); ++k) {
        insight::pg::check_interrupts();
        const rc::View& view = views[k];
        std::vector<size_t> read = view.links;
        read.insert(read.end(), view.context.begin(), view.context.end());
        const rc::Window window = read_window(topology, read, start, end, false, 0);
        const rc::Analysis analysis(topology, view.scope, window, view.links.size());
        bool matched = false;
        for (rc::TrainingRow& row : rc::label_episodes(analysis, inc, incidents, matched)) {
          row.group = i;
          rows.push_back(row);
        }
        ++views_total;
        views_matched += matched ? 1 : 0;
        if (matched && k == 0) ++matched_own;
        any = any || matched;
      }
      if (any) {
        ++used;
      } else {
        ++skipped;
      }
    }
    insight::pg::spi_finish();

    auto model =
        rc::RootCauseModel::train(rows, o_, nlohmann::json::object(), insight::pg::kInterrupts);
    insight::Payload payload = model->to_payload();
    payload.meta["source"] = source.qualified;
    payload.meta["params"] = params();
    std::vector<std::string> features;
    for (const char* f : rc::feature_names()) features.emplace_back(f);
    insight::pg::TrainedVersion v(payload, std::move(features), used, skipped);
    v.metrics = {{"incidents", incidents.size()},
                 {"incidents_used", used},
                 {"incidents_found_in_own_scope", matched_own},
                 {"views", views_total},
                 {"views_matched", views_matched},
                 {"labelled_episodes", rows.size()},
                 {"class_counts", model->meta().at("class_counts")},
                 {"training_accuracy", model->meta().at("training_accuracy")},
                 {"cv_accuracy", model->meta().at("cv_accuracy")},
                 {"cv_folds", model->meta().at("cv_folds")},
                 {"payload_bytes", v.payload.size()}};
    return v;
  }
};

const insight::pg::TaskRegistrationOf<RootCauseTraining> kRootCauseTask("root_cause");

}  // namespace
