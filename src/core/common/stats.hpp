// Small statistics shared by the learners.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace insight {

// The q-quantile (0 ≤ q ≤ 1) of v by linear interpolation between order statistics — numpy's
// default method. v must not be empty; it is taken by value and partially ordered (the two
// order statistics by selection, not a full sort: the same values, in linear time).
inline double quantile(std::vector<double> v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const auto at = v.begin() + static_cast<std::ptrdiff_t>(lo);
  std::nth_element(v.begin(), at, v.end());
  const double low = *at;
  // The next order statistic is the smallest of what nth_element put after lo.
  const double high = lo + 1 < v.size() ? *std::min_element(at + 1, v.end()) : low;
  return low + (pos - static_cast<double>(lo)) * (high - low);
}

}  // namespace insight
