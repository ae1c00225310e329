// A cheap clock for timing short calls (model usage, src/pg/usage.hpp): the CPU's own counter
// where it ticks at a constant rate — x86-64 with an invariant TSC (rdtsc, ~10 ns), ARM64's
// virtual counter — and std::chrono::steady_clock elsewhere. steady_clock is exact but on some
// virtual machines a read costs ~200 ns and perturbs what it times (a sampled call measured
// 0.1–0.5 µs long where the counter measures it right); the counter costs ~10 ns and does not.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace insight {

namespace detail {
extern bool ticks_are_counter;  // set by calibrate_ticks()
}

// The clock's current reading, in ticks.
inline uint64_t ticks() {
#if defined(__x86_64__)
  if (detail::ticks_are_counter) return __rdtsc();
#elif defined(__aarch64__)
  if (detail::ticks_are_counter) {
    uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
  }
#endif
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Chooses the clock and measures its rate against steady_clock (x86-64: a spin of `spin_ms`;
// ARM64 reads the counter's frequency). Call once per process before ticks() is used for
// timing (later calls are no-ops); until then ticks() reads steady_clock, 1 ns a tick.
void calibrate_ticks(int spin_ms = 10);
double nanos_per_tick();  // 1 before calibrate_ticks()
bool ticks_calibrated();

}  // namespace insight
