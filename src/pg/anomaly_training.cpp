// train_anomaly_detector's task on the one training path (pg/training.hpp): the
// isolation forest aggregate run over the caller's relation; evaluate_anomaly_detector.
#include <string>
#include <utility>
#include <vector>

#include "core/anomaly/anomaly_model.hpp"
#include "core/anomaly/labels.hpp"
#include "core/anomaly/metrics.hpp"
#include "core/anomaly/options.hpp"
#include "core/common/error.hpp"
#include "core/model/payload.hpp"

#include "pg/anomaly.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/stream.hpp"
#include "pg/training.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::pg::column_type;
using insight::pg::is_numeric_type;
using insight::pg::quoted;

// The reader is the aggregate: insight._isolation_forest_train over the source's feature
// columns, which may run in parallel workers; its payload gets the feature names and source.
class AnomalyTraining final : public insight::pg::TrainingWith<insight::anomaly::DetectorOptions> {
 public:
  using TrainingWith::TrainingWith;
  std::vector<std::string> columns() const override { return o_.features; }

  insight::pg::TrainedVersion train(const insight::pg::SourceRelation& source,
                                    const std::string& name) override {
    const auto& m = o_.model;
    std::string array = "ARRAY[";
    for (size_t i = 0; i < o_.features.size(); ++i) {
      const std::string& f = o_.features[i];
      insight::pg::numeric_column(source, f, "a feature", "feature", "Features");
      array += (i ? ", " : "") + quoted(f) + "::pg_catalog.float8";
    }
    array += "]";
    // Identifiers are quoted from the catalog's own names; values travel as parameters.
    const std::string sql = "SELECT insight._isolation_forest_train(" + array +
                            ", $1, $2, $3, $4, $5) FROM " + source.qualified;
    insight::pg::spi_connect();
    insight::pg::spi_exec(
        sql.c_str(),
        {insight::pg::spi_int4_arg(m.forest.n_trees),
         insight::pg::spi_int4_arg(m.forest.sample_size),
         insight::pg::spi_int4_arg(static_cast<int32_t>(static_cast<uint32_t>(m.forest.seed))),
         insight::pg::SpiArg{FLOAT8OID, Float8GetDatum(m.contamination), false},
         insight::pg::SpiArg{BOOLOID, BoolGetDatum(m.standardize), false}},
        true);
    std::vector<uint8_t> bytes = insight::pg::spi_bytea(0, 1);
    insight::pg::spi_finish();

    insight::Payload payload = insight::decode_payload(bytes.data(), bytes.size());
    payload.meta["features"] = o_.features;
    payload.meta["source"] = source.qualified;
    const std::string time_column = insight::pg::time_column_of(source);
    if (payload.meta.contains("profile") && !time_column.empty())
      payload.meta["profile"]["time_column"] = time_column;
    use_labels(payload, name);
    const nlohmann::json& metrics = payload.meta["metrics"];
    return insight::pg::TrainedVersion(payload, o_.features, metrics.at("rows_seen").get<int64_t>(),
                                       metrics.at("rows_skipped").get<int64_t>(), metrics);
  }

 private:
  // The operators' labels of the earlier versions of `name` (insight.alert_labels: the rows of
  // alerts resolved as fixed or as false positives, with the features they were scored on)
  // choose the threshold (core/anomaly/labels.hpp). Rows lacking one of this version's
  // features are left out; an installation older than the alerts has none.
  void use_labels(insight::Payload& payload, const std::string& name) const {
    const size_t d = o_.features.size();
    std::string sql =
        "SELECT l.is_anomaly, 1.0::pg_catalog.float8 / pg_catalog.count(*) OVER (PARTITION BY "
        "l.alert_id)";
    for (size_t i = 1; i <= d; ++i) {
      const std::string key = "l.features OPERATOR(pg_catalog.->) ($2)[" + std::to_string(i) + "]";
      sql += ", CASE WHEN pg_catalog.jsonb_typeof(" + key + ") = 'number' THEN (" + key +
             ")::pg_catalog.text::pg_catalog.float8 END";
    }
    sql +=
        " FROM insight.alert_labels l JOIN insight.models m ON m.model_id = l.model_id"
        " WHERE m.name = $1";
    std::vector<double> rows;
    std::vector<bool> labels;
    std::vector<double> weights;
    insight::pg::spi_connect();
    const uint64_t has_labels = insight::pg::spi_exec(
        "SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = 'insight' "
        "AND c.relname = 'alert_labels'",
        {}, true);
    if (has_labels > 0) {
      insight::pg::spi_stream(
          sql.c_str(),
          {insight::pg::spi_text_arg(name), insight::pg::spi_text_array_arg(o_.features)},
          [&](const Datum* v, const bool* n, int) {
            for (size_t j = 0; j < d + 2; ++j)
              if (n[j]) return;
            labels.push_back(DatumGetBool(v[0]));
            weights.push_back(DatumGetFloat8(v[1]));
            for (size_t j = 0; j < d; ++j) rows.push_back(DatumGetFloat8(v[j + 2]));
          });
    }
    insight::pg::spi_finish();
    if (!labels.empty()) insight::anomaly::apply_labels(payload, rows, labels, weights);
  }
};

const insight::pg::TaskRegistrationOf<AnomalyTraining> kAnomalyTask("anomaly");

}  // namespace

//   → TABLE(metric text, value float8)
INSIGHT_FUNCTION(insight_evaluate_anomaly_detector) {
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  const insight::pg::SourceRelation source = insight::pg::source_relation(fcinfo, 1);
  const std::string label = insight::pg::text_arg(fcinfo, 2, "label_column");
  const insight::pg::ModelRef ref = insight::pg::resolve_live_model(name);
  const insight::ModelPtr held = insight::pg::load_model_by_id(ref.model_id);
  const insight::anomaly::AnomalyModel& model =
      insight::pg::anomaly::as_anomaly_model(*held, [&] { return "model \"" + name + "\""; });
  const auto& features = model.feature_names();
  if (features.empty() || features[0].empty())
    throw InvalidParameter("model \"" + name + "\" has no feature names",
                           "It was trained from arrays; evaluate it with your own query.");
  std::vector<std::string> columns(features.begin(), features.end());
  columns.push_back(label);
  insight::pg::check_select(source, columns);
  const Oid label_type = column_type(source, label, "label_column");
  if (label_type != BOOLOID && !is_numeric_type(label_type))
    throw InvalidParameter("label column \"" + label +
                           "\" must be boolean or numeric (1 = anomaly)");
  std::string sql = "SELECT ";
  for (const auto& f : features) {
    insight::pg::numeric_column(source, f, "a feature of the model", "feature", "Features");
    sql += quoted(f) + "::pg_catalog.float8, ";
  }
  sql += label_type == BOOLOID ? quoted(label) + "::pg_catalog.int4"
                               : quoted(label) + "::pg_catalog.float8";
  sql += " FROM " + source.qualified;

  const size_t d = features.size();
  const bool label_is_int = label_type == BOOLOID;  // selected as int4, else as float8
  std::vector<double> scores;
  std::vector<bool> labels;
  std::vector<double> x(d);
  insight::pg::spi_connect();
  insight::pg::spi_stream(sql.c_str(), {}, [&](const Datum* v, const bool* n, int) {
    for (size_t j = 0; j <= d; ++j)
      if (n[j]) return;  // a NULL feature or label: not scored, as in training
    for (size_t j = 0; j < d; ++j) x[j] = DatumGetFloat8(v[j]);
    insight::pg::anomaly::check_finite(x.data(), d);
    scores.push_back(model.score(x.data()));
    labels.push_back((label_is_int ? DatumGetInt32(v[d]) : DatumGetFloat8(v[d])) != 0);
  });
  insight::pg::spi_finish();

  const auto m = insight::anomaly::detection_metrics(scores, labels, model.threshold());
  insight::pg::RowSink sink(fcinfo);
  sink.put_metrics({
      {"roc_auc", m.roc_auc},
      {"pr_auc", m.pr_auc},
      {"precision", m.precision},
      {"recall", m.recall},
      {"f1", m.f1},
      {"threshold", model.threshold()},
      {"rows", static_cast<double>(m.rows)},
      {"anomalies", static_cast<double>(m.positives)},
  });
  return static_cast<Datum>(0);
}
