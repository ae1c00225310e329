// Model usage counting (insight.model_usage): each scoring call site keeps a usage::Tally in
// its fn_mcxt and adds it to a table in shared memory when the site goes away (the end of
// its statement, or an error), when its model changes, or every Tally::kFlushCalls calls.
// Shared memory needs pg_insight in shared_preload_libraries; without it, or with
// insight.track_usage off, scoring skips all of this (one branch a call).
//
//   UsageTimer t = usage_start(tally);            // reads the clock for sampled calls only
//   ... score ...
//   usage_done(tally, t, model_key, rows);
#pragma once

#include <cstdint>

#include "core/common/tick_clock.hpp"
#include "core/model/usage.hpp"

#include "pg/boundary.hpp"

namespace insight::pg {

// Whether counts are kept (preloaded and insight.track_usage on).
extern bool usage_counting;

struct UsageTimer {
  uint64_t start;  // insight::ticks(); 0: not timed
};

// A zeroed tally in cxt whose counts are flushed when cxt is reset or deleted.
usage::Tally* new_usage_tally(MemoryContext cxt);
// Adds the tally to shared memory now, from a C++ body (through guard(): taking the LWLock
// could in principle raise). The reset callback adds it without, from PostgreSQL's frame.
void flush_usage(usage::Tally& tally);

// Per-row scoring: times one call in Tally::kSampleEvery.
inline UsageTimer usage_start(const usage::Tally& tally) {
  if (!usage_counting || !tally.sample_next()) return {0};
  return {insight::ticks()};
}
// Set-returning functions: every call timed.
inline UsageTimer usage_start_always() { return {usage_counting ? insight::ticks() : 0}; }

// The key of a catalog model (by model_id) in this database's extension, and of a payload
// scored as bytes (by its CRC).
usage::Key model_usage_key(int64_t model_id);
usage::Key payload_usage_key(uint32_t crc);

// One call of `key` that scored `rows` rows.
inline void usage_done(usage::Tally& tally, UsageTimer timer, const usage::Key& key,
                       uint64_t rows) {
  if (!usage_counting) return;
  if (!(tally.key == key)) {
    if (!tally.empty()) flush_usage(tally);
    tally.key = key;
  }
  tally.add(rows, timer.start != 0, timer.start != 0 ? insight::ticks() - timer.start : 0);
  if (tally.calls >= usage::Tally::kFlushCalls) flush_usage(tally);
}

// One call of a set-returning function (forecast, recommend, ...), added at once.
void usage_record(UsageTimer timer, const usage::Key& key, uint64_t rows);

// _PG_init: the GUCs, and the shared memory hooks when preloading.
void init_usage();

}  // namespace insight::pg
