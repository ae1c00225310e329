// Nearest neighbours by cosine similarity of binary co-occurrence: for two items (or two
// users) a and b, sim = |common| / (sqrt(|a|·|b|) + shrinkage), where |common| counts the users
// (items) both have. Only the top `keep` neighbours of every entity are kept, so the model is
// O(entities · keep) and a users × users or items × items matrix is never built: each entity's
// co-occurrence counts are accumulated in a dense scratch row of its own thread.
#pragma once

#include <cstdint>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/recommend/interactions.hpp"

namespace insight::recommend {

// Per entity, its neighbours by decreasing similarity (ties: ascending index), never itself.
struct Neighbors {
  std::vector<uint32_t> indptr{0};
  std::vector<uint32_t> indices;
  std::vector<float> sims;
  uint32_t entities() const noexcept { return static_cast<uint32_t>(indptr.size() - 1); }
  size_t memory_bytes() const noexcept {
    return sizeof(*this) + indptr.capacity() * 4 + indices.capacity() * 4 + sims.capacity() * 4;
  }
};

struct NeighborOptions {
  uint32_t keep = 100;
  double shrinkage = 10.0;
  unsigned threads = 0;
};

// Neighbours of the rows of `m` (entities × contexts) through the contexts they share;
// `mt` is m's transpose.
Neighbors cosine_neighbors(const Csr& m, const Csr& mt, const NeighborOptions& options,
                           const InterruptCheck& check = {});

}  // namespace insight::recommend
