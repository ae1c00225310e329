// The isolation_forest_fit aggregate (transition / combine / serialize / deserialize / final)
// over src/core/anomaly's reservoir, and the final function train_anomaly_detector runs.
#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "core/anomaly/anomaly_model.hpp"
#include "core/anomaly/options.hpp"
#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/model/payload.hpp"

#include "pg/anomaly.hpp"
#include "pg/source.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::anomaly::Reservoir;
using insight::pg::guard;

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
  insight::anomaly::check_options(o);
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

// The final state's model payload (read-only: a final function may run more than once).
Datum payload_of(const FitState& state) {
  insight::anomaly::TrainOptions options = state.options;
  options.threads = insight::pg::training_threads();
  const auto payload = insight::anomaly::train_anomaly_payload(state.reservoir, options, {},
                                                               insight::pg::kInterrupts);
  const auto bytes = insight::encode_payload(payload);
  return insight::pg::bytea_datum(bytes.data(), bytes.size());
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
  const insight::pg::anomaly::RowValues row = insight::pg::anomaly::row_values(fcinfo, 1);
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

// _if_finalfn(internal) → bytea: the model payload; NULL when no row was seen.
INSIGHT_FUNCTION(insight_if_finalfn) {
  aggregate_context(fcinfo);
  if (insight::pg::arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
  const auto* state = reinterpret_cast<const FitState*>(PG_GETARG_POINTER(0));
  if (state->reservoir.seen() == 0) PG_RETURN_NULL();
  return payload_of(*state);
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
