// Small statistics shared by the learners: the core's quantile definitions, each once.
// They are three meanings, not three copies, and give different values on the same input:
//   quantile_linear     linear interpolation between order statistics (numpy's default):
//                       the anomaly scaler's median and IQR, the anomaly threshold.
//   quantile_nearest    the order statistic nearest to q·(n − 1), no interpolation: the
//                       root-cause detectors' baselines (a value that was observed).
//   conformal_quantile  the ⌈(n + 1)·q⌉-th smallest, split-conformal prediction's level:
//                       the forecasters' prediction intervals.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace insight {

// The q-quantile (0 ≤ q ≤ 1) of v by linear interpolation between order statistics — numpy's
// default method. v must not be empty; it is taken by value and partially ordered (the two
// order statistics by selection, not a full sort: the same values, in linear time).
inline double quantile_linear(std::vector<double> v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const auto at = v.begin() + static_cast<std::ptrdiff_t>(lo);
  std::nth_element(v.begin(), at, v.end());
  const double low = *at;
  // The next order statistic is the smallest of what nth_element put after lo.
  const double high = lo + 1 < v.size() ? *std::min_element(at + 1, v.end()) : low;
  return low + (pos - static_cast<double>(lo)) * (high - low);
}

// The q-quantile (0 ≤ q ≤ 1) as the order statistic at position round(q·(n − 1)) (halves
// round up, unlike numpy's 'nearest'); NaN when v is empty. v is reordered in place (callers
// reuse it as scratch space).
inline double quantile_nearest(std::vector<double>& v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto k = static_cast<size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// The empirical quantile of a sample at the level split-conformal prediction uses: with n
// values, the ceil((n + 1)·q)-th smallest (the largest when that is past n), so a new error
// from the same distribution falls at or below it with probability at least q (Vovk et al.;
// Lei et al. 2018) — a plain quantile of n values is too narrow. v must not be empty.
inline double conformal_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto n = static_cast<double>(v.size());
  const auto k = static_cast<size_t>(std::ceil((n + 1) * q));
  return v[std::min(std::max<size_t>(k, 1), v.size()) - 1];
}

// The lower end for q < 0.5: the mirror image of conformal_quantile (the upper quantile of
// the negated sample, negated).
inline double conformal_quantile_lower(std::vector<double> v, double q) {
  for (double& x : v) x = -x;
  return -conformal_quantile(std::move(v), 1 - q);
}

}  // namespace insight
