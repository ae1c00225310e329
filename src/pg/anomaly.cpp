// SQL side of anomaly detection (src/core/anomaly): the isolation_forest_fit aggregate
// (transition / combine / serialize / deserialize / final), scoring a bytea model or a named
// catalog model, binding features by column name from a row, and train_anomaly_detector.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "core/anomaly/anomaly_model.hpp"
#include "core/anomaly/metrics.hpp"
#include "core/common/error.hpp"
#include "core/model/payload.hpp"

#include "pg/catalog_writer.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::anomaly::AnomalyModel;
using insight::anomaly::Reservoir;
using insight::pg::check_select;
using insight::pg::column_type;
using insight::pg::elapsed_us;
using insight::pg::guard;
using insight::pg::is_numeric_type;
using insight::pg::kNumericTypes;
using insight::pg::quoted;
using insight::pg::source_relation;
using insight::pg::SourceRelation;

constexpr int kDefaultSeed = 42;
constexpr double kDefaultContamination = 0.05;
// Reservoir rows per aggregate state: one fresh sub-sample per tree (as scikit-learn draws
// each tree's sample from the whole table), bounded so memory stays capacity × features × 8
// bytes whatever the table size (default: 100 trees × 256 = 25,600 rows).
constexpr size_t kMaxReservoirRows = 1u << 16;

const insight::InterruptCheck kCheck = [] { insight::pg::check_interrupts(); };

// ---------------------------------------------------------------------------------------
// Aggregate state: a C++ object placed in palloc'd memory of the aggregate's context, with a
// reset callback that runs its destructor — when the query ends, errors or is cancelled, the
// context goes and so does every vector the state owns. Nothing leaks, nothing dangles.
// ---------------------------------------------------------------------------------------
struct FitState {
  Reservoir reservoir;
  insight::anomaly::TrainOptions options;
  FitState(size_t capacity, uint64_t sampling_seed, const insight::anomaly::TrainOptions& o)
      : reservoir(capacity, sampling_seed), options(o) {}
};

void destroy_state(void* arg) { static_cast<FitState*>(arg)->~FitState(); }

template <typename... Args>
FitState* new_state_in(MemoryContext cxt, Args&&... args) {
  void* mem = guard([cxt] { return MemoryContextAlloc(cxt, sizeof(FitState)); });
  auto* state = new (mem) FitState(std::forward<Args>(args)...);
  try {
    insight::pg::on_context_reset(cxt, destroy_state, state);
  } catch (...) {
    state->~FitState();
    throw;
  }
  return state;
}

MemoryContext aggregate_context(FunctionCallInfo fcinfo) {
  MemoryContext cxt = nullptr;
  const int kind = guard([fcinfo, &cxt] { return AggCheckCallContext(fcinfo, &cxt); });
  if (kind == 0)
    throw InvalidParameter("isolation forest state function called outside an aggregate");
  return cxt;
}

void check_forest_options(const insight::anomaly::TrainOptions& o) {
  if (o.forest.n_trees < 1 || o.forest.n_trees > 10000)
    throw InvalidParameter("n_trees must be between 1 and 10000",
                           "got " + std::to_string(o.forest.n_trees));
  if (o.forest.sample_size < 2 || o.forest.sample_size > (1 << 20))
    throw InvalidParameter("sample_size must be between 2 and 1048576",
                           "got " + std::to_string(o.forest.sample_size));
  insight::anomaly::check_contamination(o.contamination);
}

insight::anomaly::TrainOptions options_from_args(FunctionCallInfo fcinfo) {
  insight::anomaly::TrainOptions o;
  o.forest.n_trees = insight::pg::int4_arg(fcinfo, 2, "n_trees");
  o.forest.sample_size = insight::pg::int4_arg(fcinfo, 3, "sample_size");
  o.forest.seed = static_cast<uint64_t>(static_cast<uint32_t>(
      PG_NARGS() > 4 ? insight::pg::int4_arg(fcinfo, 4, "seed") : kDefaultSeed));
  o.contamination = kDefaultContamination;
  if (PG_NARGS() > 5) {
    if (insight::pg::arg_is_null(fcinfo, 5))
      throw InvalidParameter("contamination must not be NULL");
    o.contamination = PG_GETARG_FLOAT8(5);
  }
  if (PG_NARGS() > 6) o.standardize = !insight::pg::arg_is_null(fcinfo, 6) && PG_GETARG_BOOL(6);
  check_forest_options(o);
  return o;
}

bool same_options(const insight::anomaly::TrainOptions& a,
                  const insight::anomaly::TrainOptions& b) {
  return a.forest.n_trees == b.forest.n_trees && a.forest.sample_size == b.forest.sample_size &&
         a.forest.seed == b.forest.seed && a.contamination == b.contamination &&
         a.standardize == b.standardize;
}

[[noreturn]] void options_differ() {
  throw InvalidParameter("n_trees, sample_size and seed must be the same for every row of a group",
                         "", "Pass constants, not columns, for the model's options.");
}

// The float8[] of one row: its values, or nullptr when the array or an element is NULL.
// Throws InvalidParameter for a multi-dimensional or empty array.
struct RowValues {
  const double* data = nullptr;
  size_t size = 0;
};

RowValues row_values(FunctionCallInfo fcinfo, int n) {
  if (insight::pg::arg_is_null(fcinfo, n)) return {};
  Datum d = PG_GETARG_DATUM(n);
  ArrayType* a = guard([d] { return DatumGetArrayTypeP(d); });
  if (ARR_NDIM(a) != 1) {
    if (ARR_NDIM(a) == 0) throw InvalidParameter("features must not be an empty array");
    throw InvalidParameter("features must be a one-dimensional array");
  }
  if (ARR_ELEMTYPE(a) != FLOAT8OID) throw InvalidParameter("features must be float8[]");
  if (ARR_HASNULL(a)) return {};
  return RowValues{reinterpret_cast<const double*>(ARR_DATA_PTR(a)),
                   static_cast<size_t>(ARR_DIMS(a)[0])};
}

void check_finite(const double* x, size_t n) {
  for (size_t j = 0; j < n; ++j)
    if (!std::isfinite(x[j]))
      throw InvalidParameter(
          "features must be finite numbers (NaN and infinity are rejected)",
          "feature " + std::to_string(j + 1) + " is " + (std::isnan(x[j]) ? "NaN" : "infinite"));
}

}  // namespace

// _if_transfn(state internal, features float8[], n_trees int, sample_size int
//             [, seed int [, contamination float8 [, standardize bool]]]) → internal
INSIGHT_FUNCTION(insight_if_transfn) {
  MemoryContext aggcxt = aggregate_context(fcinfo);
  auto* state = insight::pg::arg_is_null(fcinfo, 0)
                    ? nullptr
                    : reinterpret_cast<FitState*>(PG_GETARG_POINTER(0));
  if (state == nullptr) {
    const auto options = options_from_args(fcinfo);
    const size_t capacity =
        std::clamp<size_t>(static_cast<size_t>(options.forest.n_trees) *
                               static_cast<size_t>(options.forest.sample_size),
                           static_cast<size_t>(options.forest.sample_size), kMaxReservoirRows);
    // Parallel workers sample with their own streams (the merge is exact either way); the
    // forest itself is always grown with the user's seed.
    const int worker = ParallelWorkerNumber;  // a plain global
    const uint64_t sampling_seed =
        worker < 0 ? options.forest.seed
                   : options.forest.seed * 1000003u + static_cast<uint64_t>(worker) + 1;
    state = new_state_in(aggcxt, capacity, sampling_seed, options);
  } else if (!same_options(options_from_args(fcinfo), state->options)) {
    options_differ();
  }
  const RowValues row = row_values(fcinfo, 1);
  if (row.data == nullptr) {
    state->reservoir.skip();
  } else {
    state->reservoir.add(row.data, row.size);
  }
  PG_RETURN_POINTER(state);
}

// _if_combinefn(internal, internal) → internal
INSIGHT_FUNCTION(insight_if_combinefn) {
  MemoryContext aggcxt = aggregate_context(fcinfo);
  auto* a = insight::pg::arg_is_null(fcinfo, 0) ? nullptr
                                                : reinterpret_cast<FitState*>(PG_GETARG_POINTER(0));
  auto* b = insight::pg::arg_is_null(fcinfo, 1) ? nullptr
                                                : reinterpret_cast<FitState*>(PG_GETARG_POINTER(1));
  if (b == nullptr) {
    if (a == nullptr) PG_RETURN_NULL();
    PG_RETURN_POINTER(a);
  }
  if (a == nullptr) {
    // b may live in per-tuple memory (deserialized): move it into the aggregate context.
    a = new_state_in(aggcxt, b->reservoir.capacity(), b->options.forest.seed, b->options);
    a->reservoir = std::move(b->reservoir);
    PG_RETURN_POINTER(a);
  }
  if (!same_options(a->options, b->options)) options_differ();
  a->reservoir.merge(b->reservoir);
  PG_RETURN_POINTER(a);
}

// _if_serialfn(internal) → bytea
INSIGHT_FUNCTION(insight_if_serialfn) {
  const auto* state = reinterpret_cast<const FitState*>(PG_GETARG_POINTER(0));
  insight::BinaryWriter w;
  w.u32(static_cast<uint32_t>(state->options.forest.n_trees));
  w.u32(static_cast<uint32_t>(state->options.forest.sample_size));
  w.u64(state->options.forest.seed);
  w.f64(state->options.contamination);
  w.u8(state->options.standardize ? 1 : 0);
  state->reservoir.serialize(w);
  return insight::pg::bytea_datum(w.bytes().data(), w.bytes().size());
}

// _if_deserialfn(bytea, internal) → internal
INSIGHT_FUNCTION(insight_if_deserialfn) {
  aggregate_context(fcinfo);
  const auto bytes = insight::pg::bytea_arg(fcinfo, 0, "state");
  insight::BinaryReader r(bytes.data, bytes.size);
  insight::anomaly::TrainOptions o;
  o.forest.n_trees = static_cast<int>(r.u32());
  o.forest.sample_size = static_cast<int>(r.u32());
  o.forest.seed = r.u64();
  o.contamination = r.finite_f64();
  o.standardize = r.u8() != 0;
  Reservoir reservoir = Reservoir::deserialize(r);
  r.expect_end();
  auto* state = new_state_in(CurrentMemoryContext, reservoir.capacity(), o.forest.seed, o);
  state->reservoir = std::move(reservoir);
  PG_RETURN_POINTER(state);
}

namespace {
// The final state's model payload (read-only: a final function may run more than once).
Datum payload_of(const FitState& state) {
  insight::anomaly::TrainOptions options = state.options;
  options.threads = insight::pg::training_threads();
  const auto payload =
      insight::anomaly::train_anomaly_payload(state.reservoir, options, {}, kCheck);
  const auto bytes = insight::encode_payload(payload);
  return insight::pg::bytea_datum(bytes.data(), bytes.size());
}
}  // namespace

// _if_finalfn(internal) → bytea: the model payload; NULL when no row was seen.
INSIGHT_FUNCTION(insight_if_finalfn) {
  aggregate_context(fcinfo);
  if (insight::pg::arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
  const auto* state = reinterpret_cast<const FitState*>(PG_GETARG_POINTER(0));
  if (state->reservoir.seen() == 0) PG_RETURN_NULL();
  return payload_of(*state);
}

// ---------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------
namespace {

// The model as an anomaly detector, or 22023. describe() names it in the message; it is only
// called when the check fails (it converts the name argument, which the hot path must not).
template <typename Describe>
const AnomalyModel& as_anomaly_model(const insight::Model& m, Describe describe) {
  if (m.task() != insight::Task::Anomaly || m.algorithm() != insight::Algorithm::IsolationForest)
    throw InvalidParameter(describe() + " is a " + std::string(insight::task_name(m.task())) +
                               " model (" + std::string(insight::algorithm_name(m.algorithm())) +
                               "), not an anomaly detector",
                           "",
                           "Pass an anomaly model trained by insight.train_anomaly_detector or "
                           "insight.isolation_forest_fit.");
  return static_cast<const AnomalyModel&>(m);
}

void check_arity(const AnomalyModel& m, size_t got) {
  if (got != m.n_features())
    throw InvalidParameter("the model expects " + std::to_string(m.n_features()) +
                           " features, the row has " + std::to_string(got));
}

// fn_extra of anomaly_score(bytea, float8[]): the model decoded from the last payload seen,
// recognised again by the argument's address, size and leading bytes (which include the
// payload's CRC), so a constant model is decoded once per query, not once per row.
struct BytesModelSlot {
  const void* raw;
  size_t raw_size;
  unsigned char head[64];
  insight::pg::HeldModel* held;
};

const AnomalyModel& model_from_bytes(FunctionCallInfo fcinfo, int argno) {
  Datum raw = PG_GETARG_DATUM(argno);
  const auto* rawp = reinterpret_cast<const unsigned char*>(DatumGetPointer(raw));
  const size_t raw_size = VARSIZE_ANY(rawp);
  const size_t head = std::min<size_t>(raw_size, sizeof(BytesModelSlot::head));
  auto* slot = static_cast<BytesModelSlot*>(fcinfo->flinfo->fn_extra);
  if (slot != nullptr && slot->held->ptr != nullptr && slot->raw == rawp &&
      slot->raw_size == raw_size && std::memcmp(slot->head, rawp, head) == 0)
    return static_cast<const AnomalyModel&>(**slot->held->ptr);
  const auto bytes = insight::pg::bytea_arg(fcinfo, argno, "model");
  insight::ModelPtr model = insight::load_model(bytes.data, bytes.size);
  as_anomaly_model(*model, [] { return std::string("the model"); });
  if (slot == nullptr) {
    MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
    slot = static_cast<BytesModelSlot*>(
        guard([cxt] { return MemoryContextAllocZero(cxt, sizeof(BytesModelSlot)); }));
    slot->held = insight::pg::new_held_model(cxt);
    fcinfo->flinfo->fn_extra = slot;
  }
  const auto& held = insight::pg::hold(slot->held, std::move(model));
  slot->raw = rawp;
  slot->raw_size = raw_size;
  std::memcpy(slot->head, rawp, head);
  return static_cast<const AnomalyModel&>(held);
}

}  // namespace

// anomaly_score(model bytea, features float8[]) → float8
INSIGHT_FUNCTION(insight_anomaly_score_bytes) {
  const AnomalyModel& model = model_from_bytes(fcinfo, 0);
  const RowValues row = row_values(fcinfo, 1);
  if (row.data == nullptr) PG_RETURN_NULL();
  check_arity(model, row.size);
  check_finite(row.data, row.size);
  PG_RETURN_FLOAT8(model.score(row.data));
}

// ---------------------------------------------------------------------------------------
// Scoring a named (catalog) model
// ---------------------------------------------------------------------------------------
namespace {

// Inside guard() only: plain C, may raise (numeric → float8 out of range).
double datum_to_double(Datum d, Oid base) {
  switch (base) {
    case FLOAT8OID:
      return DatumGetFloat8(d);
    case FLOAT4OID:
      return DatumGetFloat4(d);
    case INT2OID:
      return DatumGetInt16(d);
    case INT4OID:
      return DatumGetInt32(d);
    case INT8OID:
      return static_cast<double>(DatumGetInt64(d));
    default:
      return DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
  }
}

// Where each of the model's features sits in a row type: plain data in fn_mcxt.
struct RowBinding {
  bool valid;
  Oid type;
  int32 typmod;
  uint64 desc_id;  // changes when the row type changes (ALTER TABLE), even with the same OID
  int64_t model_id;
  TupleDesc desc;  // a copy, in fn_mcxt
  int n;
  AttrNumber* attnums;
  Oid* types;  // base types
  double* values;
};

struct NamedScoringSlot {
  insight::pg::LiveModelSlot* live;
  RowBinding binding;
};

NamedScoringSlot* named_slot(FunctionCallInfo fcinfo) {
  auto* slot = static_cast<NamedScoringSlot*>(fcinfo->flinfo->fn_extra);
  if (slot == nullptr) {
    MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
    slot = static_cast<NamedScoringSlot*>(
        guard([cxt] { return MemoryContextAllocZero(cxt, sizeof(NamedScoringSlot)); }));
    slot->live = insight::pg::new_live_model_slot(cxt);
    fcinfo->flinfo->fn_extra = slot;
  }
  return slot;
}

std::string model_name(FunctionCallInfo fcinfo) { return insight::pg::text_arg(fcinfo, 0, "name"); }

void bind_row(FunctionCallInfo fcinfo, RowBinding& b, const AnomalyModel& model, int64_t model_id,
              HeapTupleHeader td) {
  const Oid type = HeapTupleHeaderGetTypeId(td);
  const int32 typmod = HeapTupleHeaderGetTypMod(td);
  const uint64 desc_id =
      guard([type, typmod] { return assign_record_type_identifier(type, typmod); });
  if (b.valid && b.type == type && b.typmod == typmod && b.desc_id == desc_id &&
      b.model_id == model_id)
    return;
  const auto& names = model.feature_names();
  if (names.empty() || names[0].empty())
    throw InvalidParameter("model \"" + model_name(fcinfo) + "\" has no feature names",
                           "It was trained from arrays (insight.isolation_forest_fit).",
                           "Score it with insight.anomaly_score(name, float8[]).");
  MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
  const int n = static_cast<int>(names.size());
  TupleDesc desc = guard([cxt, type, typmod] {
    TupleDesc cached = lookup_rowtype_tupdesc(type, typmod);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    TupleDesc copy = CreateTupleDescCopy(cached);
    MemoryContextSwitchTo(old);
    ReleaseTupleDesc(cached);
    return copy;
  });
  auto* attnums = static_cast<AttrNumber*>(
      guard([cxt, n] { return MemoryContextAlloc(cxt, n * sizeof(AttrNumber)); }));
  auto* types =
      static_cast<Oid*>(guard([cxt, n] { return MemoryContextAlloc(cxt, n * sizeof(Oid)); }));
  auto* values =
      static_cast<double*>(guard([cxt, n] { return MemoryContextAlloc(cxt, n * sizeof(double)); }));
  for (int i = 0; i < n; ++i) {
    const std::string& want = names[static_cast<size_t>(i)];
    attnums[i] = InvalidAttrNumber;
    for (int k = 0; k < desc->natts; ++k) {
      const Form_pg_attribute att = TupleDescAttr(desc, k);
      if (!att->attisdropped && want == NameStr(att->attname)) {
        attnums[i] = att->attnum;
        const Oid atttype = att->atttypid;
        types[i] = guard([atttype] { return getBaseType(atttype); });
        break;
      }
    }
    if (attnums[i] == InvalidAttrNumber)
      throw insight::UndefinedColumn(
          "column \"" + want + "\" does not exist in the row",
          "Model \"" + model_name(fcinfo) + "\" scores the columns of its features.",
          "Pass a row that has every feature the model was trained on.");
    if (!is_numeric_type(types[i]))
      throw InvalidParameter("column \"" + want + "\" is not numeric",
                             std::string("Features must be ") + kNumericTypes + ".");
  }
  b = RowBinding{true, type, typmod, desc_id, model_id, desc, n, attnums, types, values};
}

// The features of one row; false when one of them is NULL.
bool extract_row(const RowBinding& b, HeapTupleHeader td) {
  return guard([&b, td] {
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(td);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = InvalidOid;
    tuple.t_data = td;
    for (int i = 0; i < b.n; ++i) {
      bool isnull = false;
      const Datum d = heap_getattr(&tuple, b.attnums[i], b.desc, &isnull);
      if (isnull) return false;
      b.values[i] = datum_to_double(d, b.types[i]);
    }
    return true;
  });
}

HeapTupleHeader row_arg(FunctionCallInfo fcinfo, int n) {
  FmgrInfo* flinfo = fcinfo->flinfo;
  const bool is_row =
      guard([flinfo, n] { return type_is_rowtype(get_fn_expr_argtype(flinfo, n)); });
  if (!is_row)
    throw InvalidParameter(
        "the second argument must be a row, e.g. a table alias", "",
        "Pass the row (SELECT insight.anomaly_score('m', t) FROM t) or a float8[].");
  Datum d = PG_GETARG_DATUM(n);
  return guard([d] { return DatumGetHeapTupleHeader(d); });
}

// The live model named by argument 0, as an anomaly detector.
const AnomalyModel& named_model(FunctionCallInfo fcinfo, NamedScoringSlot* slot) {
  const insight::Model& m = insight::pg::live_model(slot->live, PG_GETARG_DATUM(0));
  return as_anomaly_model(m, [fcinfo] { return "model \"" + model_name(fcinfo) + "\""; });
}

// The model's features from the row in argument 1, bound by column name; nullptr when one of
// them is NULL.
const double* named_row_features(FunctionCallInfo fcinfo, NamedScoringSlot* slot,
                                 const AnomalyModel& model) {
  const HeapTupleHeader td = row_arg(fcinfo, 1);
  bind_row(fcinfo, slot->binding, model, slot->live->ref.model_id, td);
  if (!extract_row(slot->binding, td)) return nullptr;
  check_finite(slot->binding.values, static_cast<size_t>(slot->binding.n));
  return slot->binding.values;
}

// Score of a row for anomaly_score / is_anomaly (name, r anyelement); false when NULL.
bool score_named_row(FunctionCallInfo fcinfo, double& score, double& threshold) {
  NamedScoringSlot* slot = named_slot(fcinfo);
  const AnomalyModel& model = named_model(fcinfo, slot);
  const double* x = named_row_features(fcinfo, slot, model);
  if (x == nullptr) return false;
  score = model.score(x);
  threshold = model.threshold();
  return true;
}

// The k features with the largest share of the isolation of a row, most first.
std::vector<std::string> top_features_of_row(FunctionCallInfo fcinfo, int k) {
  NamedScoringSlot* slot = named_slot(fcinfo);
  const AnomalyModel& model = named_model(fcinfo, slot);
  const double* x = named_row_features(fcinfo, slot, model);
  if (x == nullptr) return {};
  const size_t n = model.n_features();
  std::vector<double> contributions(n);
  model.score(x, contributions.data());
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  const size_t keep = std::min(n, static_cast<size_t>(k));
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(keep), order.end(),
                    [&](size_t a, size_t b) { return contributions[a] > contributions[b]; });
  std::vector<std::string> out;
  for (size_t i = 0; i < keep; ++i) out.push_back(model.feature_names()[order[i]]);
  return out;
}

bool score_named_array(FunctionCallInfo fcinfo, double& score, double& threshold) {
  const AnomalyModel& model = named_model(fcinfo, named_slot(fcinfo));
  const RowValues row = row_values(fcinfo, 1);
  if (row.data == nullptr) return false;
  check_arity(model, row.size);
  check_finite(row.data, row.size);
  score = model.score(row.data);
  threshold = model.threshold();
  return true;
}

}  // namespace

// anomaly_score(name text, features float8[]) → float8
INSIGHT_FUNCTION(insight_anomaly_score_named) {
  double score = 0, threshold = 0;
  if (!score_named_array(fcinfo, score, threshold)) PG_RETURN_NULL();
  PG_RETURN_FLOAT8(score);
}

// anomaly_score(name text, r anyelement) → float8
INSIGHT_FUNCTION(insight_anomaly_score_row) {
  double score = 0, threshold = 0;
  if (!score_named_row(fcinfo, score, threshold)) PG_RETURN_NULL();
  PG_RETURN_FLOAT8(score);
}

// is_anomaly(name text, r anyelement) → boolean: score above the model's threshold
INSIGHT_FUNCTION(insight_is_anomaly_row) {
  double score = 0, threshold = 0;
  if (!score_named_row(fcinfo, score, threshold)) PG_RETURN_NULL();
  PG_RETURN_BOOL(score > threshold);
}

// top_features(name text, r anyelement, k int DEFAULT 3) → text[]: the features that isolated
// the row fastest (see IsolationForest::score_explained).
INSIGHT_FUNCTION(insight_top_features) {
  const int k = PG_GETARG_INT32(2);
  if (k < 1 || k > 1000)
    throw InvalidParameter("k must be between 1 and 1000", "got " + std::to_string(k));
  const std::vector<std::string> names = top_features_of_row(fcinfo, k);
  if (names.empty()) PG_RETURN_NULL();
  return insight::pg::text_array_datum(names);
}

// is_anomaly(name text, features float8[]) → boolean
INSIGHT_FUNCTION(insight_is_anomaly_named) {
  double score = 0, threshold = 0;
  if (!score_named_array(fcinfo, score, threshold)) PG_RETURN_NULL();
  PG_RETURN_BOOL(score > threshold);
}

// ---------------------------------------------------------------------------------------
// Training and evaluation over a relation
// ---------------------------------------------------------------------------------------
namespace {

std::vector<std::string> feature_list(FunctionCallInfo fcinfo, int n) {
  if (insight::pg::arg_is_null(fcinfo, n)) throw InvalidParameter("features must not be NULL");
  Datum d = PG_GETARG_DATUM(n);
  Datum* elems = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  guard([&] {
    deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
                      &count);
  });
  if (count == 0) throw InvalidParameter("features must name at least one column");
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    if (nulls[i]) throw InvalidParameter("features must not contain NULL");
    const Datum e = elems[i];
    out.emplace_back(guard([e] { return static_cast<const char*>(TextDatumGetCString(e)); }));
    if (std::find(out.begin(), out.end() - 1, out.back()) != out.end() - 1)
      throw InvalidParameter("feature \"" + out.back() + "\" is named twice");
  }
  return out;
}

}  // namespace

// train_anomaly_detector(name, source, features, contamination, n_trees, sample_size, deploy,
//                        seed, standardize) → insight.training_result
INSIGHT_FUNCTION(insight_train_anomaly_detector) {
  const auto started = std::chrono::steady_clock::now();
  const TimestampTz started_at = guard([] { return GetCurrentTimestamp(); });
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  insight::pg::check_model_name(name);
  const SourceRelation source = source_relation(fcinfo, 1);
  const std::vector<std::string> features = feature_list(fcinfo, 2);
  insight::anomaly::TrainOptions o;
  if (insight::pg::arg_is_null(fcinfo, 3)) throw InvalidParameter("contamination must not be NULL");
  o.contamination = PG_GETARG_FLOAT8(3);
  o.forest.n_trees = insight::pg::int4_arg(fcinfo, 4, "n_trees");
  o.forest.sample_size = insight::pg::int4_arg(fcinfo, 5, "sample_size");
  const bool deploy = insight::pg::arg_is_null(fcinfo, 6) || PG_GETARG_BOOL(6);
  const int32_t seed = insight::pg::int4_arg(fcinfo, 7, "seed");
  o.forest.seed = static_cast<uint64_t>(static_cast<uint32_t>(seed));
  o.standardize = insight::pg::arg_is_null(fcinfo, 8) || PG_GETARG_BOOL(8);
  check_forest_options(o);

  check_select(source, features);
  std::string array = "ARRAY[";
  for (size_t i = 0; i < features.size(); ++i) {
    const Oid type = column_type(source, features[i], "a feature");
    if (!is_numeric_type(type))
      throw InvalidParameter("feature column \"" + features[i] + "\" is not numeric",
                             std::string("Features must be ") + kNumericTypes + ".");
    array += (i ? ", " : "") + quoted(features[i]) + "::pg_catalog.float8";
  }
  array += "]";
  // Identifiers are quoted from the catalog's own names; values travel as parameters.
  const std::string sql = "SELECT insight._isolation_forest_train(" + array +
                          ", $1, $2, $3, $4, $5) FROM " + source.qualified;
  insight::pg::spi_connect();
  insight::pg::spi_exec(
      sql.c_str(),
      {insight::pg::spi_int4_arg(o.forest.n_trees), insight::pg::spi_int4_arg(o.forest.sample_size),
       insight::pg::spi_int4_arg(seed),
       insight::pg::SpiArg{FLOAT8OID, Float8GetDatum(o.contamination), false},
       insight::pg::SpiArg{BOOLOID, BoolGetDatum(o.standardize), false}},
      true);
  std::vector<uint8_t> bytes = insight::pg::spi_bytea(0, 1);
  insight::pg::spi_finish();

  insight::Payload payload = insight::decode_payload(bytes.data(), bytes.size());
  payload.meta["features"] = features;
  payload.meta["source"] = source.qualified;
  const auto& metrics = payload.meta["metrics"];
  const auto rows_used = metrics.at("rows_seen").get<int64_t>();
  const auto rows_skipped = metrics.at("rows_skipped").get<int64_t>();
  insight::pg::StoreRequest request;
  request.name = name;
  request.payload = insight::encode_payload(payload);
  request.features = features;
  request.source = source.qualified;
  request.params_json = nlohmann::json{
      {"contamination", o.contamination},
      {"n_trees", o.forest.n_trees},
      {"sample_size", o.forest.sample_size},
      {"seed", seed},
      {"standardize",
       o.standardize}}.dump();
  request.metrics_json = metrics.dump();
  request.rows_used = rows_used;
  request.rows_skipped = rows_skipped;
  request.started_at = started_at;
  request.deploy = deploy;
  request.training_ms = static_cast<double>(elapsed_us(started)) / 1000.0;
  return insight::pg::store_model(request);
}

// _if_train_finalfn(internal) → bytea: like the public final function, but "too few rows"
// is an error that says how many rows were found (train_anomaly_detector).
INSIGHT_FUNCTION(insight_if_train_finalfn) {
  aggregate_context(fcinfo);
  const auto* state = insight::pg::arg_is_null(fcinfo, 0)
                          ? nullptr
                          : reinterpret_cast<const FitState*>(PG_GETARG_POINTER(0));
  if (state == nullptr)
    throw InvalidParameter("too few rows to train an anomaly detector",
                           "0 rows found, at least 2 are needed");
  return payload_of(*state);  // fewer than 2 rows: train_anomaly_payload says how many
}

// evaluate_anomaly_detector(name text, source regclass, label_column text)
//   → TABLE(metric text, value float8)
INSIGHT_FUNCTION(insight_evaluate_anomaly_detector) {
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  const SourceRelation source = source_relation(fcinfo, 1);
  const std::string label = insight::pg::text_arg(fcinfo, 2, "label_column");
  const insight::pg::ModelRef ref = insight::pg::resolve_live_model(name);
  const insight::ModelPtr held = insight::pg::load_model_by_id(ref.model_id);
  const AnomalyModel& model = as_anomaly_model(*held, [&] { return "model \"" + name + "\""; });
  const auto& features = model.feature_names();
  if (features.empty() || features[0].empty())
    throw InvalidParameter("model \"" + name + "\" has no feature names",
                           "It was trained from arrays; evaluate it with your own query.");
  std::vector<std::string> columns(features.begin(), features.end());
  columns.push_back(label);
  check_select(source, columns);
  const Oid label_type = column_type(source, label, "label_column");
  if (label_type != BOOLOID && !is_numeric_type(label_type))
    throw InvalidParameter("label column \"" + label +
                           "\" must be boolean or numeric (1 = anomaly)");
  std::string sql = "SELECT ";
  for (const auto& f : features) {
    if (!is_numeric_type(column_type(source, f, "a feature of the model")))
      throw InvalidParameter("feature column \"" + f + "\" is not numeric");
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
  const char* query = sql.c_str();
  Portal portal = guard([query] {
    return SPI_cursor_open_with_args(nullptr, query, 0, nullptr, nullptr, nullptr, true,
                                     CURSOR_OPT_PARALLEL_OK);
  });
  for (;;) {
    const uint64_t n = guard([portal] {
      SPI_cursor_fetch(portal, true, 10000);
      return static_cast<uint64_t>(SPI_processed);
    });
    if (n == 0) break;
    for (uint64_t i = 0; i < n; ++i) {
      double lab = 0;
      const bool complete = guard([&x, &lab, i, d, label_is_int] {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc desc = SPI_tuptable->tupdesc;
        bool isnull = false;
        for (size_t j = 0; j < d; ++j) {
          x[j] = DatumGetFloat8(SPI_getbinval(t, desc, static_cast<int>(j) + 1, &isnull));
          if (isnull) return false;
        }
        const Datum l = SPI_getbinval(t, desc, static_cast<int>(d) + 1, &isnull);
        if (isnull) return false;
        lab = label_is_int ? DatumGetInt32(l) : DatumGetFloat8(l);
        return true;
      });
      if (!complete) continue;
      check_finite(x.data(), d);
      scores.push_back(model.score(x.data()));
      labels.push_back(lab != 0);
    }
    guard([] { SPI_freetuptable(SPI_tuptable); });
    insight::pg::check_interrupts();
  }
  guard([portal] { SPI_cursor_close(portal); });
  insight::pg::spi_finish();

  const auto m = insight::anomaly::detection_metrics(scores, labels, model.threshold());
  insight::pg::RowSink sink(fcinfo);
  const std::pair<const char*, double> rows[] = {
      {"roc_auc", m.roc_auc},
      {"pr_auc", m.pr_auc},
      {"precision", m.precision},
      {"recall", m.recall},
      {"f1", m.f1},
      {"threshold", model.threshold()},
      {"rows", static_cast<double>(m.rows)},
      {"anomalies", static_cast<double>(m.positives)},
  };
  for (const auto& [metric, value] : rows) {
    Datum v[2] = {insight::pg::text_datum(metric), Float8GetDatum(value)};
    bool nulls[2] = {false, false};
    sink.put(v, nulls);
  }
  return static_cast<Datum>(0);
}
