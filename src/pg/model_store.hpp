// Loading models from insight.models: a per-backend LRU cache of deserialized models keyed by
// model_id (rows never change once written), and the name → live model resolution that
// scoring functions cache per statement in fn_extra.
#pragma once

#include <cstdint>
#include <optional>
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
// The same, or nullopt when `name` has no deployed version (for optional models).
std::optional<ModelRef> find_live_model(const std::string& name);
// A given version of `name`; UndefinedObject when absent.
ModelRef resolve_model_version(const std::string& name, int32_t version);
// A model kept alive from plain PostgreSQL memory (fn_extra): the shared_ptr lives on the heap
// and a reset callback on the context releases it when the query (or statement) is over.
struct HeldModel {
  ModelPtr* ptr;
};
HeldModel* new_held_model(MemoryContext cxt);
// Replaces the held model; returns the new one.
const Model& hold(HeldModel* held, ModelPtr model);

// Per-call-site cache of "name → live model", kept by a SQL function in its fn_extra (plain
// data in fn_mcxt). The first call in a statement looks the name up; later calls with the same
// name reuse the answer. FmgrInfo can outlive a statement (PL/pgSQL keeps simple expressions
// for the whole transaction), so the answer is tagged with what makes the catalog's visible
// state change: the transaction, its command counter, and how many transactions had completed
// when the snapshot was taken. The deserialized model is held too, released with fn_mcxt.
struct LiveModelSlot {
  bool valid;
  LocalTransactionId lxid;
  CommandId command_id;
  uint64 completions;
  ModelRef ref;
  size_t name_len;
  char name[NAMEDATALEN];
  HeldModel* held;  // the model of loaded_model_id
  int64_t loaded_model_id;
};

// Sets up a zeroed slot in cxt (fn_mcxt): for call_site_state.
void init_live_model_slot(LiveModelSlot& slot, MemoryContext cxt);
// The call site's slot (fn_extra), set up on the first call.
LiveModelSlot* live_model_slot(FunctionCallInfo fcinfo);
// The live model's id and version for `name` (a text Datum), via the slot.
ModelRef resolve_live_model_cached(LiveModelSlot* slot, Datum name);
// The live model itself, via the slot (loaded through the backend cache when it changed).
const Model& live_model(LiveModelSlot* slot, Datum name);

// The one wrong-kind error: InvalidParameter (22023) "<subject> is not <kind>" (kind with its
// article: "a forecaster"), with the model's task and algorithm, and a HINT to train one with
// <trainer>. subject names the model as the caller knows it (model "<name>", or "the model"
// for a payload).
[[noreturn]] void wrong_model_kind(const Model& m, const std::string& subject, const char* kind,
                                   const char* trainer);
// `m` as the learner type M, or the wrong-kind error for model "<name>".
template <class M>
const M& model_as(const Model& m, const std::string& name, const char* kind, const char* trainer) {
  const auto* typed = dynamic_cast<const M*>(&m);
  if (typed == nullptr) wrong_model_kind(m, "model \"" + name + "\"", kind, trainer);
  return *typed;
}

// The deserialized model, from the backend cache or loaded (and cached) from the catalog.
// CorruptPayload (XX001) for a bad payload.
ModelPtr load_model_by_id(int64_t model_id);

ModelCache& backend_model_cache();
// The OID of the insight.models table the cached model_ids belong to (InvalidOid before the
// first catalog lookup of this backend).
Oid catalog_relid();
uint64_t catalog_name_lookups();

// GUC insight.model_cache_size (kB) and its hook.
void init_model_store();

}  // namespace insight::pg
