// A small, fast, platform-independent PRNG (xoshiro256** seeded by splitmix64). The standard
// library's distributions differ between implementations; models must not.
#pragma once

#include <cstdint>

namespace insight {

// splitmix64's increment (2^64 / the golden ratio) and its output function (a bijective 64-bit
// mix): Rng seeds itself through them, the demo generator derives per-entity states with
// Rng::splitmix64, and hash-based draws (recommend::holdout_evaluate's order of a user's pairs)
// mix a key with them.
constexpr uint64_t kSplitmixGamma = 0x9E3779B97F4A7C15ull;
constexpr uint64_t mix64(uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The core's one pseudo-random generator. Its draws: uniform() and below(n) here; the demo
// generator adds its own (index/range by modulo, normal and Poisson on its deterministic
// math) on top of the same stream, since its tables must not change.
class Rng {
 public:
  explicit Rng(uint64_t seed) noexcept {
    for (auto& s : s_) s = splitmix64(seed);
  }
  // From a state a caller derived itself (e.g. per entity and table in the demo generator).
  Rng(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) noexcept : s_{s0, s1, s2, s3} {}
  uint64_t next() noexcept {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, bias below 2^-32 for n < 2^32).
  uint64_t below(uint64_t n) noexcept {
    __extension__ using u128 = unsigned __int128;  // GCC/Clang extension, on every x86-64/ARM64
    return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }

  // splitmix64: advances x and returns its next output.
  static uint64_t splitmix64(uint64_t& x) noexcept { return mix64(x += kSplitmixGamma); }

 private:
  static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace insight
