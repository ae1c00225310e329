// The byte format the row fuzzers (series_fuzzer, interactions_fuzzer) decode, and the encoder
// row_seeds uses to write their starting corpora. Header only, no core dependency.
//
// Every read consumes bytes from the front and never fails: past the end, integers read as 0
// and strings as empty, so any byte string is a valid input and libFuzzer's mutations stay
// meaningful (a flipped byte changes one field, not the framing of everything after it).
//
//   string  u8 n: n < 0x80: n raw bytes follow (arbitrary bytes, NUL included);
//                 n ≥ 0x80: the ((n & 0x7f) mod count)-th string decoded so far in this
//                 input (same pool for every string field), or "" when there is none yet —
//                 so a mutation easily makes two rows share a key, user or item
//   double  u8 k: k & 3 = 0: the small integer (int8)(k) >> 2
//                 k & 3 = 1: 8 raw bytes, little endian (any bit pattern: NaN payloads too)
//                 k & 3 = 2: kSpecialDoubles[(k >> 2) mod size] (NaN, ±inf, ±DBL_MAX, ...)
//                 k & 3 = 3: int16 / 100 (two bytes follow): decimals
//   time    u8 k: k & 3 = 0: previous day + (int8)(k) >> 2 (a date column; days since 2000)
//                 k & 3 = 1: int64 µs since 2000-01-01, 8 raw bytes (timestamp[tz])
//                 k & 3 = 2: int32 date, 4 raw bytes (days since 2000-01-01)
//                 k & 3 = 3: kSpecialTimes[(k >> 2) mod size] (±infinity, range edges, ...)
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace fuzzrows {

// An invariant the fuzzer checks: print what broke and abort, which libFuzzer reports as a
// crash (with the input saved as crash-<sha1>).
#define FUZZ_CHECK(cond, ...)                                                                 \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "INVARIANT VIOLATED at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                      \
      std::fprintf(stderr, "\n");                                                             \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

// A bug the fuzzer has found and reported, not yet fixed in the core. Such checks abort like
// FUZZ_CHECK — CI keeps failing until the core is fixed — unless the bug's tag is listed in
// INSIGHT_FUZZ_TOLERATE (comma-separated): then the input is dropped as if it were invalid,
// so a long run can look for *other* bugs past it. See test/fuzz/README.md for the tags.
struct Tolerated {};
inline bool tolerated(const char* tag) {
  static const std::string list = [] {
    const char* env = std::getenv("INSIGHT_FUZZ_TOLERATE");
    return "," + std::string(env ? env : "") + ",";
  }();
  return list.find("," + std::string(tag) + ",") != std::string::npos;
}
#define FUZZ_KNOWN(tag, cond, ...)                                                                 \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      if (fuzzrows::tolerated(tag)) throw fuzzrows::Tolerated{};                                   \
      std::fprintf(stderr, "KNOWN BUG [%s] (tolerate with INSIGHT_FUZZ_TOLERATE=%s)\n", tag, tag); \
      FUZZ_CHECK(cond, __VA_ARGS__);                                                               \
    }                                                                                              \
  } while (0)

inline const std::vector<double>& special_doubles() {
  static const std::vector<double> v = {
      std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::max(),
      -std::numeric_limits<double>::max(),
      std::numeric_limits<double>::min(),
      std::numeric_limits<double>::denorm_min(),
      -0.0,
      0.0,
      1e300,
      -1e300,
      3.0e38,  // the interaction builder's float clamp
      3.5e38,  // just above FLT_MAX
      -3.5e38,
      1e-300,
      1e15,
      -1e15,
      9007199254740993.0,  // 2^53 + 1
      0.1,
      1.0,
      -1.0,
      1e6,
  };
  return v;
}

// Day numbers and timestamps of the edges: PostgreSQL's ±infinity (DATEVAL_NOBEGIN/NOEND,
// DT_NOBEGIN/NOEND), int extremes, the calendar range the forecasters accept (0001-01-01 ..
// 9999-12-31, i.e. -730119 .. 2921939 days since 2000), PostgreSQL's date/timestamp limits.
struct SpecialTime {
  bool is_date;  // true: an int32 date (days since 2000-01-01), false: int64 µs
  int64_t value;
};
inline const std::vector<SpecialTime>& special_times() {
  static const std::vector<SpecialTime> v = {
      {true, std::numeric_limits<int32_t>::min()},   // date '-infinity'
      {true, std::numeric_limits<int32_t>::max()},   // date 'infinity'
      {false, std::numeric_limits<int64_t>::min()},  // timestamp '-infinity'
      {false, std::numeric_limits<int64_t>::max()},  // timestamp 'infinity'
      {true, -730119},                               // 0001-01-01
      {true, -730120},                               // one day before
      {true, 2921939},                               // 9999-12-31
      {true, 2921939 - 367},                         // the last day training accepts
      {true, 2921939 - 366},                         // one day after it
      {true, -2451545},                              // 4713-11-24 BC: PostgreSQL's first
      {true, 2147483494 - 2451545},                  // PostgreSQL's last date
      {false, -211813488000000000},                  // PostgreSQL's first timestamp
      {false, 9223371331200000000 - 1},              // its last
      {false, -1},                                   // 1999-12-31 23:59:59.999999
      {false, 0},                                    // 2000-01-01
      {true, std::numeric_limits<int32_t>::min() + 1},
      {true, std::numeric_limits<int32_t>::max() - 1},
      {false, std::numeric_limits<int64_t>::min() + 1},
      {false, std::numeric_limits<int64_t>::max() - 1},
  };
  return v;
}

// A time value as the SQL layer's "(t)::date" would see it.
struct Time {
  bool finite = true;
  int64_t day = 0;     // days since 2000-01-01 (PostgreSQL's date 0), when finite
  int64_t micros = 0;  // the timestamp itself (µs since 2000-01-01), for timestamptz uses
};

constexpr int64_t kMicrosPerDay = 86400000000;
constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max() - 1;  // finite

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

inline Time from_date(int64_t date) {
  Time t;
  t.finite =
      date != std::numeric_limits<int32_t>::min() && date != std::numeric_limits<int32_t>::max();
  t.day = date;
  // The timestamptz of the date's midnight; saturates at ±infinity like PostgreSQL's cast.
  if (!t.finite)
    t.micros = date < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  else if (date > kMaxMicros / kMicrosPerDay)  // PostgreSQL: "date out of range for timestamp"
    t.micros = kMaxMicros;
  else if (date < -kMaxMicros / kMicrosPerDay)
    t.micros = -kMaxMicros;
  else
    t.micros = date * kMicrosPerDay;
  return t;
}

inline Time from_micros(int64_t us) {
  Time t;
  t.micros = us;
  t.finite = us != std::numeric_limits<int64_t>::min() && us != std::numeric_limits<int64_t>::max();
  t.day = floor_div(us, kMicrosPerDay);
  return t;
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool empty() const noexcept { return p_ >= end_; }
  size_t remaining() const noexcept { return static_cast<size_t>(end_ - p_); }

  uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
  uint64_t le(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(le(8)); }

  std::string str() {
    const uint8_t n = u8();
    if (n >= 0x80) {
      if (pool_.empty()) return {};
      return pool_[(n & 0x7f) % pool_.size()];
    }
    const size_t len = std::min<size_t>(n, remaining());
    std::string s(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    pool_.push_back(s);
    return s;
  }

  double f64() {
    const uint8_t k = u8();
    switch (k & 3) {
      case 0:
        return static_cast<double>(static_cast<int8_t>(k) >> 2);
      case 1: {
        const uint64_t bits = le(8);
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
      }
      case 2:
        return special_doubles()[(k >> 2) % special_doubles().size()];
      default:
        return static_cast<double>(static_cast<int16_t>(le(2))) / 100.0;
    }
  }

  Time time() {
    const uint8_t k = u8();
    switch (k & 3) {
      case 0:
        prev_day_ += static_cast<int8_t>(k) >> 2;
        return from_date(prev_day_);
      case 1: {
        const Time t = from_micros(i64());
        if (t.finite) prev_day_ = t.day;
        return t;
      }
      case 2: {
        const int64_t d = static_cast<int32_t>(le(4));
        prev_day_ = d;
        return from_date(d);
      }
      default: {
        const SpecialTime& s = special_times()[(k >> 2) % special_times().size()];
        const Time t = s.is_date ? from_date(s.value) : from_micros(s.value);
        if (t.finite) prev_day_ = t.day;
        return t;
      }
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  std::vector<std::string> pool_;
  int64_t prev_day_ = 8400;  // 2022-12-31
};

// The harness's limit on rows per input (not the code's).
constexpr size_t kMaxRows = 4096;

// An input's rows: each a flags byte (which columns are NULL) then its fields, read by
// read_row(row, flags), until the input or kMaxRows runs out.
template <typename Row, typename ReadRow>
std::vector<Row> read_rows(Reader& r, ReadRow read_row) {
  std::vector<Row> rows;
  while (!r.empty() && rows.size() < kMaxRows) {
    Row row;
    read_row(row, r.u8());
    rows.push_back(std::move(row));
  }
  return rows;
}

// The encoder, for seeds.
class Writer {
 public:
  std::vector<uint8_t> bytes;
  void u8(uint8_t v) { bytes.push_back(v); }
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  // A new string (≤ 127 bytes) or, when it was written before, a back-reference to it.
  void str(std::string_view s) {
    for (size_t i = 0; i < pool_.size(); ++i)
      if (pool_[i] == s && i < 0x80) {
        u8(static_cast<uint8_t>(0x80 | i));
        return;
      }
    const size_t n = std::min<size_t>(s.size(), 0x7f);
    u8(static_cast<uint8_t>(n));
    for (size_t i = 0; i < n; ++i) u8(static_cast<uint8_t>(s[i]));
    pool_.emplace_back(s.substr(0, n));
  }
  void small_int(int v) { u8(static_cast<uint8_t>((v << 2) & 0xfc)); }  // -32 .. 31
  void decimal(double v) {
    u8(3);
    le(static_cast<uint64_t>(static_cast<int16_t>(std::lround(v * 100))), 2);
  }
  void raw_f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u8(1);
    le(bits, 8);
  }
  void special_f64(size_t index) { u8(static_cast<uint8_t>(2 | (index << 2))); }
  void next_day(int delta) { u8(static_cast<uint8_t>((delta << 2) & 0xfc)); }  // -32 .. 31
  void date(int32_t d) {
    u8(2);
    le(static_cast<uint32_t>(d), 4);
  }
  void micros(int64_t us) {
    u8(1);
    le(static_cast<uint64_t>(us), 8);
  }
  void special_time(size_t index) { u8(static_cast<uint8_t>(3 | (index << 2))); }

 private:
  std::vector<std::string> pool_;
};

}  // namespace fuzzrows
