// Loading models from insight.models: a per-backend LRU cache of deserialized models keyed by
// model_id (rows never change once written), and the name → live model resolution that
// scoring functions cache per statement in fn_extra.
#pragma once

#include <cstdint>
#include <string>

#include "core/model/model_cache.hpp"

#include "pg/boundary.hpp"

namespace insight::pg {

struct ModelRef {
  int64_t model_id = 0;
  int32_t version = 0;
};

// Live model of `name` (newest deployment); UndefinedObject (42704) with a HINT when none.
ModelRef resolve_live_model(const std::string& name);
// A given version of `name`; UndefinedObject when absent.
ModelRef resolve_model_version(const std::string& name, int32_t version);
// The live model, resolved once per statement: the first call in a statement (per FmgrInfo)
// looks the name up, later calls with the same name reuse the answer from fn_extra.
ModelRef resolve_live_model_cached(FunctionCallInfo fcinfo, const std::string& name);

// The deserialized model, from the backend cache or loaded (and cached) from the catalog.
// CorruptPayload (XX001) for a bad payload.
ModelPtr load_model_by_id(int64_t model_id);

ModelCache& backend_model_cache();
uint64_t catalog_name_lookups();

// GUC insight.model_cache_size (kB) and its hook.
void init_model_store();

}  // namespace insight::pg
