#include "core/common/tick_clock.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace insight {

namespace detail {
bool ticks_are_counter = false;
}

namespace {
double ns_per_tick = 1.0;
bool calibrated = false;

uint64_t steady_nanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

#if defined(__x86_64__)
// CPUID 0x80000007, EDX bit 8: the TSC runs at a constant rate in every power state.
bool invariant_tsc() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
  __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
  return (edx & (1u << 8)) != 0;
}
#endif
}  // namespace

void calibrate_ticks(int spin_ms) {
  if (calibrated) return;
  calibrated = true;
#if defined(__x86_64__)
  if (!invariant_tsc()) return;
  const uint64_t n0 = steady_nanos();
  const uint64_t t0 = __rdtsc();
  uint64_t n1 = n0;
  while (n1 - n0 < static_cast<uint64_t>(spin_ms) * 1000000u) n1 = steady_nanos();
  const uint64_t t1 = __rdtsc();
  if (t1 <= t0) return;
  ns_per_tick = static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0);
  detail::ticks_are_counter = true;
#elif defined(__aarch64__)
  (void)spin_ms;
  uint64_t hz;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(hz));
  if (hz == 0) return;
  ns_per_tick = 1e9 / static_cast<double>(hz);
  detail::ticks_are_counter = true;
#else
  (void)spin_ms;
#endif
}

double nanos_per_tick() { return ns_per_tick; }
bool ticks_calibrated() { return calibrated; }

}  // namespace insight
