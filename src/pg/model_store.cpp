#include <cstring>
#include <memory>

#include "core/common/error.hpp"

#include "pg/model_store.hpp"
#include "pg/values.hpp"

namespace insight::pg {
namespace {

constexpr size_t kMaxCachedEntries = 1024;
int model_cache_size_kb = 256 * 1024;  // GUC insight.model_cache_size
uint64_t name_lookups = 0;

// Heap-allocated on first use and never freed: it lives as long as the backend.
ModelCache* cache_instance = nullptr;

void assign_cache_size(int newval, void*) noexcept {
  model_cache_size_kb = newval;
  if (cache_instance != nullptr)
    cache_instance->set_limits(static_cast<size_t>(newval) * 1024, kMaxCachedEntries);
}

// Catalog queries run with the caller's search_path, so every table and operator is
// schema-qualified: a user's own `=` or table named like ours can never be picked up.

// An unknown name is reported by insight._require_model(), the same check the SQL lifecycle
// functions use, so the message and HINT are written once; that error is raised inside SPI and
// travels up as a PgError with its SQLSTATE, detail and hint intact.
void require_model(const std::string& name) {
  spi_connect();
  spi_exec("SELECT insight._require_model($1)", {spi_text_arg(name)}, true);
  spi_finish();
}

struct StatementTag {
  LocalTransactionId lxid;
  CommandId command_id;
  uint64 completions;
};

// Reads of backend state that cannot raise an error (GetCurrentCommandId(false) only
// returns the counter): no guard on this per-row path.
StatementTag current_statement_tag() {
  StatementTag t{};
  t.lxid = MyProc->lxid;
  t.command_id = GetCurrentCommandId(false);
  t.completions = ActiveSnapshotSet() ? GetActiveSnapshot()->snapXactCompletionCount : 0;
  return t;
}

// The cache is keyed by model_id, which is unique within one incarnation of insight.models.
// A backend sees one database; if the extension is dropped and created again in it (the
// sequence restarts), the table's OID changes and the cache starts over.
Oid cached_catalog_relid = InvalidOid;

void sync_catalog(Oid relid) {
  if (relid != cached_catalog_relid) {
    backend_model_cache().clear();
    cached_catalog_relid = relid;
  }
}

}  // namespace

ModelCache& backend_model_cache() {
  if (cache_instance == nullptr)
    cache_instance =
        new ModelCache(static_cast<size_t>(model_cache_size_kb) * 1024, kMaxCachedEntries);
  return *cache_instance;
}

Oid catalog_relid() { return cached_catalog_relid; }

uint64_t catalog_name_lookups() { return name_lookups; }

std::optional<ModelRef> find_live_model(const std::string& name) {
  ++name_lookups;
  spi_connect();
  const uint64_t n = spi_exec(
      "SELECT d.model_id, m.version, m.tableoid FROM insight.deployments d "
      "JOIN insight.models m ON m.model_id OPERATOR(pg_catalog.=) d.model_id "
      "WHERE d.name OPERATOR(pg_catalog.=) $1 ORDER BY d.deployment_id DESC LIMIT 1",
      {spi_text_arg(name)}, true);
  std::optional<ModelRef> ref;
  if (n == 1) {
    ref = ModelRef{spi_int64(0, 1).value_or(0), static_cast<int32_t>(spi_int64(0, 2).value_or(0))};
    sync_catalog(static_cast<Oid>(spi_int64(0, 3).value_or(0)));
  }
  spi_finish();
  return ref;
}

ModelRef resolve_live_model(const std::string& name) {
  const auto ref = find_live_model(name);
  if (!ref) {
    require_model(name);  // raises 42704 when the name has no versions at all
    throw UndefinedObject("model " + insight::echo(name) + " has no deployed version", "",
                          "Deploy one with insight.deploy(name, version).");
  }
  return *ref;
}

ModelRef resolve_model_version(const std::string& name, int32_t version) {
  ++name_lookups;
  spi_connect();
  const uint64_t n = spi_exec(
      "SELECT model_id, tableoid FROM insight.models "
      "WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
      {spi_text_arg(name), spi_int4_arg(version)}, true);
  ModelRef ref;
  if (n == 1) {
    ref.model_id = spi_int64(0, 1).value_or(0);
    ref.version = version;
    sync_catalog(static_cast<Oid>(spi_int64(0, 2).value_or(0)));
  }
  spi_finish();
  if (n != 1) {
    require_model(name);
    throw UndefinedObject(
        "model " + insight::echo(name) + " has no version " + std::to_string(version), "",
        "insight.models lists the versions of every model.");
  }
  return ref;
}

namespace {
void release_held_model(void* arg) {
  auto* held = static_cast<HeldModel*>(arg);
  delete held->ptr;
  held->ptr = nullptr;
}
}  // namespace

HeldModel* new_held_model(MemoryContext cxt) {
  auto* held = static_cast<HeldModel*>(
      guard([cxt] { return MemoryContextAllocZero(cxt, sizeof(HeldModel)); }));
  on_context_reset(cxt, release_held_model, held);
  return held;
}

const Model& hold(HeldModel* held, ModelPtr model) {
  release_held_model(held);  // never leave a freed pointer for the reset callback
  held->ptr = new ModelPtr(std::move(model));
  return **held->ptr;
}

void init_live_model_slot(LiveModelSlot& slot, MemoryContext cxt) {
  slot.held = new_held_model(cxt);
}

LiveModelSlot* live_model_slot(FunctionCallInfo fcinfo) {
  return call_site_state<LiveModelSlot>(fcinfo, init_live_model_slot);
}

ModelRef resolve_live_model_cached(LiveModelSlot* slot, Datum name_datum) {
  // Compare the name without converting it: no allocation per row on the hot path.
  const text* t = detoasted_packed(name_datum);
  const char* name_data = VARDATA_ANY(t);
  const size_t name_len = VARSIZE_ANY_EXHDR(t);
  const StatementTag tag = current_statement_tag();
  if (slot->valid && slot->lxid == tag.lxid && slot->command_id == tag.command_id &&
      slot->completions == tag.completions && slot->name_len == name_len &&
      std::memcmp(slot->name, name_data, name_len) == 0)
    return slot->ref;
  const std::string name(name_data, name_len);
  const ModelRef ref = resolve_live_model(name);
  slot->valid = name_len < NAMEDATALEN;
  if (slot->valid) {
    slot->lxid = tag.lxid;
    slot->command_id = tag.command_id;
    slot->completions = tag.completions;
    slot->ref = ref;
    slot->name_len = name_len;
    std::memcpy(slot->name, name_data, name_len);
  }
  return ref;
}

const Model& live_model(LiveModelSlot* slot, Datum name) {
  const ModelRef ref = resolve_live_model_cached(slot, name);
  if (slot->held->ptr == nullptr || slot->loaded_model_id != ref.model_id) {
    hold(slot->held, load_model_by_id(ref.model_id));
    slot->loaded_model_id = ref.model_id;
  }
  return **slot->held->ptr;
}

void wrong_model_kind(const Model& m, const std::string& subject, const char* kind,
                      const char* trainer) {
  throw InvalidParameter(subject + " is not " + kind,
                         "Its task is " + std::string(task_name(m.task())) + ", its algorithm " +
                             std::string(algorithm_name(m.algorithm())) + ".",
                         std::string("Train ") + kind + " with " + trainer + ".");
}

ModelPtr load_model_by_id(int64_t model_id) {
  ModelCache& cache = backend_model_cache();
  if (ModelPtr hit = cache.get(model_id)) return hit;
  spi_connect();
  const uint64_t n =
      spi_exec("SELECT payload FROM insight.models WHERE model_id OPERATOR(pg_catalog.=) $1",
               {spi_int8_arg(model_id)}, true);
  std::vector<uint8_t> payload;
  if (n == 1) payload = spi_bytea(0, 1);
  spi_finish();
  if (n != 1) throw UndefinedObject("model_id " + std::to_string(model_id) + " does not exist");
  ModelPtr model = load_model(payload.data(), payload.size());
  cache.put(model_id, model);
  return model;
}

void init_model_store() {
  DefineCustomIntVariable(
      "insight.model_cache_size", "Memory for deserialized models cached in each backend.",
      "Models are cached by model_id, least recently used evicted first.", &model_cache_size_kb,
      256 * 1024, 0, INT_MAX / 2, PGC_USERSET, GUC_UNIT_KB, nullptr, assign_cache_size, nullptr);
}

}  // namespace insight::pg
