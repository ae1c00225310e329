// Small statistics shared by the learners.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace insight {

// The q-quantile (0 ≤ q ≤ 1) of v by linear interpolation between order statistics — numpy's
// default method. v must not be empty; it is taken by value and sorted.
inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace insight
