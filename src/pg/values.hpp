// Conversions between Datums and C++ values, and SPI access. Every call that can raise a
// PostgreSQL error goes through guard(), so callers may hold C++ objects freely.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pg/boundary.hpp"

namespace insight::pg {

// ---- arguments ----
bool arg_is_null(FunctionCallInfo fcinfo, int n);
// int4 / float8 arguments; throw InvalidParameter naming `what` when NULL.
int32_t int4_arg(FunctionCallInfo fcinfo, int n, const char* what);
double float8_arg(FunctionCallInfo fcinfo, int n, const char* what);
// Text argument; throws InvalidParameter naming `what` when NULL.
std::string text_arg(FunctionCallInfo fcinfo, int n, const char* what);
// Raw bytes of a bytea argument (detoasted; valid for the rest of the call).
struct Bytes {
  const uint8_t* data;
  size_t size;
};
// Throws InvalidParameter naming `what` when NULL.
Bytes bytea_arg(FunctionCallInfo fcinfo, int n, const char* what);
// The elements of a text[] argument, NULL ones as nullopt; the argument must not be NULL.
std::vector<std::optional<std::string>> text_array_arg(FunctionCallInfo fcinfo, int n);
// Argument n as JSON, by its SQL type: text → string, integers → integer, float8/float4 →
// number (NaN and infinities as the strings to_jsonb gives them), bool, text[] → array; NULL
// → null, timestamptz → its text. For building a task's options from SQL arguments.
nlohmann::json json_arg(FunctionCallInfo fcinfo, int n);
// Text of a jsonb argument.
std::string jsonb_arg_text(FunctionCallInfo fcinfo, int n);
// A jsonb argument of options, parsed: NULL is '{}'; a number beyond float8's range (jsonb
// holds numerics) is 22023.
nlohmann::json options_arg(FunctionCallInfo fcinfo, int n);

// A varlena Datum in plain form (PG_DETOAST_DATUM): through guard() only when PostgreSQL has
// work to do (compressed, external or short-header values); a plain one, as every row an
// executor builds, costs no guard on the scoring paths' per-row calls.
inline struct varlena* detoasted(Datum d) {
  auto* p = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
  if (!VARATT_IS_EXTENDED(p)) return p;
  return guard([p] { return pg_detoast_datum(p); });
}
// PG_DETOAST_DATUM_PACKED likewise: a short header is fine (read with VARDATA_ANY).
inline struct varlena* detoasted_packed(Datum d) {
  auto* p = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
  if (!VARATT_IS_COMPRESSED(p) && !VARATT_IS_EXTERNAL(p)) return p;
  return guard([p] { return pg_detoast_datum_packed(p); });
}

// ---- memory contexts ----
// Runs fn(arg) when cxt is reset or deleted — at the end of the query, or on error or cancel.
// How C++ objects placed in PostgreSQL memory get their destructors run. fn must not throw.
void on_context_reset(MemoryContext cxt, void (*fn)(void*), void* arg);

// The state a call site keeps in fn_extra: a zeroed Slot in fn_mcxt on the first call, set up
// by init(slot, fn_mcxt) (which may hold models, bindings, ...), the same one on every later
// call of this FmgrInfo. Slot is plain data.
template <typename Slot, typename Init>
Slot* call_site_state(FunctionCallInfo fcinfo, Init init) {
  auto* slot = static_cast<Slot*>(fcinfo->flinfo->fn_extra);
  if (slot == nullptr) {
    MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
    slot = static_cast<Slot*>(guard([cxt] { return MemoryContextAllocZero(cxt, sizeof(Slot)); }));
    init(*slot, cxt);
    fcinfo->flinfo->fn_extra = slot;
  }
  return slot;
}

// ---- time ----
// Argument n as an interval (not NULL), its length in days (a month counts 30) and its text in
// the session's IntervalStyle, for messages.
const Interval* interval_arg(FunctionCallInfo fcinfo, int n);
double interval_days(const Interval* iv);
std::string interval_text(const Interval* iv);
// timestamptz (microseconds since 2000-01-01 UTC) <-> Unix seconds, rounding down.
int64_t unix_seconds(TimestampTz ts);
TimestampTz timestamptz_from_unix(int64_t unix_seconds);

// ---- results ----
Datum text_datum(const std::string& s);
Datum text_array_datum(const std::vector<std::string>& items);  // text[]
Datum bytea_datum(const uint8_t* data, size_t size);
Datum jsonb_datum(const std::string& json);

// The tuplestore a materialize-mode set-returning function fills (InitMaterializedSRF).
class RowSink {
 public:
  explicit RowSink(FunctionCallInfo fcinfo);
  // values and nulls hold one entry per result column.
  void put(Datum* values, bool* nulls);
  int columns() const;                     // of the result rows
  uint64_t rows() const { return rows_; }  // put so far
  // Rows (metric text, value float8), each after `leading` text columns (e.g. the algorithm).
  void put_metrics(const std::vector<std::pair<const char*, double>>& metrics,
                   const std::vector<std::string>& leading = {});

 private:
  Tuplestorestate* store_;
  TupleDesc desc_;
  uint64_t rows_ = 0;
};

// ---- SPI ----
// Connect/finish with no destructor: on an error the transaction aborts and PostgreSQL
// releases the SPI stack itself (AtEOXact_SPI), so nothing is called while unwinding.
void spi_connect();
void spi_finish();

struct SpiArg {
  Oid type;
  Datum value;
  bool isnull;
};
SpiArg spi_text_arg(const std::string& s);
SpiArg spi_int4_arg(int32_t v);
SpiArg spi_int8_arg(int64_t v);

// Runs a query with $n parameters; returns SPI_processed.
uint64_t spi_exec(const char* sql, const std::vector<SpiArg>& args, bool read_only, long limit = 0);
std::optional<int64_t> spi_int64(uint64_t row, int col);  // int2/int4/int8/oid column
std::vector<uint8_t> spi_bytea(uint64_t row, int col);

}  // namespace insight::pg
