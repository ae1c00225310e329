// Reading query results without an SPI tuple table: the executor hands each result slot to a
// DestReceiver, which passes the row's Datums straight to a C++ callback. No tuple is copied,
// and a large read (a million telemetry rows) costs the scan and the callback only.
#pragma once

#include <cstdint>
#include <functional>
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

SpiArg spi_text_array_arg(const std::vector<std::string>& items);
SpiArg spi_timestamptz_arg(TimestampTz ts);

}  // namespace insight::pg
