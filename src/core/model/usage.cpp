#include "core/model/usage.hpp"

#include <cstring>
#include <new>

#include "core/common/binary_io.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"

namespace insight::usage {

static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<int64_t>::is_always_lock_free,
              "usage counters live in memory shared by processes: they must be lock-free");

Counts Tally::take(int64_t now, double nanos_per_tick) {
  Counts c;
  c.calls = calls;
  c.rows = rows;
  const uint64_t others = calls - (first_timed ? 1 : 0);
  double ticks = first_timed ? static_cast<double>(first_ticks) : 0.0;
  if (timed_calls == others)  // every call timed (set-returning functions): the exact sum
    ticks += static_cast<double>(timed_ticks);
  else if (timed_calls > 0)
    ticks += static_cast<double>(timed_ticks) / static_cast<double>(timed_calls) *
             static_cast<double>(others);
  c.nanos = static_cast<uint64_t>(ticks * nanos_per_tick);
  c.last_used = now;
  *this = Tally{key, 0, 0, 0, false, 0, 0};
  return c;
}

// Keys change only with the table to oneself; the counters are added to concurrently.
struct UsageTable::Slot {
  uint32_t used;
  uint32_t database;
  uint32_t catalog;
  uint32_t pad;
  int64_t model;
  std::atomic<uint64_t> calls;
  std::atomic<uint64_t> rows;
  std::atomic<uint64_t> nanos;
  std::atomic<int64_t> last_used;

  Key key() const { return Key{database, catalog, model}; }
};

struct UsageTable::Header {
  uint64_t magic;
  uint64_t entries;
  uint64_t evictions;
  uint64_t pad;
};

namespace {
constexpr uint64_t kMemoryMagic = 0x5553414745544231ull;  // "USAGETB1"
constexpr char kFileMagic[8] = {'P', 'G', 'I', 'U', 'S', 'A', 'G', 'E'};
constexpr uint32_t kFileVersion = 1;
constexpr size_t kFileEntryBytes = 4 + 4 + 8 + 8 + 8 + 8 + 8;

size_t capacity_for(size_t max_entries) {
  size_t c = 16;
  while (c < 2 * max_entries) c *= 2;
  return c;
}

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

size_t UsageTable::bytes_for(size_t max_entries) {
  return sizeof(Header) + capacity_for(max_entries) * sizeof(Slot);
}

UsageTable::UsageTable(void* memory, size_t max_entries)
    : memory_(memory), max_entries_(max_entries), capacity_(capacity_for(max_entries)) {
  if (max_entries == 0) throw InvalidParameter("a usage table needs room for one entry at least");
}

UsageTable::Slot* UsageTable::slots() const {
  return reinterpret_cast<Slot*>(static_cast<char*>(memory_) + sizeof(Header));
}

void UsageTable::format() {
  auto* h = new (memory_) Header{};
  h->magic = kMemoryMagic;
  Slot* s = slots();
  for (size_t i = 0; i < capacity_; ++i) {
    new (&s[i]) Slot{};
  }
}

size_t UsageTable::size() const { return static_cast<const Header*>(memory_)->entries; }
uint64_t UsageTable::evictions() const { return static_cast<const Header*>(memory_)->evictions; }

size_t UsageTable::home(const Key& key) const {
  const uint64_t h =
      mix(static_cast<uint64_t>(key.model) ^
          (static_cast<uint64_t>(key.database) << 32 | key.catalog) * 0x9e3779b97f4a7c15ull);
  return static_cast<size_t>(h) & (capacity_ - 1);
}

UsageTable::Slot* UsageTable::find(const Key& key) const {
  Slot* s = slots();
  // At most capacity_ probes: a table written over by a dying process may have no empty slot.
  for (size_t n = 0, i = home(key); n < capacity_; ++n, i = (i + 1) & (capacity_ - 1)) {
    if (!s[i].used) return nullptr;
    if (s[i].key() == key) return &s[i];
  }
  return nullptr;
}

namespace {
void add_to(std::atomic<uint64_t>& calls, std::atomic<uint64_t>& rows, std::atomic<uint64_t>& nanos,
            std::atomic<int64_t>& last_used, const Counts& c) {
  calls.fetch_add(c.calls, std::memory_order_relaxed);
  rows.fetch_add(c.rows, std::memory_order_relaxed);
  nanos.fetch_add(c.nanos, std::memory_order_relaxed);
  int64_t seen = last_used.load(std::memory_order_relaxed);
  while (seen < c.last_used &&
         !last_used.compare_exchange_weak(seen, c.last_used, std::memory_order_relaxed)) {
  }
}
}  // namespace

bool UsageTable::add(const Key& key, const Counts& c) {
  Slot* s = find(key);
  if (s == nullptr) return false;
  add_to(s->calls, s->rows, s->nanos, s->last_used, c);
  return true;
}

bool UsageTable::insert(const Key& key, const Counts& c) {
  if (add(key, c)) return false;
  auto* h = static_cast<Header*>(memory_);
  bool evicted = false;
  if (h->entries >= max_entries_) {
    // The least recently used entry makes room: a linear scan, paid once per new model
    // beyond max_entries.
    Slot* s = slots();
    const Slot* oldest = nullptr;
    for (size_t i = 0; i < capacity_; ++i)
      if (s[i].used && (oldest == nullptr || s[i].last_used.load(std::memory_order_relaxed) <
                                                 oldest->last_used.load(std::memory_order_relaxed)))
        oldest = &s[i];
    if (oldest != nullptr) {
      remove(oldest->key());
      ++h->evictions;
      evicted = true;
    }
  }
  Slot* s = slots();
  for (size_t n = 0, i = home(key); n < capacity_; ++n, i = (i + 1) & (capacity_ - 1)) {
    if (s[i].used) continue;
    s[i].database = key.database;
    s[i].catalog = key.catalog;
    s[i].model = key.model;
    s[i].calls.store(0, std::memory_order_relaxed);
    s[i].rows.store(0, std::memory_order_relaxed);
    s[i].nanos.store(0, std::memory_order_relaxed);
    s[i].last_used.store(0, std::memory_order_relaxed);
    s[i].used = 1;
    ++h->entries;
    add_to(s[i].calls, s[i].rows, s[i].nanos, s[i].last_used, c);
    return evicted;
  }
  return evicted;  // no free slot (only in a damaged table): the counts are dropped
}

bool UsageTable::remove(const Key& key) {
  Slot* s = slots();
  Slot* victim = find(key);
  if (victim == nullptr) return false;
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  const size_t mask = capacity_ - 1;
  size_t hole = static_cast<size_t>(victim - s);
  for (size_t n = 0, i = (hole + 1) & mask; n < capacity_ && s[i].used; ++n, i = (i + 1) & mask) {
    const size_t want = home(s[i].key());
    // s[i] may move into the hole when its home is not cyclically within (hole, i].
    const bool stays = hole <= i ? (hole < want && want <= i) : (hole < want || want <= i);
    if (stays) continue;
    s[hole].database = s[i].database;
    s[hole].catalog = s[i].catalog;
    s[hole].model = s[i].model;
    s[hole].calls.store(s[i].calls.load(std::memory_order_relaxed), std::memory_order_relaxed);
    s[hole].rows.store(s[i].rows.load(std::memory_order_relaxed), std::memory_order_relaxed);
    s[hole].nanos.store(s[i].nanos.load(std::memory_order_relaxed), std::memory_order_relaxed);
    s[hole].last_used.store(s[i].last_used.load(std::memory_order_relaxed),
                            std::memory_order_relaxed);
    hole = i;
  }
  s[hole].used = 0;
  --static_cast<Header*>(memory_)->entries;
  return true;
}

void UsageTable::clear() {
  Slot* s = slots();
  for (size_t i = 0; i < capacity_; ++i) s[i].used = 0;
  static_cast<Header*>(memory_)->entries = 0;
}

std::vector<Entry> UsageTable::snapshot() const {
  std::vector<Entry> out;
  const Slot* s = slots();
  for (size_t i = 0; i < capacity_; ++i) {
    if (!s[i].used) continue;
    Entry e;
    e.key = s[i].key();
    e.counts.calls = s[i].calls.load(std::memory_order_relaxed);
    e.counts.rows = s[i].rows.load(std::memory_order_relaxed);
    e.counts.nanos = s[i].nanos.load(std::memory_order_relaxed);
    e.counts.last_used = s[i].last_used.load(std::memory_order_relaxed);
    out.push_back(e);
  }
  return out;
}

std::vector<uint8_t> UsageTable::save() const {
  const std::vector<Entry> entries = snapshot();
  BinaryWriter w;
  w.raw(kFileMagic, sizeof(kFileMagic));
  w.u32(kFileVersion);
  w.u64(entries.size());
  for (const Entry& e : entries) {
    w.u32(e.key.database);
    w.u32(e.key.catalog);
    w.i64(e.key.model);
    w.u64(e.counts.calls);
    w.u64(e.counts.rows);
    w.u64(e.counts.nanos);
    w.i64(e.counts.last_used);
  }
  w.u32(crc32c(w.bytes().data(), w.bytes().size()));
  return w.take();
}

bool UsageTable::load(const uint8_t* data, size_t size) {
  constexpr size_t kFixed = sizeof(kFileMagic) + 4 + 8 + 4;
  if (data == nullptr || size < kFixed || std::memcmp(data, kFileMagic, sizeof(kFileMagic)) != 0)
    return false;
  std::vector<Entry> entries;
  try {
    BinaryReader crc_reader(data + size - 4, 4);
    if (crc_reader.u32() != crc32c(data, size - 4)) return false;
    BinaryReader r(data + sizeof(kFileMagic), size - sizeof(kFileMagic) - 4);
    if (r.u32() != kFileVersion) return false;
    const uint64_t n = r.count(SIZE_MAX, kFileEntryBytes);
    entries.resize(static_cast<size_t>(n));
    for (Entry& e : entries) {
      e.key.database = r.u32();
      e.key.catalog = r.u32();
      e.key.model = r.i64();
      e.counts.calls = r.u64();
      e.counts.rows = r.u64();
      e.counts.nanos = r.u64();
      e.counts.last_used = r.i64();
    }
    r.expect_end();
  } catch (const CorruptPayload&) {
    return false;
  }
  for (const Entry& e : entries) insert(e.key, e.counts);
  return true;
}

}  // namespace insight::usage
