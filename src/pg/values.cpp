#include <cmath>
#include <cstring>

#include "core/common/error.hpp"

#include "pg/values.hpp"

namespace insight::pg {

bool arg_is_null(FunctionCallInfo fcinfo, int n) { return n >= PG_NARGS() || PG_ARGISNULL(n); }

int32_t int4_arg(FunctionCallInfo fcinfo, int n, const char* what) {
  if (arg_is_null(fcinfo, n)) throw InvalidParameter(std::string(what) + " must not be NULL");
  return PG_GETARG_INT32(n);
}

double float8_arg(FunctionCallInfo fcinfo, int n, const char* what) {
  if (arg_is_null(fcinfo, n)) throw InvalidParameter(std::string(what) + " must not be NULL");
  return PG_GETARG_FLOAT8(n);
}

std::string text_arg(FunctionCallInfo fcinfo, int n, const char* what) {
  if (arg_is_null(fcinfo, n)) throw InvalidParameter(std::string(what) + " must not be NULL");
  Datum d = PG_GETARG_DATUM(n);
  const char* s = guard([d] { return static_cast<const char*>(TextDatumGetCString(d)); });
  return std::string(s);
}

Bytes bytea_arg(FunctionCallInfo fcinfo, int n, const char* what) {
  if (arg_is_null(fcinfo, n)) throw InvalidParameter(std::string(what) + " must not be NULL");
  Datum d = PG_GETARG_DATUM(n);
  bytea* b = guard([d] { return DatumGetByteaPP(d); });
  return Bytes{reinterpret_cast<const uint8_t*>(VARDATA_ANY(b)), VARSIZE_ANY_EXHDR(b)};
}

std::vector<std::optional<std::string>> text_array_arg(FunctionCallInfo fcinfo, int n) {
  Datum d = PG_GETARG_DATUM(n);
  Datum* elems = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  guard([&] {
    deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
                      &count);
  });
  std::vector<std::optional<std::string>> out;
  for (int i = 0; i < count; ++i) {
    if (nulls[i]) {
      out.emplace_back();
      continue;
    }
    const Datum e = elems[i];
    out.emplace_back(guard([e] { return static_cast<const char*>(TextDatumGetCString(e)); }));
  }
  return out;
}

nlohmann::json json_arg(FunctionCallInfo fcinfo, int n) {
  if (arg_is_null(fcinfo, n)) return nlohmann::json();
  FmgrInfo* flinfo = fcinfo->flinfo;
  const Oid type = guard([flinfo, n] { return get_fn_expr_argtype(flinfo, n); });
  switch (type) {
    case TEXTOID:
      return text_arg(fcinfo, n, "argument");
    case INT2OID:
      return PG_GETARG_INT16(n);
    case INT4OID:
      return PG_GETARG_INT32(n);
    case INT8OID:
      return PG_GETARG_INT64(n);
    case FLOAT4OID:
    case FLOAT8OID: {
      const double v = type == FLOAT4OID ? PG_GETARG_FLOAT4(n) : PG_GETARG_FLOAT8(n);
      if (std::isnan(v)) return "NaN";
      if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
      return v;
    }
    case BOOLOID:
      return static_cast<bool>(PG_GETARG_BOOL(n));
    case TEXTARRAYOID: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : text_array_arg(fcinfo, n))
        a.push_back(e ? nlohmann::json(*e) : nlohmann::json());
      return a;
    }
    case TIMESTAMPTZOID: {
      const Datum t = PG_GETARG_DATUM(n);
      return std::string(guard([t] {
        return static_cast<const char*>(DatumGetCString(DirectFunctionCall1(timestamptz_out, t)));
      }));
    }
    default:
      throw InternalError("json_arg: argument " + std::to_string(n + 1) + " has type " +
                          std::to_string(type));
  }
}

nlohmann::json options_arg(FunctionCallInfo fcinfo, int n) {
  try {
    return nlohmann::json::parse(jsonb_arg_text(fcinfo, n));
  } catch (const nlohmann::json::exception&) {  // jsonb is valid JSON: only the range fails
    throw InvalidParameter("options hold a number beyond the range of float8");
  }
}

std::string jsonb_arg_text(FunctionCallInfo fcinfo, int n) {
  if (arg_is_null(fcinfo, n)) return "{}";
  Datum d = PG_GETARG_DATUM(n);
  const char* s = guard([d] {
    Jsonb* j = DatumGetJsonbP(d);
    return static_cast<const char*>(JsonbToCString(nullptr, &j->root, VARSIZE(j)));
  });
  return std::string(s);
}

void on_context_reset(MemoryContext cxt, void (*fn)(void*), void* arg) {
  auto* cb = static_cast<MemoryContextCallback*>(
      guard([cxt] { return MemoryContextAlloc(cxt, sizeof(MemoryContextCallback)); }));
  cb->func = fn;
  cb->arg = arg;
  guard([cxt, cb] { MemoryContextRegisterResetCallback(cxt, cb); });
}

Datum text_datum(const std::string& s) {
  const char* p = s.data();
  const int len = static_cast<int>(s.size());
  return guard([p, len] { return PointerGetDatum(cstring_to_text_with_len(p, len)); });
}

Datum text_array_datum(const std::vector<std::string>& items) {
  std::vector<Datum> elems;
  elems.reserve(items.size());
  for (const auto& s : items) elems.push_back(text_datum(s));
  Datum* data = elems.data();
  const int n = static_cast<int>(elems.size());
  return guard([data, n] {
    return PointerGetDatum(construct_array(data, n, TEXTOID, -1, false, TYPALIGN_INT));
  });
}

RowSink::RowSink(FunctionCallInfo fcinfo) {
  guard([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  store_ = rsi->setResult;
  desc_ = rsi->setDesc;
}

int RowSink::columns() const { return desc_->natts; }

void RowSink::put_metrics(const std::vector<std::pair<const char*, double>>& metrics,
                          const std::vector<std::string>& leading) {
  std::vector<Datum> v;
  for (const auto& text : leading) v.push_back(text_datum(text));
  v.resize(leading.size() + 2);
  const std::vector<char> nulls(v.size(), 0);  // char: std::vector<bool> has no data()
  for (const auto& [metric, value] : metrics) {
    v[leading.size()] = text_datum(metric);
    v[leading.size() + 1] = Float8GetDatum(value);
    put(v.data(), reinterpret_cast<bool*>(const_cast<char*>(nulls.data())));
  }
}

void RowSink::put(Datum* values, bool* nulls) {
  Tuplestorestate* store = store_;
  TupleDesc desc = desc_;
  guard([=] { tuplestore_putvalues(store, desc, values, nulls); });
  ++rows_;
}

const Interval* interval_arg(FunctionCallInfo fcinfo, int n) {
  return guard([fcinfo, n] { return PG_GETARG_INTERVAL_P(n); });
}

double interval_days(const Interval* iv) {
  return static_cast<double>(iv->month) * DAYS_PER_MONTH + iv->day +
         static_cast<double>(iv->time) / static_cast<double>(USECS_PER_DAY);
}

std::string interval_text(const Interval* iv) {
  return guard(
      [iv] { return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv))); });
}

namespace {
constexpr int64_t kUnixToPostgresEpochSeconds = 946684800;  // 2000-01-01 in Unix seconds
}

int64_t unix_seconds(TimestampTz ts) {
  int64_t secs = ts / USECS_PER_SEC;
  if (ts % USECS_PER_SEC < 0) --secs;
  return secs + kUnixToPostgresEpochSeconds;
}

TimestampTz timestamptz_from_unix(int64_t unix_seconds) {
  return static_cast<TimestampTz>((unix_seconds - kUnixToPostgresEpochSeconds) * USECS_PER_SEC);
}

Datum bytea_datum(const uint8_t* data, size_t size) {
  return guard([data, size] {
    bytea* b = static_cast<bytea*>(palloc(size + VARHDRSZ));
    SET_VARSIZE(b, size + VARHDRSZ);
    if (size > 0) memcpy(VARDATA(b), data, size);
    return PointerGetDatum(b);
  });
}

Datum jsonb_datum(const std::string& json) {
  const char* p = json.c_str();
  return guard([p] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(p)); });
}

void spi_connect() {
  guard([] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_insight: SPI_connect failed");
  });
}

void spi_finish() {
  guard([] { SPI_finish(); });
}

SpiArg spi_text_arg(const std::string& s) { return SpiArg{TEXTOID, text_datum(s), false}; }
SpiArg spi_int4_arg(int32_t v) { return SpiArg{INT4OID, Int32GetDatum(v), false}; }
SpiArg spi_int8_arg(int64_t v) { return SpiArg{INT8OID, Int64GetDatum(v), false}; }
uint64_t spi_exec(const char* sql, const std::vector<SpiArg>& args, bool read_only, long limit) {
  const int n = static_cast<int>(args.size());
  std::vector<Oid> types(args.size());
  std::vector<Datum> values(args.size());
  std::vector<char> nulls(args.size() + 1, ' ');
  for (int i = 0; i < n; ++i) {
    types[i] = args[i].type;
    values[i] = args[i].value;
    nulls[i] = args[i].isnull ? 'n' : ' ';
  }
  Oid* t = types.data();
  Datum* v = values.data();
  const char* nl = nulls.data();
  return guard([=] {
    int rc = SPI_execute_with_args(sql, n, t, v, nl, read_only, limit);
    if (rc < 0)
      elog(ERROR, "pg_insight: SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
    return static_cast<uint64_t>(SPI_processed);
  });
}

std::optional<int64_t> spi_int64(uint64_t row, int col) {
  bool isnull = false;
  int64_t v = guard([=, &isnull] {
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    if (isnull) return static_cast<int64_t>(0);
    switch (SPI_gettypeid(SPI_tuptable->tupdesc, col)) {
      case INT2OID:
        return static_cast<int64_t>(DatumGetInt16(d));
      case INT4OID:
        return static_cast<int64_t>(DatumGetInt32(d));
      case OIDOID:
        return static_cast<int64_t>(DatumGetObjectId(d));
      case INT8OID:
        return static_cast<int64_t>(DatumGetInt64(d));
      default:
        elog(ERROR, "pg_insight: spi_int64 cannot read a column of type %u",
             SPI_gettypeid(SPI_tuptable->tupdesc, col));
    }
  });
  if (isnull) return std::nullopt;
  return v;
}

std::vector<uint8_t> spi_bytea(uint64_t row, int col) {
  const uint8_t* data = nullptr;
  size_t size = 0;
  guard([&] {
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    if (isnull) return;
    bytea* b = DatumGetByteaPP(d);
    data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(b));
    size = VARSIZE_ANY_EXHDR(b);
  });
  return std::vector<uint8_t>(data, data + size);
}

}  // namespace insight::pg
