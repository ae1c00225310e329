// What the files of the root-cause detectors share (detector.cpp: per-link degradation, runs
// and episodes; episode.cpp: features, scores, severity, confidence; findings.cpp: findings
// and their evidence). Private to src/core/rootcause.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/rootcause/detector.hpp"

namespace insight::rootcause::detail {

// Indexes into an episode's features (feature_names()).
enum F : size_t {
  kIbDrop = 0,
  kObDrop,
  kIbGradeF,
  kObGradeF,
  kThroughputRatio,
  kUtilizationRatio,
  kIbLossExcess,
  kObLossExcess,
  kLatencyExcess,
  kJitterRatio,
  kUptimeDrop,
  kErrorsExcess,
  kShareAffected,
  kSimultaneity,
  kOscillation,
  kDegradedFraction,
  kRfFraction,
  kBothFraction,
  kLinks,
  kAntennas,
  kHubs,
  kSatellites,
  kNetworks,
  kAntennaShare,
  kAntennaPeerShare,
  kSatellitePeerShare,
  kDurationHours
};
static_assert(kDurationHours + 1 == kFeatureCount);

// Per-sample degradation flags.
constexpr uint8_t kIbBad = 1, kObBad = 2, kTrafficBad = 4;

inline double clamp01(double x) { return std::isfinite(x) ? std::clamp(x, 0.0, 1.0) : 0.0; }

inline bool compatible(Signature a, Signature b) {
  return (a == Signature::Traffic) == (b == Signature::Traffic);
}

// Tolerances for "started and ended together": a quarter of an hour at the start, half an
// hour or a tenth of the duration at the end (an oscillating link's last degraded half-period
inline bool together(int64_t start_a, int64_t end_a, int64_t start_b, int64_t end_b, int64_t step) {
  const int64_t tol_start = std::max<int64_t>(900, 2 * step);
  const int64_t tol_end = std::max<int64_t>({1800, (end_b - start_b) / 10, 2 * step});
  return std::llabs(start_a - start_b) <= tol_start && std::llabs(end_a - end_b) <= tol_end;
}

}  // namespace insight::rootcause::detail
