// Latent-factor learners over an interaction matrix:
//  - implicit ALS (Hu, Koren & Volinsky 2008): preference p = 1 for every observed pair with
//    confidence c = 1 + alpha·weight, 0 with confidence 1 elsewhere; alternately solves
//    (YᵀY + Yᵀ(Cᵤ − I)Y + λ·nᵤ·I) xᵤ = YᵀCᵤp(u) for every user (nᵤ: the user's items, the
//    weighted-λ regularisation of Zhou et al. 2008), then every item, by a few
//    conjugate-gradient steps warm-started from the previous solution (Takács, Pilászy & Tikk
//    2011), so an iteration costs O(nnz·f + (users + items)·f²), never a dense users × items
//    matrix;
//  - truncated SVD of the weight matrix (randomised range finder with power iterations, Halko,
//    Martinsson & Tropp 2011 — what scikit-learn's TruncatedSVD does): user factors UΣ, item
//    factors V, so a score is the rank-f reconstruction of the matrix.
// Both are deterministic for a seed, whatever the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/recommend/interactions.hpp"

namespace insight::recommend {

// Row-major factor matrices: row r is entity r's vector of `factors` floats.
struct Factors {
  uint32_t factors = 0;
  std::vector<float> users, items;
  const float* user(uint32_t u) const noexcept { return users.data() + size_t{u} * factors; }
  const float* item(uint32_t i) const noexcept { return items.data() + size_t{i} * factors; }
};

struct AlsOptions {
  uint32_t factors = 64;
  uint32_t iterations = 15;
  double regularization = 0.3;  // λ per interaction: row r is regularised by λ·n_r
  double alpha = 1.0;
  uint32_t cg_steps = 3;
  uint64_t seed = 42;
  unsigned threads = 0;  // 0 = one per core
};

// by_user: users × items with weights > 0; by_item its transpose.
Factors train_als(const Csr& by_user, const Csr& by_item, const AlsOptions& options,
                  const InterruptCheck& check = {});

struct SvdOptions {
  uint32_t factors = 64;
  uint32_t oversampling = 10;
  uint32_t power_iterations = 5;
  uint64_t seed = 42;
};

// factors must be below min(users, items) (InvalidParameter otherwise).
Factors train_svd(const Csr& by_user, const SvdOptions& options, const InterruptCheck& check = {});

}  // namespace insight::recommend
