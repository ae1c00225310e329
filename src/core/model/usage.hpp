// Model usage counters (insight.model_usage): calls, rows scored, time and last use per model
// version, kept in a fixed block of memory that every backend shares.
//
// Scoring adds to a per-call-site Tally (plain data, no locks, no clock read on most calls);
// the tally is added to the shared UsageTable when the call site goes away (the end of the
// statement), when the model it scores changes, or every kFlushCalls calls. The table is an
// open-addressing hash over caller-provided memory whose counters are lock-free atomics:
//   - find() and add() may run concurrently with each other (a shared lock in the caller);
//   - insert(), remove() and clear() need the table to themselves (an exclusive lock).
// It holds only plain integers (no pointers), so reading a block another process left half
// written (a backend killed mid-update) is memory-safe: snapshot() bounds every probe.
//
// save()/load() give a file image of the live entries, checked by magic, version, size and
// CRC-32C: a damaged file is refused whole (load returns false), never half applied.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace insight::usage {

// Whose counts: a database, the insight.models table of that database's extension (its OID:
// model_ids restart when the extension is created again), and the model. A catalog model is
// its model_id (> 0); a payload scored as bytes is payload_key(its CRC) (< 0), catalog 0.
struct Key {
  uint32_t database = 0;
  uint32_t catalog = 0;
  int64_t model = 0;
  bool operator==(const Key& o) const {
    return database == o.database && catalog == o.catalog && model == o.model;
  }
};
constexpr int64_t payload_key(uint32_t crc) { return -1 - static_cast<int64_t>(crc); }
constexpr bool is_payload_key(int64_t model) { return model < 0; }
constexpr uint32_t payload_crc(int64_t model) { return static_cast<uint32_t>(-1 - model); }

struct Counts {
  uint64_t calls = 0;
  uint64_t rows = 0;
  uint64_t nanos = 0;     // time spent scoring, summed over calls
  int64_t last_used = 0;  // the caller's clock (PostgreSQL: microseconds since 2000-01-01)
};

struct Entry {
  Key key;
  Counts counts;
};

// One call site's counts since its last flush. Plain data: it lives zeroed in PostgreSQL
// memory. Per-row scoring times the first two calls and one in kSampleEvery after them; the
// first call's time (which includes finding and loading the model) is kept exact, and the mean
// of the other timed calls stands for every other call.
struct Tally {
  static constexpr uint64_t kSampleEvery = 64;
  static constexpr uint64_t kFlushCalls = 1u << 16;

  Key key;
  uint64_t calls;
  uint64_t rows;
  uint64_t first_ticks;  // the first call's time, when timed (insight::ticks())
  bool first_timed;
  uint64_t timed_calls;  // timed calls after the first
  uint64_t timed_ticks;

  // Whether the next call should be timed.
  bool sample_next() const { return calls < 2 || calls % kSampleEvery == 0; }
  // Adds one call; ticks is its time when it was timed.
  void add(uint64_t rows_scored, bool timed, uint64_t ticks) {
    if (timed && calls == 0) {
      first_timed = true;
      first_ticks = ticks;
    } else if (timed) {
      ++timed_calls;
      timed_ticks += ticks;
    }
    ++calls;
    rows += rows_scored;
  }
  bool empty() const { return calls == 0; }
  // The counts to add to the table (time estimated from the timed calls, converted at
  // nanos_per_tick), and a fresh tally.
  Counts take(int64_t now, double nanos_per_tick);
};

class UsageTable {
 public:
  // Bytes of memory for a table of at most max_entries entries.
  static size_t bytes_for(size_t max_entries);
  // Over `memory` (bytes_for(max_entries) bytes, 8-aligned): format() once by the creator,
  // attached as is by everyone else.
  UsageTable(void* memory, size_t max_entries);
  void format();

  size_t max_entries() const { return max_entries_; }
  size_t size() const;  // live entries

  // Adds counts to key's entry when it exists (shared access); false when it does not.
  bool add(const Key& key, const Counts& c);
  // Creates key's entry (exclusive access) when absent, evicting the least recently used
  // entry when the table is full, then adds c. Returns whether an entry was evicted.
  bool insert(const Key& key, const Counts& c);
  // Removes key's entry, if any (exclusive access).
  bool remove(const Key& key);
  void clear();  // exclusive access
  // Every live entry (shared access); never reads outside the table whatever its contents.
  std::vector<Entry> snapshot() const;

  // File image of snapshot(), and its inverse: load() adds every entry of a valid image to an
  // empty table (exclusive access) and returns false, changing nothing, for a damaged one.
  std::vector<uint8_t> save() const;
  bool load(const uint8_t* data, size_t size);

  uint64_t evictions() const;

 private:
  struct Slot;
  struct Header;
  Slot* slots() const;
  size_t capacity() const { return capacity_; }
  size_t home(const Key& key) const;
  // The slot holding key, or nullptr.
  Slot* find(const Key& key) const;

  void* memory_;
  size_t max_entries_;
  size_t capacity_;  // a power of two, at least twice max_entries
};

}  // namespace insight::usage
