// Writes realistic starting inputs for the row fuzzers into a directory:
//   row_seeds series DIR        (series_fuzzer)
//   row_seeds interactions DIR  (interactions_fuzzer)
// The format is fuzz_rows.hpp's; the option bytes are those the fuzzers decode first.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_rows.hpp"

namespace {

struct Out {
  std::string dir, prefix;
  int n = 0;
  void write(const fuzzrows::Writer& w) {
    std::ofstream f(dir + "/" + prefix + std::to_string(n++), std::ios::binary);
    f.write(reinterpret_cast<const char*>(w.bytes.data()),
            static_cast<std::streamsize>(w.bytes.size()));
  }
};

// ---- series_fuzzer: u8 learner (0-5, 6 = auto), u8 horizon-1, u8 folds-1, u8 flags
//      (1 grouped, 2 evaluate, 4 two threads, 8 cancel + u8, bits 4-5 confidence), then rows:
//      u8 null flags (1 group, 2 time, 4 value), group, time, value.

void series_header(fuzzrows::Writer& w, int learner, int horizon, int folds, uint8_t flags) {
  w.u8(static_cast<uint8_t>(learner));
  w.u8(static_cast<uint8_t>(horizon - 1));
  w.u8(static_cast<uint8_t>(folds - 1));
  w.u8(flags);
}

// `days` daily rows of a weekly pattern: the first at an absolute date, then +1 day each.
void daily(fuzzrows::Writer& w, const std::string& key, int32_t first_date, int days, int level) {
  for (int d = 0; d < days; ++d) {
    w.u8(0);
    w.str(key);
    if (d == 0)
      w.date(first_date);
    else
      w.next_day(1);
    w.decimal(level + (d % 7 == 5 || d % 7 == 6 ? 3.5 : 1.25 * (d % 7)));
  }
}

void series_seeds(Out& out) {
  constexpr int32_t kJan2023 = 8401;  // 2023-01-01 in days since 2000-01-01
  {  // ungrouped 'auto', 60 days, with a second row on some days and a few NULLs
    fuzzrows::Writer w;
    series_header(w, 6, 7, 1, 0);
    daily(w, "", kJan2023, 60, 10);
    w.u8(0), w.str(""), w.date(kJan2023 + 3), w.decimal(2.5);  // same day again: summed
    w.u8(4), w.str(""), w.date(kJan2023 + 4), w.decimal(1);    // NULL value
    w.u8(2), w.str(""), w.date(0), w.decimal(1);               // NULL time
    out.write(w);
  }
  {  // grouped 'auto': a short group (the fallback / skipped), a medium and a long one
    fuzzrows::Writer w;
    series_header(w, 6, 3, 1, 1);
    daily(w, "north", kJan2023 + 60, 10, 5);
    daily(w, "south", kJan2023 + 30, 40, 20);
    daily(w, "east", kJan2023, 70, 7);
    w.u8(1), w.str("east"), w.date(kJan2023), w.decimal(9);  // NULL group
    out.write(w);
  }
  for (int learner = 0; learner < 6; ++learner) {  // each learner alone, ungrouped
    fuzzrows::Writer w;
    series_header(w, learner, 3, 1, 0);
    daily(w, "", kJan2023, 64, 3 + learner);
    out.write(w);
  }
  {  // an explicit learner on two groups, two threads
    fuzzrows::Writer w;
    series_header(w, 2, 2, 2, 1 | 4);
    daily(w, "a", kJan2023, 60, 1);
    daily(w, "b", kJan2023 + 10, 50, 2);
    out.write(w);
  }
  {  // evaluate 'auto', two groups
    fuzzrows::Writer w;
    series_header(w, 6, 2, 1, 1 | 2);
    daily(w, "store 1", kJan2023, 80, 4);
    daily(w, "store 2", kJan2023, 70, 8);
    out.write(w);
  }
  {  // evaluate a learner, with a cancel after a few interrupt checks
    fuzzrows::Writer w;
    series_header(w, 4, 3, 2, 2 | 8 | 0x10);
    w.u8(20);
    daily(w, "", kJan2023, 90, 6);
    out.write(w);
  }
  {  // timestamps: several readings a day, negative values, days before 2000
    fuzzrows::Writer w;
    series_header(w, 1, 4, 1, 0x20);
    const int64_t start = -40LL * fuzzrows::kMicrosPerDay;
    for (int i = 0; i < 3 * 30; ++i) {
      w.u8(0);
      w.str("");
      w.micros(start + i * (fuzzrows::kMicrosPerDay / 3) + 1234567);
      w.decimal(std::sin(i * 0.7) * 50);
    }
    out.write(w);
  }
  {  // the calendar's edges: a series starting on 0001-01-01, one ending a year before 9999
    fuzzrows::Writer w;
    series_header(w, 6, 1, 1, 0);
    w.u8(0), w.str(""), w.special_time(4), w.decimal(1);
    for (int d = 1; d < 20; ++d) w.u8(0), w.str(""), w.next_day(1), w.decimal(d);
    out.write(w);
    fuzzrows::Writer v;
    series_header(v, 0, 1, 1, 1);
    v.u8(0), v.str("end"), v.special_time(7), v.decimal(1);
    for (int d = 1; d < 20; ++d) v.u8(0), v.str("end"), v.next_day(-1), v.decimal(d);
    out.write(v);
  }
  {  // hostile values: NaN, ±inf, ±DBL_MAX, -0, and an infinite date
    fuzzrows::Writer w;
    series_header(w, 6, 2, 1, 1);
    daily(w, "g", kJan2023, 30, 1);
    w.u8(0), w.str("g"), w.date(kJan2023 + 5), w.special_f64(0);
    w.u8(0), w.str("h"), w.date(kJan2023 + 5), w.special_f64(3);
    w.u8(0), w.str("h"), w.next_day(0), w.special_f64(3);
    w.u8(0), w.str("i"), w.special_time(1), w.special_f64(7);
    out.write(w);
  }
  {  // large but finite values on a trainable series
    fuzzrows::Writer w;
    series_header(w, 6, 2, 1, 0);
    for (int d = 0; d < 50; ++d) {
      w.u8(0);
      w.str("");
      if (d == 0)
        w.date(kJan2023);
      else
        w.next_day(1);
      if (d % 9 == 4)
        w.special_f64(d % 2 ? 9 : 10);  // ±1e300
      else
        w.raw_f64(1e12 * (1 + d % 7));
    }
    out.write(w);
  }
}

// ---- interactions_fuzzer: u8 method (0 als, 1 item_knn, 2 user_knn, 3 svd, 4 popularity),
//      u8 (factors-1 | (iterations-1) << 2), u8 (min_user-1 | (min_item-1) << 2 | neighbors << 4),
//      u8 flags (1 evaluate, 2 two threads, 4 keep seen, 8 no weight column, 16 cut-off + time,
//      bits 5-7 alpha/regularization), u8 k-1, u8 seed, u8 test fraction, then rows:
//      u8 null flags (1 user, 2 item, 4 weight, 8 time), user, item, weight, time.

void interactions_header(fuzzrows::Writer& w, int method, int factors, int iterations,
                         int min_user, int min_item, int neighbors, uint8_t flags, int k) {
  w.u8(static_cast<uint8_t>(method));
  w.u8(static_cast<uint8_t>((factors - 1) | (iterations - 1) << 2));
  w.u8(static_cast<uint8_t>((min_user - 1) | (min_item - 1) << 2 | neighbors << 4));
  w.u8(flags);
  w.u8(static_cast<uint8_t>(k - 1));
  w.u8(42);
  w.u8(51);  // test fraction 0.2
}

// A small shop: users buy items of a few overlapping tastes, on consecutive days.
void shop(fuzzrows::Writer& w, int users, int items, bool weights) {
  for (int u = 0; u < users; ++u)
    for (int i = 0; i < items; ++i) {
      if ((u * 7 + i * 3) % 5 > 1) continue;
      w.u8(0);
      w.str("user" + std::to_string(u));
      w.str("item-" + std::to_string(i));
      if (weights)
        w.decimal(1 + (u + i) % 4 * 0.5);
      else
        w.small_int(1);
      w.next_day((u + i) % 3);
    }
}

void interactions_seeds(Out& out) {
  for (int method = 0; method < 5; ++method) {
    fuzzrows::Writer w;
    interactions_header(w, method, 2, 2, 1, 1, 0, 0, 5);
    shop(w, 8, 6, true);
    out.write(w);
  }
  {  // minimum counts, duplicates summed, a zero-weight pair, NULLs
    fuzzrows::Writer w;
    interactions_header(w, 1, 1, 1, 2, 2, 3, 0, 4);
    shop(w, 6, 6, true);
    w.u8(0), w.str("user1"), w.str("item-1"), w.decimal(2), w.next_day(0);  // again
    w.u8(0), w.str("user9"), w.str("item-9"), w.small_int(0), w.next_day(0);
    w.u8(1), w.str("user1"), w.str("item-2"), w.decimal(1), w.next_day(0);
    w.u8(4), w.str("user2"), w.str("item-2"), w.decimal(1), w.next_day(0);
    out.write(w);
  }
  {  // no weight column; two threads; keep seen items
    fuzzrows::Writer w;
    interactions_header(w, 0, 3, 3, 1, 1, 0, 2 | 4 | 8, 6);
    shop(w, 7, 7, false);
    out.write(w);
  }
  for (int method : {0, 2, 4}) {  // evaluate, per-user split
    fuzzrows::Writer w;
    interactions_header(w, method, 2, 2, 1, 1, 0, 1, 3);
    shop(w, 9, 7, true);
    shop(w, 9, 7, true);  // the same baskets again, later
    out.write(w);
  }
  {  // evaluate with a global cut-off
    fuzzrows::Writer w;
    interactions_header(w, 1, 1, 1, 1, 1, 0, 1 | 16, 5);
    w.date(8401 + 10);
    for (int u = 0; u < 6; ++u)
      for (int i = 0; i < 6; ++i) {
        w.u8(0);
        w.str("u" + std::to_string(u));
        w.str("i" + std::to_string((u + i) % 6));
        w.small_int(1);
        w.micros((8401LL + 4 * i) * fuzzrows::kMicrosPerDay);
      }
    out.write(w);
  }
  {  // heavy weights near the float limit, strong alpha
    fuzzrows::Writer w;
    interactions_header(w, 3, 1, 1, 1, 1, 0, 4 << 5, 3);
    shop(w, 5, 5, true);
    w.u8(0), w.str("user0"), w.str("item-0"), w.special_f64(11), w.next_day(0);
    w.u8(0), w.str("user1"), w.str("item-0"), w.special_f64(3), w.next_day(0);
    out.write(w);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: row_seeds series|interactions DIR\n");
    return 2;
  }
  const std::string kind = argv[1];
  Out out{argv[2], "seed-"};
  if (kind == "series")
    series_seeds(out);
  else if (kind == "interactions")
    interactions_seeds(out);
  else {
    std::fprintf(stderr, "row_seeds: unknown kind %s\n", kind.c_str());
    return 2;
  }
  return 0;
}
