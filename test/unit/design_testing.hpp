// A regression design the tree-ensemble unit tests share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/random.hpp"

namespace insight {

// `rows` rows of `d` >= 3 features uniform in [-5, 5] (row-major X) and y = 3·x0 − 2·x1·x2 +
// uniform noise in [0, 1): a main effect and an interaction, seeded.
inline void random_design(size_t rows, size_t d, uint64_t seed, std::vector<double>& X,
                          std::vector<double>& y) {
  Rng rng(seed);
  X.resize(rows * d);
  y.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < d; ++j) X[r * d + j] = rng.uniform() * 10 - 5;
    y[r] = 3 * X[r * d] - 2 * X[r * d + 1] * X[r * d + 2] + rng.uniform();
  }
}

}  // namespace insight
