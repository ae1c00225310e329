// insight.model_drift: the live model's training profile (core/model/profile.hpp) against the
// recent rows of a source. Anomaly detectors: each feature's population stability index and
// share of values outside the training range, and the shift of the anomaly scores (a uniform
// sample of at most kScoredRows recent rows is scored).
#include <string>
#include <vector>

#include "core/anomaly/anomaly_model.hpp"
#include "core/anomaly/reservoir.hpp"
#include "core/common/error.hpp"
#include "core/model/profile.hpp"

#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/stream.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::pg::guard;
namespace profile = insight::profile;

constexpr size_t kScoredRows = 20000;
constexpr uint64_t kSampleSeed = 42;

[[noreturn]] void no_profile(const std::string& name, int32_t version, const char* why) {
  throw insight::ObjectNotInPrerequisiteState(
      "model \"" + name + "\" version " + std::to_string(version) + " has no training profile", why,
      "Retrain it to get a profile: SELECT insight.retrain('" + name + "');");
}

// The relation to compare: the argument, or the one the model was trained on.
insight::pg::SourceRelation drift_source(FunctionCallInfo fcinfo, const insight::Model& model,
                                         const std::string& name) {
  if (!insight::pg::arg_is_null(fcinfo, 1)) return insight::pg::source_relation(fcinfo, 1);
  const auto s = model.meta().find("source");
  if (s == model.meta().end() || !s->is_string())
    throw InvalidParameter("model \"" + name + "\" does not record the relation it was trained on",
                           "", "Pass the rows to compare as source.");
  const std::string text = s->get<std::string>();
  const char* qualified = text.c_str();
  const Oid relid = guard([qualified] {
    return DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(qualified)));
  });
  return insight::pg::source_relation(relid);
}

// 42703 naming every feature the source lacks; 22023 for one that is not numeric.
void require_features(const insight::pg::SourceRelation& source,
                      const std::vector<std::string>& features, const std::string& name) {
  std::string missing, all;
  for (const auto& f : features) {
    all += (all.empty() ? "" : ", ") + f;
    try {
      insight::pg::numeric_column(source, f, "a feature", "feature", "Features");
    } catch (const insight::UndefinedColumn&) {
      missing += (missing.empty() ? "" : ", ") + f;
    }
  }
  if (!missing.empty())
    throw insight::UndefinedColumn(
        source.qualified + " lacks features of model \"" + name + "\": " + missing,
        "The model was trained on the features " + all + ".",
        "Compare rows that have every feature the model was trained on.");
}

void put(insight::pg::RowSink& sink, const profile::DriftRow& r) {
  Datum v[5] = {insight::pg::text_datum(r.feature), insight::pg::text_datum(r.statistic),
                Float8GetDatum(r.value), Float8GetDatum(r.threshold), BoolGetDatum(r.drifted)};
  bool nulls[5] = {r.feature.empty(), false, !r.has_value, false, !r.has_verdict};
  sink.put(v, nulls);
}

// The live version of `name` as model_drift judges it: an anomaly detector with a training
// profile and feature names; 55000 or 0A000 otherwise.
const insight::anomaly::AnomalyModel& judged_model(const insight::Model& m, const std::string& name,
                                                   int32_t version) {
  if (m.algorithm() == insight::Algorithm::External)
    no_profile(name, version,
               "It was registered (insight.register_model), not trained by pg_insight.");
  if (m.algorithm() != insight::Algorithm::IsolationForest)
    throw insight::FeatureNotSupported(
        "insight.model_drift does not judge " + std::string(insight::task_name(m.task())) +
            " models in this version",
        "It judges anomaly detectors; model \"" + name + "\" has task " +
            std::string(insight::task_name(m.task())) + " and algorithm " +
            std::string(insight::algorithm_name(m.algorithm())) + ".");
  const auto& model = static_cast<const insight::anomaly::AnomalyModel&>(m);
  if (!model.profile()) no_profile(name, version, "It was trained by pg_insight 0.2.0 or earlier.");
  if (model.feature_names().empty() || model.feature_names()[0].empty())
    no_profile(
        name, version,
        "It was trained from arrays (insight.isolation_forest_fit) and has no feature names.");
  return model;
}

// 22023 unless the `since` argument (n) is NULL or a positive interval.
void check_since(FunctionCallInfo fcinfo, int n) {
  if (insight::pg::arg_is_null(fcinfo, n)) return;
  const Interval* since = insight::pg::interval_arg(fcinfo, n);
  if (insight::pg::interval_days(since) > 0) return;
  throw InvalidParameter("since must be a positive interval, or NULL for every row",
                         "got " + insight::pg::interval_text(since));
}

void anomaly_drift(FunctionCallInfo fcinfo, const insight::anomaly::AnomalyModel& model,
                   const std::string& name) {
  const profile::AnomalyProfile& prof = *model.profile();
  const std::vector<std::string>& features = model.feature_names();
  const insight::pg::SourceRelation source = drift_source(fcinfo, model, name);
  require_features(source, features, name);
  std::vector<std::string> read = features;
  // `since` filters on the time column the model was trained with, where the source has it.
  bool filtered = false;
  if (!prof.time_column.empty() && !insight::pg::arg_is_null(fcinfo, 2)) {
    const char* column = prof.time_column.c_str();
    const Oid relid = source.relid;
    filtered = guard([relid, column] { return get_attnum(relid, column) != InvalidAttrNumber; });
    if (filtered) read.push_back(prof.time_column);
  }
  insight::pg::check_select(source, read);

  std::string sql = "SELECT ";
  for (size_t j = 0; j < features.size(); ++j)
    sql += (j ? ", " : "") + insight::pg::quoted(features[j]) + "::pg_catalog.float8";
  sql += " FROM " + source.qualified;
  std::vector<insight::pg::SpiArg> args;
  if (filtered) {
    sql += " WHERE " + insight::pg::quoted(prof.time_column) +
           " OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)";
    args.push_back({INTERVALOID, PG_GETARG_DATUM(2), false});
  }

  const size_t d = features.size();
  std::vector<profile::Histogram> hist;
  for (const auto& dist : prof.features) hist.emplace_back(dist);
  insight::anomaly::Reservoir sample(kScoredRows, kSampleSeed);
  std::vector<double> row(d);
  insight::pg::spi_connect();
  const uint64_t rows =
      insight::pg::spi_stream(sql.c_str(), args, [&](const Datum* values, const bool* nulls, int) {
        bool complete = true;
        for (size_t j = 0; j < d; ++j) {
          if (nulls[j]) {
            complete = false;
            continue;
          }
          row[j] = DatumGetFloat8(values[j]);
          if (std::isfinite(row[j]))
            hist[j].add(prof.features[j], row[j]);
          else
            complete = false;
        }
        if (complete) sample.add(row.data(), d);
      });
  insight::pg::spi_finish();

  profile::Histogram scores(prof.scores);
  for (size_t i = 0; i < sample.size(); ++i) scores.add(prof.scores, model.score(sample.row(i)));

  insight::pg::RowSink sink(fcinfo);
  // The rows compared (feature NULL), beside the fewest a verdict needs.
  put(sink, {"", "rows", static_cast<double>(rows), static_cast<double>(profile::kMinRows), true,
             false, false});
  for (size_t j = 0; j < d; ++j)
    for (const auto& r : profile::drift_rows(features[j], prof.features[j], hist[j])) put(sink, r);
  for (const auto& r : profile::drift_rows("anomaly_score", prof.scores, scores, false))
    put(sink, r);
}

}  // namespace

// model_drift(name text, source regclass, since interval)
//   → TABLE(feature text, statistic text, value float8, threshold float8, drifted boolean)
INSIGHT_FUNCTION(insight_model_drift) {
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  check_since(fcinfo, 2);
  const insight::pg::ModelRef ref = insight::pg::resolve_live_model(name);
  const insight::ModelPtr held = insight::pg::load_model_by_id(ref.model_id);
  anomaly_drift(fcinfo, judged_model(*held, name, ref.version), name);
  return static_cast<Datum>(0);
}

// _require_profile(name text, since interval) → void: what model_drift(name, since => since)
// raises before it reads a row (schedule_retraining's and retrain_on_evidence's check).
INSIGHT_FUNCTION(insight_require_profile) {
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  check_since(fcinfo, 1);
  const insight::pg::ModelRef ref = insight::pg::resolve_live_model(name);
  judged_model(*insight::pg::load_model_by_id(ref.model_id), name, ref.version);
  PG_RETURN_VOID();
}
