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

// The p-quantile (0 < p < 1) of the standard normal distribution: Acklam's rational
// approximation (relative error below 1.2e-9), for bands where a sample has too few values to
// place a quantile by itself.
inline double normal_quantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - kLow) return -normal_quantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace insight
