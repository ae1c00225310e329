#include "core/recommend/neighbors.hpp"

#include <algorithm>
#include <cmath>

#include "core/common/parallel.hpp"

namespace insight::recommend {

Neighbors cosine_neighbors(const Csr& m, const Csr& mt, const NeighborOptions& o,
                           const InterruptCheck& check) {
  const uint32_t n = m.rows;
  struct Row {
    std::vector<uint32_t> idx;
    std::vector<float> sim;
  };
  std::vector<Row> rows(n);
  constexpr uint32_t kBlock = 64;
  const size_t blocks = (size_t{n} + kBlock - 1) / kBlock;
  parallel_for(
      blocks, o.threads,
      [&](size_t b, const InterruptCheck& poll_worker) {
        poll(poll_worker);
        std::vector<uint32_t> count(n, 0);
        std::vector<uint32_t> touched;
        std::vector<std::pair<float, uint32_t>> cand;
        const uint32_t first = static_cast<uint32_t>(b * kBlock);
        const uint32_t last = std::min<uint32_t>(n, first + kBlock);
        for (uint32_t a = first; a < last; ++a) {
          touched.clear();
          for (uint32_t k = m.indptr[a]; k < m.indptr[a + 1]; ++k) {
            const uint32_t ctx = m.indices[k];
            for (uint32_t j = mt.indptr[ctx]; j < mt.indptr[ctx + 1]; ++j) {
              const uint32_t other = mt.indices[j];
              if (count[other]++ == 0) touched.push_back(other);
            }
          }
          cand.clear();
          const double na = m.row_size(a);
          for (uint32_t other : touched) {
            if (other != a) {
              const double sim = count[other] / (std::sqrt(na * m.row_size(other)) + o.shrinkage);
              cand.emplace_back(static_cast<float>(sim), other);
            }
            count[other] = 0;
          }
          auto better = [](const std::pair<float, uint32_t>& x,
                           const std::pair<float, uint32_t>& y) {
            return x.first > y.first || (x.first == y.first && x.second < y.second);
          };
          const size_t keep = std::min<size_t>(o.keep, cand.size());
          std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep),
                            cand.end(), better);
          Row& row = rows[a];
          row.idx.reserve(keep);
          row.sim.reserve(keep);
          for (size_t k = 0; k < keep; ++k) {
            row.idx.push_back(cand[k].second);
            row.sim.push_back(cand[k].first);
          }
        }
      },
      check);
  Neighbors out;
  out.indptr.reserve(size_t{n} + 1);
  for (const Row& r : rows) {
    out.indices.insert(out.indices.end(), r.idx.begin(), r.idx.end());
    out.sims.insert(out.sims.end(), r.sim.begin(), r.sim.end());
    out.indptr.push_back(static_cast<uint32_t>(out.indices.size()));
  }
  return out;
}

}  // namespace insight::recommend
