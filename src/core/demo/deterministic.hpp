// The demo generator's deterministic primitives: splitmix64-seeded xoshiro256** streams per
// (seed, entity, table), FNV-1a, Box-Muller and Knuth Poisson draws, and exp/log/sin/cos built
// from correctly rounded arithmetic only, so every platform generates the same values.
// Private to src/core/demo.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/common/random.hpp"

namespace insight::demo::detail {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;

// Stream tags: one per table (or per kind of per-entity parameter draw).
constexpr uint64_t kTagProduct = 1;
constexpr uint64_t kTagUser = 2;
constexpr uint64_t kTagCatalog = 3;
constexpr uint64_t kTagPromo = 4;
constexpr uint64_t kTagTxnDay = 5;
constexpr uint64_t kTagLinkParams = 6;
constexpr uint64_t kTagLinkMetrics = 7;
constexpr uint64_t kTagLinkRain = 8;
constexpr uint64_t kTagSiteParams = 9;
constexpr uint64_t kTagSiteMetrics = 10;
constexpr uint64_t kTagNetParams = 11;
constexpr uint64_t kTagNetMetrics = 12;
constexpr uint64_t kTagFaults = 13;
constexpr uint64_t kTagSalesEvents = 14;

// ---- portable math ----
// Built from +, -, *, / only (each correctly rounded by IEEE 754) plus exact helpers (floor,
// frexp, ldexp), so the values do not depend on the platform's libm, which is free to differ
// in the last bit (glibc even picks FMA variants by CPU). Accuracy is a few ulp: plenty here.

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm split of ln 2
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kTwoOverPi = 6.36619772367581382433e-01;
constexpr double kPio2_1 = 1.57079632673412561417e+00;  // fdlibm three-part pi/2
constexpr double kPio2_2 = 6.07710050630396597660e-11;
constexpr double kPio2_3 = 2.02226624879595063154e-21;

constexpr std::array<double, 18> make_inverse_factorials() {
  std::array<double, 18> f{};
  double v = 1.0;
  for (size_t n = 0; n < f.size(); ++n) {
    if (n > 0) v /= static_cast<double>(n);
    f[n] = v;
  }
  return f;
}
constexpr auto kInvFact = make_inverse_factorials();

constexpr std::array<double, 26> make_inverses() {
  std::array<double, 26> f{};
  for (size_t n = 1; n < f.size(); ++n) f[n] = 1.0 / static_cast<double>(n);
  return f;
}
constexpr auto kInv = make_inverses();

inline double det_exp(double x) {
  if (x < -700.0) return 0.0;
  if (x > 700.0) x = 700.0;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln2 / 2
  double p = kInvFact[14];
  for (int n = 13; n >= 0; --n) p = p * r + kInvFact[static_cast<size_t>(n)];
  return std::ldexp(p, static_cast<int>(k));
}

// x > 0 and finite.
inline double det_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2.0;
    --e;
  }
  const double s = (m - 1.0) / (m + 1.0);  // |s| <= 0.1716
  const double z = s * s;
  double p = kInv[25];
  for (int n = 23; n >= 1; n -= 2) p = p * z + kInv[static_cast<size_t>(n)];
  const double de = e;
  return de * kLn2Hi + (de * kLn2Lo + 2.0 * s * p);
}

inline double det_pow(double x, double y) { return det_exp(y * det_log(x)); }

// For moderate |x| (the generator only needs [-pi, 2 pi]).
inline void det_sincos(double x, double& sin_out, double& cos_out) {
  const double q = std::floor(x * kTwoOverPi + 0.5);
  const double r = ((x - q * kPio2_1) - q * kPio2_2) - q * kPio2_3;  // |r| <= pi / 4
  const double z = r * r;
  double sp = kInvFact[17];  // sin: r - r^3/3! + ... + r^17/17!
  double cp = kInvFact[16];  // cos: 1 - r^2/2! + ... + r^16/16!
  for (int n = 15; n >= 1; n -= 2) sp = kInvFact[static_cast<size_t>(n)] - z * sp;
  for (int n = 14; n >= 0; n -= 2) cp = kInvFact[static_cast<size_t>(n)] - z * cp;
  const double sr = r * sp, cr = cp;
  switch (static_cast<int64_t>(q) & 3) {
    case 0:
      sin_out = sr;
      cos_out = cr;
      break;
    case 1:
      sin_out = cr;
      cos_out = -sr;
      break;
    case 2:
      sin_out = -sr;
      cos_out = -cr;
      break;
    default:
      sin_out = -cr;
      cos_out = sr;
      break;
  }
}

inline double det_cos(double x) {
  double s = 0, c = 0;
  det_sincos(x, s, c);
  return c;
}

inline uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : s) {
    h ^= static_cast<uint64_t>(static_cast<unsigned char>(c));
    h *= 0x100000001B3ULL;
  }
  return h;
}

// xoshiro256** seeded through splitmix64 from (seed, entity hash, table tag).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t entity, uint64_t tag) : core_(derive(seed, entity, tag)) {}

  uint64_t next() { return core_.next(); }

  // [0, 1) with 53 random bits.
  double uniform() { return core_.uniform(); }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  // Integer in [lo, hi] (inclusive) by modulo, not insight::Rng::below (another mapping of the
  // same stream: the tables would change); the bias is negligible for the small ranges used.
  int64_t range(int64_t lo, int64_t hi) {
    const uint64_t n = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(next() % n);
  }
  size_t index(size_t n) { return static_cast<size_t>(next() % static_cast<uint64_t>(n)); }

  // Standard normal by Box-Muller; the second value of each pair is kept for the next call.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * det_log(u1));
    double s = 0, c = 0;
    det_sincos(2.0 * kPi * u2, s, c);
    spare_ = r * s;
    has_spare_ = true;
    return r * c;
  }

  // Knuth's multiplication method for small lambda, a rounded normal approximation above 30.
  double poisson(double lambda) {
    if (!(lambda > 0.0)) return 0.0;
    if (lambda < 30.0) return knuth_poisson(det_exp(-lambda));
    return std::max(0.0, std::round(lambda + std::sqrt(lambda) * normal()));
  }
  // Knuth's method with exp(-lambda) precomputed by the caller (hot loops).
  double knuth_poisson(double exp_neg_lambda) {
    int k = 0;
    double p = uniform();
    while (p > exp_neg_lambda) {
      ++k;
      p *= uniform();
    }
    return k;
  }

 private:
  static insight::Rng derive(uint64_t seed, uint64_t entity, uint64_t tag) {
    uint64_t x = seed;
    x = insight::Rng::splitmix64(x) ^ entity;
    x = insight::Rng::splitmix64(x) ^ (tag * 0xD1B54A32D192ED03ULL);
    const uint64_t s0 = insight::Rng::splitmix64(x), s1 = insight::Rng::splitmix64(x),
                   s2 = insight::Rng::splitmix64(x), s3 = insight::Rng::splitmix64(x);
    return insight::Rng(s0, s1, s2, s3);
  }

  insight::Rng core_;  // the shared xoshiro256** step (core/common/random.hpp)
  double spare_ = 0.0;
  bool has_spare_ = false;
};

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
inline int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }
inline int64_t align_down(int64_t t, int64_t step) { return floor_div(t, step) * step; }
inline int64_t align_up(int64_t t, int64_t step) { return -floor_div(-t, step) * step; }

inline double round_to(double x, double scale) { return std::round(x * scale) / scale; }
inline double round2(double x) { return round_to(x, 100.0); }
inline double clampd(double x, double lo, double hi) { return std::min(hi, std::max(lo, x)); }

inline std::string pad(int64_t n, int width) {
  std::string s = std::to_string(n);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<size_t>(width) - s.size(), '0');
  return s;
}

// Monday = 0 ... Sunday = 6 for a UTC day number (1970-01-01 was a Thursday).
inline int weekday_of_day(int64_t day) { return static_cast<int>(floor_mod(day + 3, 7)); }

// 0 at 03:00 UTC, 1 at 15:00 UTC: the diurnal load shape of the network and its sites.
inline double diurnal_shape(int64_t second_of_day) {
  const double h = static_cast<double>(second_of_day) / static_cast<double>(kHour);
  return 0.5 - 0.5 * det_cos(2.0 * kPi * (h - 3.0) / 24.0);
}

}  // namespace insight::demo::detail
