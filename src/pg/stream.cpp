#include "pg/stream.hpp"

#include <exception>

#include "pg/pg_prelude.hpp"

namespace insight::pg {
namespace {

struct StreamReceiver {
  DestReceiver pub;  // first: the executor sees a DestReceiver*
  const RowCallback* row;
  std::exception_ptr* error;
  uint64_t rows;
  int natts;
  bool* varlena;   // per column, from the result's tuple descriptor (palloc'd)
  Datum* scratch;  // per column: the values handed to the callback (palloc'd)
};

// The C++ side of one row; no PostgreSQL call in here.
bool deliver(StreamReceiver* r, const Datum* values, const bool* nulls) noexcept {
  try {
    (*r->row)(values, nulls, r->natts);
    ++r->rows;
    return true;
  } catch (...) {
    *r->error = std::current_exception();
    return false;  // stops the executor
  }
}

// Called by the executor. Holds no C++ object: a PostgreSQL error in here (detoasting) may
// longjmp straight out of it, to the guard() around spi_stream's SPI call.
bool stream_receive(TupleTableSlot* slot, DestReceiver* self) {
  auto* r = reinterpret_cast<StreamReceiver*>(self);
  slot_getallattrs(slot);
  const Datum* values = slot->tts_values;
  const bool* nulls = slot->tts_isnull;
  bool copied = false;
  for (int i = 0; i < r->natts; ++i) {
    r->scratch[i] = values[i];
    if (r->varlena[i] && !nulls[i]) {
      const auto* p = reinterpret_cast<const varlena*>(DatumGetPointer(values[i]));
      if (VARATT_IS_EXTERNAL(p) || VARATT_IS_COMPRESSED(p)) {
        r->scratch[i] = PointerGetDatum(PG_DETOAST_DATUM_PACKED(values[i]));
        copied = true;
      }
    }
  }
  const bool ok = deliver(r, r->scratch, nulls);
  if (copied) {
    for (int i = 0; i < r->natts; ++i) {
      if (r->scratch[i] != values[i]) pfree(DatumGetPointer(r->scratch[i]));
    }
  }
  return ok;
}

void stream_startup(DestReceiver* self, int, TupleDesc typeinfo) {
  auto* r = reinterpret_cast<StreamReceiver*>(self);
  r->natts = typeinfo->natts;
  r->varlena =
      static_cast<bool*>(palloc0(sizeof(bool) * static_cast<size_t>(std::max(1, r->natts))));
  r->scratch =
      static_cast<Datum*>(palloc0(sizeof(Datum) * static_cast<size_t>(std::max(1, r->natts))));
  for (int i = 0; i < r->natts; ++i) r->varlena[i] = TupleDescAttr(typeinfo, i)->attlen == -1;
}

void stream_shutdown(DestReceiver*) {}
void stream_destroy(DestReceiver*) {}

}  // namespace

uint64_t spi_stream(const char* sql, const std::vector<SpiArg>& args, const RowCallback& row) {
  std::exception_ptr error;
  const SpiArg* a = args.data();
  const int n = static_cast<int>(args.size());
  StreamReceiver* receiver =
      guard([] { return static_cast<StreamReceiver*>(palloc0(sizeof(StreamReceiver))); });
  receiver->pub.receiveSlot = stream_receive;
  receiver->pub.rStartup = stream_startup;
  receiver->pub.rShutdown = stream_shutdown;
  receiver->pub.rDestroy = stream_destroy;
  receiver->pub.mydest = DestNone;
  receiver->row = &row;
  receiver->error = &error;
  guard([=] {
    ParamListInfo params = makeParamList(n);
    for (int i = 0; i < n; ++i) {
      ParamExternData& p = params->params[i];
      p.value = a[i].value;
      p.isnull = a[i].isnull;
      p.pflags = PARAM_FLAG_CONST;
      p.ptype = a[i].type;
    }
    SPIExecuteOptions options;
    memset(&options, 0, sizeof options);
    options.params = params;
    options.read_only = true;
    options.dest = &receiver->pub;
    const int rc = SPI_execute_extended(sql, &options);
    if (rc < 0)
      elog(ERROR, "pg_insight: SPI_execute_extended failed: %s", SPI_result_code_string(rc));
  });
  if (error) std::rethrow_exception(error);
  return receiver->rows;
}

SpiArg spi_text_array_arg(const std::vector<std::string>& items) {
  return SpiArg{TEXTARRAYOID, text_array_datum(items), false};
}

SpiArg spi_timestamptz_arg(TimestampTz ts) {
  return SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(ts), false};
}

}  // namespace insight::pg
