// The one way pg_insight reads rows: the executor hands each result slot to a DestReceiver,
// which passes the row's Datums straight to a C++ callback. No tuple is copied and no SPI
// tuple table or cursor batch is kept, so a large read (a million telemetry rows, a table of
// interactions) costs the scan and the callback only, in constant memory; the executor checks
// for interrupts between rows. (spi_exec and its accessors remain for statements and
// single-value catalog lookups.)
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "pg/values.hpp"

namespace insight::pg {

// values/nulls hold one entry per result column; varlena values are never compressed or
// external (read them with VARDATA_ANY / VARSIZE_ANY_EXHDR). The callback must not call
// PostgreSQL; an exception it throws stops the query and is re-thrown by spi_stream.
using RowCallback = std::function<void(const Datum* values, const bool* nulls, int columns)>;

// Runs a read-only query (SPI must be connected) with $n parameters, streaming its rows to
// `row`; returns the number of rows. Parallel plans are allowed.
uint64_t spi_stream(const char* sql, const std::vector<SpiArg>& args, const RowCallback& row);

// A text value of a row, in place (valid during the callback).
inline std::string_view text_view(Datum d) {
  const auto* t = reinterpret_cast<const text*>(DatumGetPointer(d));
  return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

SpiArg spi_text_array_arg(const std::vector<std::string>& items);
SpiArg spi_timestamptz_arg(TimestampTz ts);

}  // namespace insight::pg
