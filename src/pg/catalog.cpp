// SQL-callable functions of the model catalog that need C++: payload inspection and encoding,
// cached model loading and name resolution. The catalog writes themselves (versions,
// deployments, rollback, drop) are SECURITY DEFINER SQL functions in control/.
#include <nlohmann/json.hpp>
#include <string>

#include "core/common/error.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"

#include "pg/model_store.hpp"
#include "pg/values.hpp"

using insight::pg::bytea_arg;
using insight::pg::jsonb_datum;

namespace {

insight::Task parse_task(const std::string& name) {
  auto t = insight::task_from_name(name);
  if (!t)
    throw insight::InvalidParameter("invalid task " + insight::echo(name),
                                    "Allowed values: " + insight::task_names() + ".");
  return *t;
}

}  // namespace

// insight.payload_info(payload bytea) RETURNS jsonb
INSIGHT_FUNCTION(insight_payload_info) {
  const auto bytes = bytea_arg(fcinfo, 0, "payload");
  const insight::Payload p = insight::decode_payload(bytes.data, bytes.size);
  nlohmann::json out = {
      {"format_version", insight::kPayloadFormatVersion},
      {"algorithm", insight::algorithm_name(p.algorithm)},
      {"task", insight::task_name(p.task)},
      {"payload_bytes", bytes.size},
      {"metadata_bytes", p.meta.dump().size()},
      {"body_bytes", p.body.size()},
      {"metadata", p.meta},
  };
  return jsonb_datum(out.dump());
}

// insight._external_payload(task text, metadata jsonb, body bytea) RETURNS bytea
INSIGHT_FUNCTION(insight_external_payload) {
  insight::Payload p;
  p.algorithm = insight::Algorithm::External;
  p.task = parse_task(insight::pg::text_arg(fcinfo, 0, "task"));
  p.meta = insight::parse_metadata(insight::pg::jsonb_arg_text(fcinfo, 1));
  const auto body = bytea_arg(fcinfo, 2, "body");
  p.body.assign(body.data, body.data + body.size);
  const auto bytes = insight::encode_payload(p);
  return insight::pg::bytea_datum(bytes.data(), bytes.size());
}

// insight.describe_model(name text, version int DEFAULT NULL) RETURNS jsonb
INSIGHT_FUNCTION(insight_describe_model) {
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  const bool live = insight::pg::arg_is_null(fcinfo, 1);
  insight::pg::ModelRef ref;
  if (live) {
    ref = insight::pg::resolve_live_model(name);
  } else {
    ref = insight::pg::resolve_model_version(name, PG_GETARG_INT32(1));
  }
  insight::ModelPtr model = insight::pg::load_model_by_id(ref.model_id);
  nlohmann::json out = {
      {"name", name},
      {"version", ref.version},
      {"model_id", ref.model_id},
      {"task", insight::task_name(model->task())},
      {"algorithm", insight::algorithm_name(model->algorithm())},
      {"scorable", model->scorable()},
      {"memory_bytes", model->memory_bytes()},
      {"metadata", model->meta()},
  };
  if (live) out["live"] = true;
  return jsonb_datum(out.dump());
}

// insight.live_model_id(name text) RETURNS bigint — resolved once per statement.
INSIGHT_FUNCTION(insight_live_model_id) {
  const auto ref = insight::pg::resolve_live_model_cached(insight::pg::live_model_slot(fcinfo),
                                                          PG_GETARG_DATUM(0));
  PG_RETURN_INT64(ref.model_id);
}

// insight.model_cache_stats() RETURNS jsonb
INSIGHT_FUNCTION(insight_model_cache_stats) {
  const auto s = insight::pg::backend_model_cache().stats();
  nlohmann::json out = {
      {"entries", s.entries},     {"bytes", s.bytes},
      {"max_bytes", s.max_bytes}, {"max_entries", s.max_entries},
      {"hits", s.hits},           {"misses", s.misses},
      {"evictions", s.evictions}, {"name_lookups", insight::pg::catalog_name_lookups()},
  };
  return jsonb_datum(out.dump());
}

// insight.model_cache_reset() RETURNS void
INSIGHT_FUNCTION(insight_model_cache_reset) {
  insight::pg::backend_model_cache().clear();
  PG_RETURN_VOID();
}

// insight._acting_role() RETURNS name — the role that called into pg_insight: current_user as
// it was outside every SECURITY DEFINER function (so SET ROLE is honoured). The catalog records
// it as trained_by / deployed_by.
INSIGHT_FUNCTION(insight_acting_role) {
  return insight::pg::guard([] {
    const char* role = GetUserNameFromId(GetOuterUserId(), false);
    return DirectFunctionCall1(namein, CStringGetDatum(role));
  });
}
