// A small, fast, platform-independent PRNG (xoshiro256** seeded by splitmix64). The standard
// library's distributions differ between implementations; models must not.
#pragma once

#include <cstdint>

namespace insight {

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

  static uint64_t splitmix64(uint64_t& x) noexcept {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace insight
