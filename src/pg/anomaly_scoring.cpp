// Scoring with an anomaly detector: a bytea model (from isolation_forest_fit) or a named
// catalog model, from a float8[] or from a row whose columns are bound to the model's
// features by name; top_features.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/anomaly/anomaly_model.hpp"
#include "core/common/error.hpp"
#include "core/model/payload.hpp"

#include "pg/anomaly.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/usage.hpp"
#include "pg/values.hpp"

namespace insight::pg::anomaly {

RowValues row_values(FunctionCallInfo fcinfo, int n) {
  if (insight::pg::arg_is_null(fcinfo, n)) return {};
  Datum d = PG_GETARG_DATUM(n);
  auto* a = reinterpret_cast<ArrayType*>(insight::pg::detoasted(d));
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

}  // namespace insight::pg::anomaly

namespace {

using insight::InvalidParameter;
using insight::anomaly::AnomalyModel;
using insight::pg::guard;
using insight::pg::is_numeric_type;
using insight::pg::kNumericTypes;
using insight::pg::anomaly::as_anomaly_model;
using insight::pg::anomaly::check_finite;
using insight::pg::anomaly::row_values;
using insight::pg::anomaly::RowValues;

// 22023 unless the row has the model's number of features; the DETAIL lists the features the
// model expects, in order, when it knows their names.
void check_arity(const AnomalyModel& m, size_t got) {
  if (got == m.n_features()) return;
  std::string detail;
  const std::vector<std::string>& names = m.feature_names();
  if (std::any_of(names.begin(), names.end(), [](const std::string& n) { return !n.empty(); })) {
    constexpr size_t kShown = 20;
    detail = "The features, in order: ";
    for (size_t i = 0; i < std::min(names.size(), kShown); ++i)
      detail += (i > 0 ? ", " : "") + names[i];
    if (names.size() > kShown) detail += ", ... (" + std::to_string(names.size()) + " in all)";
    detail += ".";
  }
  throw InvalidParameter("the model expects " + std::to_string(m.n_features()) +
                             " features, the row has " + std::to_string(got),
                         detail);
}

// fn_extra of anomaly_score(bytea, float8[]): the model decoded from the last payload seen,
// recognised again by the argument's address, size and leading bytes (which include the
// payload's CRC), so a constant model is decoded once per query, not once per row.
// Its usage is counted under the payload's CRC (the view finds the catalog version, if any,
// whose payload has it).
struct BytesModelSlot {
  const void* raw;
  size_t raw_size;
  unsigned char head[64];
  insight::pg::HeldModel* held;
  insight::usage::Key usage_key;
  insight::usage::Tally* usage;
};

BytesModelSlot* bytes_slot(FunctionCallInfo fcinfo) {
  return insight::pg::call_site_state<BytesModelSlot>(fcinfo,
                                                      [](BytesModelSlot& s, MemoryContext cxt) {
                                                        s.held = insight::pg::new_held_model(cxt);
                                                        s.usage = insight::pg::new_usage_tally(cxt);
                                                      });
}

const AnomalyModel& model_from_bytes(FunctionCallInfo fcinfo, BytesModelSlot* slot, int argno) {
  Datum raw = PG_GETARG_DATUM(argno);
  const auto* rawp = reinterpret_cast<const unsigned char*>(DatumGetPointer(raw));
  const size_t raw_size = VARSIZE_ANY(rawp);
  const size_t head = std::min<size_t>(raw_size, sizeof(BytesModelSlot::head));
  if (slot->held->ptr != nullptr && slot->raw == rawp && slot->raw_size == raw_size &&
      std::memcmp(slot->head, rawp, head) == 0)
    return static_cast<const AnomalyModel&>(**slot->held->ptr);
  const auto bytes = insight::pg::bytea_arg(fcinfo, argno, "model");
  insight::ModelPtr model = insight::load_model(bytes.data, bytes.size);
  as_anomaly_model(*model, [] { return std::string("the model"); });
  const auto& held = insight::pg::hold(slot->held, std::move(model));
  slot->raw = rawp;
  slot->raw_size = raw_size;
  std::memcpy(slot->head, rawp, head);
  slot->usage_key =
      insight::pg::payload_usage_key(insight::payload_header_crc(bytes.data, bytes.size));
  return static_cast<const AnomalyModel&>(held);
}

}  // namespace

// anomaly_score(model bytea, features float8[]) → float8
INSIGHT_FUNCTION(insight_anomaly_score_bytes) {
  BytesModelSlot* slot = bytes_slot(fcinfo);
  const insight::pg::UsageTimer timer = insight::pg::usage_start(*slot->usage);
  const AnomalyModel& model = model_from_bytes(fcinfo, slot, 0);
  const RowValues row = row_values(fcinfo, 1);
  if (row.data == nullptr) PG_RETURN_NULL();
  check_arity(model, row.size);
  check_finite(row.data, row.size);
  const double score = model.score(row.data);
  insight::pg::usage_done(*slot->usage, timer, slot->usage_key, 1);
  PG_RETURN_FLOAT8(score);
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
  insight::pg::LiveModelSlot live;
  RowBinding binding;
  insight::usage::Tally* usage;
};

NamedScoringSlot* named_slot(FunctionCallInfo fcinfo) {
  return insight::pg::call_site_state<NamedScoringSlot>(
      fcinfo, [](NamedScoringSlot& slot, MemoryContext cxt) {
        insight::pg::init_live_model_slot(slot.live, cxt);
        slot.usage = insight::pg::new_usage_tally(cxt);
      });
}

// One scored row of the slot's live model.
void scored(NamedScoringSlot* slot, insight::pg::UsageTimer timer) {
  insight::pg::usage_done(*slot->usage, timer,
                          insight::pg::model_usage_key(slot->live.ref.model_id), 1);
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
  const insight::Model& m = insight::pg::live_model(&slot->live, PG_GETARG_DATUM(0));
  return as_anomaly_model(m, [fcinfo] { return "model \"" + model_name(fcinfo) + "\""; });
}

// The model's features from the row in argument 1, bound by column name; nullptr when one of
// them is NULL.
const double* named_row_features(FunctionCallInfo fcinfo, NamedScoringSlot* slot,
                                 const AnomalyModel& model) {
  const HeapTupleHeader td = row_arg(fcinfo, 1);
  bind_row(fcinfo, slot->binding, model, slot->live.ref.model_id, td);
  if (!extract_row(slot->binding, td)) return nullptr;
  check_finite(slot->binding.values, static_cast<size_t>(slot->binding.n));
  return slot->binding.values;
}

// Score of a row for anomaly_score / is_anomaly (name, r anyelement); false when NULL.
bool score_named_row(FunctionCallInfo fcinfo, double& score, double& threshold) {
  NamedScoringSlot* slot = named_slot(fcinfo);
  const insight::pg::UsageTimer timer = insight::pg::usage_start(*slot->usage);
  const AnomalyModel& model = named_model(fcinfo, slot);
  const double* x = named_row_features(fcinfo, slot, model);
  if (x == nullptr) return false;
  score = model.score(x);
  threshold = model.threshold();
  scored(slot, timer);
  return true;
}

// The k features with the largest share of the isolation of a row, most first.
std::vector<std::string> top_features_of_row(FunctionCallInfo fcinfo, int k) {
  NamedScoringSlot* slot = named_slot(fcinfo);
  const insight::pg::UsageTimer timer = insight::pg::usage_start(*slot->usage);
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
  scored(slot, timer);
  return out;
}

bool score_named_array(FunctionCallInfo fcinfo, double& score, double& threshold) {
  NamedScoringSlot* slot = named_slot(fcinfo);
  const insight::pg::UsageTimer timer = insight::pg::usage_start(*slot->usage);
  const AnomalyModel& model = named_model(fcinfo, slot);
  const RowValues row = row_values(fcinfo, 1);
  if (row.data == nullptr) return false;
  check_arity(model, row.size);
  check_finite(row.data, row.size);
  score = model.score(row.data);
  threshold = model.threshold();
  scored(slot, timer);
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
