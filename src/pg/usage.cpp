// Model usage counters in shared memory (usage.hpp), their file across restarts, and
// insight._usage_counts(), which the view insight.model_usage reads.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "core/model/usage.hpp"

#include "pg/model_store.hpp"
#include "pg/usage.hpp"
#include "pg/values.hpp"

namespace insight::pg {

bool usage_counting = false;

namespace {

using insight::usage::Counts;
using insight::usage::Key;
using insight::usage::Tally;
using insight::usage::UsageTable;

constexpr const char* kShmemName = "pg_insight usage";
constexpr const char* kTrancheName = "pg_insight usage";
// Beside PostgreSQL's own statistics file, kept across restarts.
constexpr const char* kFile = "pg_stat/pg_insight_usage.stat";
constexpr const char* kFileTemp = "pg_stat/pg_insight_usage.stat.tmp";

bool track_usage = true;  // GUC insight.track_usage
int max_tracked = 5000;   // GUC insight.max_tracked_models

// Set in the postmaster by the startup hook and inherited by every backend it forks.
std::optional<UsageTable> table;
LWLock* lock = nullptr;

shmem_request_hook_type prev_shmem_request = nullptr;
shmem_startup_hook_type prev_shmem_startup = nullptr;

void update_counting() { usage_counting = track_usage && table.has_value(); }

void assign_track_usage(bool newval, void*) noexcept {
  track_usage = newval;
  update_counting();
}

void shmem_request() {
  if (prev_shmem_request != nullptr) prev_shmem_request();
  RequestAddinShmemSpace(UsageTable::bytes_for(static_cast<size_t>(max_tracked)));
  RequestNamedLWLockTranche(kTrancheName, 1);
}

// Reads the file a previous server left into the table (postmaster, before any backend
// exists): false for a damaged one, which changes nothing; true for none (a first start).
bool read_file() noexcept {
  FILE* f = std::fopen(kFile, "rb");
  if (f == nullptr) return true;
  bool ok = false;
  try {
    std::vector<uint8_t> bytes;
    uint8_t buffer[65536];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
      bytes.insert(bytes.end(), buffer, buffer + n);
    ok = std::ferror(f) == 0 && table->load(bytes.data(), bytes.size());
  } catch (...) {
    ok = false;
  }
  std::fclose(f);
  return ok;
}

// Writes the table to the temporary file and syncs it: 0, or the errno of what failed.
int write_temp_file() noexcept {
  try {
    const std::vector<uint8_t> image = table->save();
    FILE* f = std::fopen(kFileTemp, "wb");
    if (f == nullptr) return errno;
    const bool ok = std::fwrite(image.data(), 1, image.size(), f) == image.size() &&
                    std::fflush(f) == 0 && pg_fsync(fileno(f)) == 0;
    const int err = ok ? 0 : (errno != 0 ? errno : EIO);
    if (std::fclose(f) != 0 && err == 0) return errno != 0 ? errno : EIO;
    return err;
  } catch (...) {
    return ENOMEM;
  }
}

// The functions below report with ereport and hold no C++ object: an error report may not
// leave one behind (docs/architecture.md, "The boundary").
void load_file() {
  if (!read_file())
    ereport(LOG, (errmsg("pg_insight: ignoring damaged model usage file \"%s\"", kFile),
                  errdetail("Model usage counts start from zero.")));
}

// Writes the counts (postmaster, at shutdown and before a crash restart re-creates shared
// memory; no backend is running then). The table holds plain integers only, so even one a
// killed backend left half-updated is read safely; written to a temporary file, then renamed.
void save_file(int, Datum) {
  if (!table) return;
  const int err = write_temp_file();
  if (err != 0) {
    ereport(LOG, (errmsg("pg_insight: could not write model usage file \"%s\": %s", kFileTemp,
                         strerror(err)),
                  errdetail("The next start counts from the previous file's counts.")));
    unlink(kFileTemp);
    return;
  }
  (void)durable_rename(kFileTemp, kFile, LOG);
}

void shmem_startup() {
  if (prev_shmem_startup != nullptr) prev_shmem_startup();
  const size_t n = static_cast<size_t>(max_tracked);
  // The tick clock's rate, measured once here and inherited by every backend (a 10 ms spin at
  // server start).
  insight::calibrate_ticks();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  void* memory = ShmemInitStruct(kShmemName, UsageTable::bytes_for(n), &found);
  lock = &(GetNamedLWLockTranche(kTrancheName))->lock;
  table.emplace(memory, n);
  if (!found) {
    table->format();
    if (!IsUnderPostmaster) load_file();
  }
  LWLockRelease(AddinShmemInitLock);
  update_counting();
  // Only the postmaster saves, on its way out and before each crash restart.
  if (!IsUnderPostmaster) on_shmem_exit(save_file, 0);
}

// Adds a tally to the shared table: plain C calls and trivially destructible values only, so
// that it may run where a PostgreSQL error longjmps (a reset callback during an abort). A
// shared lock to add to an existing entry; the exclusive one only to create one.
void add_to_shared(Tally& tally) {
  if (tally.empty()) return;
  if (!table || lock == nullptr) {
    tally.take(0, 1.0);
    return;
  }
  const Counts c = tally.take(GetCurrentTimestamp(), insight::nanos_per_tick());
  LWLockAcquire(lock, LW_SHARED);
  const bool added = table->add(tally.key, c);
  LWLockRelease(lock);
  if (added) return;
  LWLockAcquire(lock, LW_EXCLUSIVE);
  table->insert(tally.key, c);
  LWLockRelease(lock);
}

void flush_at_reset(void* arg) { add_to_shared(*static_cast<Tally*>(arg)); }

}  // namespace

Tally* new_usage_tally(MemoryContext cxt) {
  auto* tally =
      static_cast<Tally*>(guard([cxt] { return MemoryContextAllocZero(cxt, sizeof(Tally)); }));
  on_context_reset(cxt, flush_at_reset, tally);
  return tally;
}

void flush_usage(Tally& tally) {
  if (tally.empty()) return;
  guard([&tally] { add_to_shared(tally); });
}

void usage_record(UsageTimer timer, const usage::Key& key, uint64_t rows) {
  if (!usage_counting) return;
  Tally tally{};
  tally.key = key;
  tally.add(rows, timer.start != 0, timer.start != 0 ? insight::ticks() - timer.start : 0);
  flush_usage(tally);
}

usage::Key model_usage_key(int64_t model_id) {
  return Key{MyDatabaseId, catalog_relid(), model_id};
}

usage::Key payload_usage_key(uint32_t crc) { return Key{MyDatabaseId, 0, usage::payload_key(crc)}; }

void init_usage() {
  DefineCustomBoolVariable("insight.track_usage",
                           "Counts calls, rows and time of every model in insight.model_usage.",
                           "Needs pg_insight in shared_preload_libraries.", &track_usage, true,
                           PGC_SUSET, 0, nullptr, assign_track_usage, nullptr);
  // Shared memory is sized once, at postmaster start: a library loaded later (not preloaded)
  // may not define a PGC_POSTMASTER setting at all (PostgreSQL refuses it with FATAL).
  if (!process_shared_preload_libraries_in_progress) return;
  DefineCustomIntVariable(
      "insight.max_tracked_models",
      "Model versions insight.model_usage counts at most; the least recently used make room.",
      "Takes effect at server start; needs pg_insight in shared_preload_libraries.", &max_tracked,
      5000, 100, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
  prev_shmem_request = shmem_request_hook;
  shmem_request_hook = shmem_request;
  prev_shmem_startup = shmem_startup_hook;
  shmem_startup_hook = shmem_startup;
}

}  // namespace insight::pg

// insight._usage_counts(catalog regclass)
//   → TABLE(model_id bigint, payload_crc bytea, calls bigint, rows_scored bigint,
//           total_ms float8, last_used timestamptz)
// This database's counts: catalog models of the extension whose insight.models is `catalog`,
// and payloads (model_id NULL, payload_crc the 4 bytes at offset 28 of the payload).
INSIGHT_FUNCTION(insight_usage_counts) {
  using insight::pg::guard;
  const Oid catalog = PG_GETARG_OID(0);
  if (!insight::pg::table) {
    guard([] {
      ereport(NOTICE,
              (errmsg("model usage is not counted: pg_insight is not in shared_preload_libraries"),
               errhint("Add pg_insight to shared_preload_libraries in postgresql.conf and restart "
                       "the server; insight.track_usage turns counting on and off.")));
    });
  } else if (!insight::pg::track_usage) {
    guard([] {
      ereport(NOTICE, (errmsg("model usage counting is off (insight.track_usage = off)"),
                       errhint("SET insight.track_usage = on (a superuser), or set it in "
                               "postgresql.conf, to count again.")));
    });
  }
  std::vector<insight::usage::Entry> entries;
  if (insight::pg::table) {
    // Should snapshot() throw (out of memory), the error aborts the transaction, which
    // releases the lock (LWLockReleaseAll).
    LWLock* lock = insight::pg::lock;
    guard([lock] { LWLockAcquire(lock, LW_SHARED); });
    entries = insight::pg::table->snapshot();
    guard([lock] { LWLockRelease(lock); });
  }
  insight::pg::RowSink sink(fcinfo);
  for (const auto& e : entries) {
    if (e.key.database != MyDatabaseId) continue;
    const bool payload = insight::usage::is_payload_key(e.key.model);
    if (!payload && e.key.catalog != catalog) continue;
    uint8_t crc[4];
    const uint32_t c = payload ? insight::usage::payload_crc(e.key.model) : 0;
    for (int i = 0; i < 4; ++i) crc[i] = static_cast<uint8_t>(c >> (8 * i));
    Datum v[6] = {Int64GetDatum(e.key.model),
                  payload ? insight::pg::bytea_datum(crc, 4) : static_cast<Datum>(0),
                  Int64GetDatum(static_cast<int64_t>(e.counts.calls)),
                  Int64GetDatum(static_cast<int64_t>(e.counts.rows)),
                  Float8GetDatum(static_cast<double>(e.counts.nanos) / 1e6),
                  TimestampTzGetDatum(e.counts.last_used)};
    bool nulls[6] = {payload, !payload, false, false, false, e.counts.last_used == 0};
    sink.put(v, nulls);
  }
  return static_cast<Datum>(0);
}
