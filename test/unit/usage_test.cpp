#include "core/model/usage.hpp"

#include "core/common/tick_clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <shared_mutex>
#include <thread>
#include <tuple>

namespace insight::usage {
namespace {

// A table in heap memory standing in for PostgreSQL's shared memory.
struct TestTable {
  explicit TestTable(size_t max_entries)
      : memory(UsageTable::bytes_for(max_entries) / 8 + 1), table(memory.data(), max_entries) {
    table.format();
  }
  std::vector<uint64_t> memory;
  UsageTable table;
};

Counts counts(uint64_t calls, uint64_t rows, uint64_t nanos, int64_t last_used) {
  return Counts{calls, rows, nanos, last_used};
}

std::map<std::tuple<uint32_t, uint32_t, int64_t>, Counts> as_map(const UsageTable& t) {
  std::map<std::tuple<uint32_t, uint32_t, int64_t>, Counts> m;
  for (const Entry& e : t.snapshot()) m[{e.key.database, e.key.catalog, e.key.model}] = e.counts;
  return m;
}

TEST(UsageTable, AddsToTheEntryOfEachKey) {
  TestTable t(8);
  const Key a{1, 100, 7}, b{1, 100, 8}, other_db{2, 100, 7}, other_catalog{1, 101, 7};
  EXPECT_FALSE(t.table.add(a, counts(1, 1, 10, 5)));  // no entry yet
  t.table.insert(a, counts(1, 1, 10, 5));
  t.table.insert(b, counts(2, 20, 30, 6));
  t.table.insert(other_db, counts(1, 1, 1, 1));
  t.table.insert(other_catalog, counts(1, 1, 1, 1));
  EXPECT_TRUE(t.table.add(a, counts(3, 300, 40, 4)));  // an older last_used keeps the newer
  EXPECT_EQ(t.table.size(), 4u);
  const auto m = as_map(t.table);
  const Counts ca = m.at({1, 100, 7});
  EXPECT_EQ(ca.calls, 4u);
  EXPECT_EQ(ca.rows, 301u);
  EXPECT_EQ(ca.nanos, 50u);
  EXPECT_EQ(ca.last_used, 5);
  EXPECT_EQ(m.at({1, 100, 8}).rows, 20u);
  EXPECT_EQ(m.at({2, 100, 7}).calls, 1u);
  EXPECT_EQ(m.at({1, 101, 7}).calls, 1u);
}

TEST(UsageTable, PayloadKeysCoverEveryCrcAndNeverMeetModelIds) {
  for (uint32_t crc : {0u, 1u, 0x7fffffffu, 0xffffffffu}) {
    EXPECT_TRUE(is_payload_key(payload_key(crc)));
    EXPECT_EQ(payload_crc(payload_key(crc)), crc);
  }
  EXPECT_FALSE(is_payload_key(1));
}

TEST(UsageTable, EvictsTheLeastRecentlyUsedWhenFull) {
  TestTable t(3);
  t.table.insert({1, 1, 1}, counts(1, 1, 0, 30));
  t.table.insert({1, 1, 2}, counts(1, 1, 0, 10));  // oldest
  t.table.insert({1, 1, 3}, counts(1, 1, 0, 20));
  EXPECT_TRUE(t.table.insert({1, 1, 4}, counts(1, 1, 0, 40)));
  EXPECT_EQ(t.table.size(), 3u);
  EXPECT_EQ(t.table.evictions(), 1u);
  const auto m = as_map(t.table);
  EXPECT_EQ(m.count({1, 1, 2}), 0u);
  EXPECT_EQ(m.count({1, 1, 1}), 1u);
  EXPECT_EQ(m.count({1, 1, 4}), 1u);
  EXPECT_FALSE(t.table.insert({1, 1, 4}, counts(1, 1, 0, 50)));  // present: no eviction
}

// Random inserts and removals against a std::map: backward-shift deletion must keep every
// remaining key findable, whatever chain it sat in.
TEST(UsageTable, MatchesAMapUnderRandomChurn) {
  TestTable t(64);
  std::map<int64_t, uint64_t> expected;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 20000; ++step) {
    const int64_t model = static_cast<int64_t>(rng() % 200);
    const Key key{5, 9, model};
    if (rng() % 3 == 0) {
      EXPECT_EQ(t.table.remove(key), expected.erase(model) == 1);
    } else if (expected.size() < 64 || expected.count(model) == 1) {
      t.table.insert(key, counts(1, 1, 0, step));
      ++expected[model];
    }
    ASSERT_EQ(t.table.size(), expected.size());
  }
  for (const auto& [model, calls] : expected) {
    const auto m = as_map(t.table);
    ASSERT_EQ(m.at({5, 9, model}).calls, calls) << "model " << model;
  }
  t.table.clear();
  EXPECT_EQ(t.table.size(), 0u);
  EXPECT_TRUE(t.table.snapshot().empty());
}

TEST(UsageTable, SaveAndLoadRoundTrip) {
  TestTable t(16);
  t.table.insert({1, 2, 3}, counts(4, 5, 6, 7));
  t.table.insert({1, 0, payload_key(0xdeadbeef)}, counts(1, 1, 1, 1));
  const std::vector<uint8_t> image = t.table.save();
  TestTable back(16);
  ASSERT_TRUE(back.table.load(image.data(), image.size()));
  EXPECT_EQ(as_map(back.table).size(), 2u);
  const Counts c = as_map(back.table).at({1, 2, 3});
  EXPECT_EQ(c.calls, 4u);
  EXPECT_EQ(c.rows, 5u);
  EXPECT_EQ(c.nanos, 6u);
  EXPECT_EQ(c.last_used, 7);
  // A smaller table keeps the most recently used of a larger image.
  TestTable small(1);
  ASSERT_TRUE(small.table.load(image.data(), image.size()));
  EXPECT_EQ(small.table.size(), 1u);
  EXPECT_EQ(as_map(small.table).count({1, 2, 3}), 1u);
}

TEST(UsageTable, RefusesEveryDamagedImageWhole) {
  TestTable t(16);
  for (int64_t m = 1; m <= 5; ++m) t.table.insert({1, 2, m}, counts(1, 1, 1, m));
  const std::vector<uint8_t> image = t.table.save();
  TestTable back(16);
  EXPECT_FALSE(back.table.load(nullptr, 0));
  for (size_t cut = 0; cut < image.size(); ++cut) {
    ASSERT_FALSE(back.table.load(image.data(), cut)) << "truncated to " << cut;
  }
  for (size_t i = 0; i < image.size(); ++i) {
    std::vector<uint8_t> bad = image;
    bad[i] ^= 0x10;
    ASSERT_FALSE(back.table.load(bad.data(), bad.size())) << "byte " << i << " flipped";
  }
  EXPECT_EQ(back.table.size(), 0u);
}

// A block overwritten with garbage (a process killed mid-write, at worst) must still be read
// within bounds: snapshot, add and insert never probe beyond the table.
TEST(UsageTable, GarbageMemoryIsReadWithinBounds) {
  TestTable t(32);
  std::mt19937_64 rng(7);
  for (auto& word : t.memory) word = rng() | 0x0000000100000001ull;  // every slot "used"
  UsageTable attached(t.memory.data(), 32);
  EXPECT_LE(attached.snapshot().size(), 64u);  // the capacity: twice 32
  attached.add({1, 2, 3}, counts(1, 1, 1, 1));
  attached.insert({1, 2, 3}, counts(1, 1, 1, 1));
}

TEST(Tally, KeepsTheFirstCallExactAndScalesTheSampledOthers) {
  Tally tally{};
  // The first call (which loads the model) takes 5 ms, every other one 1 µs.
  for (int i = 0; i < 640; ++i) {
    const bool timed = tally.sample_next();
    tally.add(1, timed, timed ? (i == 0 ? 5000000 : 1000) : 0);
  }
  EXPECT_EQ(tally.timed_calls, 10u);  // the second call, then 64, 128, ... 576
  const Counts c = tally.take(99, 1.0);
  EXPECT_EQ(c.calls, 640u);
  EXPECT_EQ(c.rows, 640u);
  EXPECT_EQ(c.nanos, 5000000u + 639u * 1000u);
  EXPECT_EQ(c.last_used, 99);
  EXPECT_TRUE(tally.empty());
  // Every call timed: the exact sum.
  tally.add(5, true, 7);
  tally.add(3, true, 8);
  tally.add(1, true, 9);
  const Counts exact = tally.take(100, 1.0);
  EXPECT_EQ(exact.nanos, 24u);
  // Ticks are converted at the clock's rate.
  tally.add(1, true, 1000);
  EXPECT_EQ(tally.take(102, 0.5).nanos, 500u);
  EXPECT_EQ(exact.rows, 9u);
  // No call timed (counting turned on mid-statement): no time, the calls still counted.
  tally.add(1, false, 0);
  EXPECT_EQ(tally.take(101, 1.0).nanos, 0u);
}

// Concurrent adders under a shared lock and inserters under an exclusive one, as the
// PostgreSQL layer uses the table: no count is lost.
TEST(UsageTable, ConcurrentAddsLoseNothing) {
  TestTable t(64);
  std::shared_mutex lock;
  constexpr int kThreads = 4, kPerThread = 20000, kModels = 10;
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th)
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        const Key key{1, 1, (i + th) % kModels + 1};
        bool added;
        {
          std::shared_lock<std::shared_mutex> shared(lock);
          added = t.table.add(key, counts(1, 2, 3, i));
        }
        if (!added) {
          std::unique_lock<std::shared_mutex> exclusive(lock);
          t.table.insert(key, counts(1, 2, 3, i));
        }
      }
    });
  for (auto& th : threads) th.join();
  uint64_t calls = 0, rows = 0;
  for (const Entry& e : t.table.snapshot()) {
    calls += e.counts.calls;
    rows += e.counts.rows;
  }
  EXPECT_EQ(t.table.size(), static_cast<size_t>(kModels));
  EXPECT_EQ(calls, static_cast<uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(rows, 2u * kThreads * kPerThread);
}

// The tick clock, once calibrated, measures what steady_clock measures: a 20 ms sleep.
TEST(TickClock, AgreesWithSteadyClock) {
  calibrate_ticks();
  EXPECT_TRUE(ticks_calibrated());
  const auto n0 = std::chrono::steady_clock::now();
  const uint64_t t0 = ticks();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const uint64_t t1 = ticks();
  const double steady_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - n0).count();
  const double tick_ns = static_cast<double>(t1 - t0) * nanos_per_tick();
  EXPECT_NEAR(tick_ns / steady_ns, 1.0, 0.02);
  EXPECT_GT(nanos_per_tick(), 0.0);
}

}  // namespace
}  // namespace insight::usage
