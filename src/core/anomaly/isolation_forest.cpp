#include "core/anomaly/isolation_forest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace insight::anomaly {
namespace {
constexpr int kMaxTrees = 10000;
constexpr int kMaxSampleSize = 1 << 20;
constexpr double kEulerGamma = 0.5772156649015329;
}  // namespace

double average_path_length(double n) noexcept {
  if (n <= 1.0) return 0.0;
  if (n <= 2.0) return 1.0;
  return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

IsolationForest IsolationForest::fit(const double* rows, size_t n_rows, size_t n_features,
                                     const ForestParams& params, const InterruptCheck& check) {
  if (params.n_trees < 1 || params.n_trees > kMaxTrees)
    throw InvalidParameter("n_trees must be between 1 and " + std::to_string(kMaxTrees),
                           "got " + std::to_string(params.n_trees));
  if (params.sample_size < 2 || params.sample_size > kMaxSampleSize)
    throw InvalidParameter("sample_size must be between 2 and " + std::to_string(kMaxSampleSize),
                           "got " + std::to_string(params.sample_size));
  if (n_rows < 2)
    throw InvalidParameter("too few rows to train an isolation forest",
                           std::to_string(n_rows) + " usable rows found, at least 2 are needed");
  if (n_features < 1) throw InvalidParameter("features must not be empty");

  IsolationForest forest;
  forest.n_features_ = n_features;
  forest.sample_size_ = params.sample_size;
  const size_t psi = std::min<size_t>(static_cast<size_t>(params.sample_size), n_rows);
  forest.normaliser_ = average_path_length(static_cast<double>(psi));
  const int max_depth = static_cast<int>(std::ceil(std::log2(static_cast<double>(psi))));
  forest.roots_.reserve(static_cast<size_t>(params.n_trees));
  forest.nodes_.reserve(static_cast<size_t>(params.n_trees) * (2 * psi - 1));

  Rng rng(params.seed);
  std::vector<size_t> all(n_rows);
  std::vector<size_t> sample(psi);
  std::vector<size_t> features(n_features);
  struct Task {
    size_t begin, end;
    int depth;
    int32_t node;
  };
  std::vector<Task> stack;

  for (int t = 0; t < params.n_trees; ++t) {
    if ((t & 15) == 0) poll(check);
    // psi rows without replacement: a partial Fisher-Yates over all row indices.
    for (size_t i = 0; i < n_rows; ++i) all[i] = i;
    for (size_t i = 0; i < psi; ++i) {
      const size_t j = i + static_cast<size_t>(rng.below(n_rows - i));
      std::swap(all[i], all[j]);
      sample[i] = all[i];
    }
    const auto root = static_cast<int32_t>(forest.nodes_.size());
    forest.roots_.push_back(root);
    forest.nodes_.push_back(Node{0.0, -1, 0});
    stack.push_back(Task{0, psi, 0, root});
    while (!stack.empty()) {
      const Task task = stack.back();
      stack.pop_back();
      const size_t count = task.end - task.begin;
      auto make_leaf = [&] {
        forest.nodes_[static_cast<size_t>(task.node)] =
            Node{task.depth + average_path_length(static_cast<double>(count)), -1, 0};
      };
      if (task.depth >= max_depth || count <= 1) {
        make_leaf();
        continue;
      }
      // A random feature that is not constant in this node (features tried in random order).
      for (size_t f = 0; f < n_features; ++f) features[f] = f;
      size_t remaining = n_features;
      int chosen = -1;
      double lo = 0, hi = 0;
      while (remaining > 0) {
        const size_t k = static_cast<size_t>(rng.below(remaining));
        const size_t f = features[k];
        features[k] = features[--remaining];
        lo = std::numeric_limits<double>::infinity();
        hi = -lo;
        for (size_t i = task.begin; i < task.end; ++i) {
          const double v = rows[sample[i] * n_features + f];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        if (hi > lo) {
          chosen = static_cast<int>(f);
          break;
        }
      }
      if (chosen < 0) {
        make_leaf();
        continue;
      }
      // Threshold in (lo, hi]: both sides non-empty (x < threshold goes left).
      // lo·(1−u) + hi·u cannot overflow even when hi − lo would (values near ±DBL_MAX).
      const double u = 1.0 - rng.uniform();
      double threshold = lo * (1.0 - u) + hi * u;
      if (!(threshold > lo)) threshold = std::nextafter(lo, hi);
      if (threshold > hi) threshold = hi;
      const auto fidx = static_cast<size_t>(chosen);
      const auto mid =
          std::partition(sample.begin() + static_cast<ptrdiff_t>(task.begin),
                         sample.begin() + static_cast<ptrdiff_t>(task.end),
                         [&](size_t r) { return rows[r * n_features + fidx] < threshold; });
      const auto split = static_cast<size_t>(mid - sample.begin());
      const auto left = static_cast<int32_t>(forest.nodes_.size());
      forest.nodes_.push_back(Node{0.0, -1, 0});
      forest.nodes_.push_back(Node{0.0, -1, 0});
      forest.nodes_[static_cast<size_t>(task.node)] = Node{threshold, chosen, left};
      stack.push_back(Task{task.begin, split, task.depth + 1, left});
      stack.push_back(Task{split, task.end, task.depth + 1, left + 1});
    }
  }
  forest.prepare();
  return forest;
}

void IsolationForest::prepare() {
  max_depth_ = 0;
  // Depth of the deepest leaf: the number of steps every walk takes. Children come after
  // their parent and have exactly one (validate()), so one pass in index order is enough.
  std::vector<int> depth(nodes_.size(), 0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.feature < 0) {
      max_depth_ = std::max(max_depth_, depth[i]);
    } else {
      depth[static_cast<size_t>(n.left)] = depth[i] + 1;
      depth[static_cast<size_t>(n.left) + 1] = depth[i] + 1;
    }
  }
  prepare_ranked();
  // The self-looping copy only where scoring walks the nodes: the ranked form replaces it
  // (Walk::Nodes then walks nodes_ tree by tree), and a model loads faster without it.
  walk_.clear();
  leaf_path_.clear();
  if (!ranked_.empty()) return;
  walk_ = nodes_;
  leaf_path_.assign(nodes_.size(), 0.0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].feature < 0) {
      leaf_path_[i] = nodes_[i].value;
      walk_[i] = Node{std::numeric_limits<double>::infinity(), 0, static_cast<int32_t>(i)};
    }
  }
}

double IsolationForest::path_length(size_t tree, const double* x) const noexcept {
  const Node* nodes = nodes_.data();
  int32_t i = roots_[tree];
  while (nodes[i].feature >= 0) {
    const Node& n = nodes[i];
    i = n.left + (x[n.feature] < n.value ? 0 : 1);
  }
  return nodes[i].value;
}

namespace {
// What the CPU can do, asked once.
struct CpuFeatures {
  bool avx2 = false, avx512 = false;
};
const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    f.avx2 = __builtin_cpu_supports("avx2");
    f.avx512 = __builtin_cpu_supports("avx512f");
#endif
    return f;
  }();
  return features;
}
}  // namespace

bool IsolationForest::cpu_has_avx2() { return cpu_features().avx2; }
bool IsolationForest::cpu_has_avx512() { return cpu_features().avx512; }

namespace {
// Path lengths are added in one order by every walk, so that all give the same score bit
// for bit: tree t into accumulator t mod 8 (in tree order), then the eight pairwise — eight
// short chains of dependent additions instead of one of a hundred.
constexpr size_t kAccumulators = 8;
double reduce_accumulators(const double* a) noexcept {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// n int32 values: on the stack up to N, on the heap beyond (a row's ranks).
template <size_t N>
struct Int32Buffer {
  explicit Int32Buffer(size_t n) {
    if (n > N) large.resize(n);
  }
  int32_t* data() { return large.empty() ? small : large.data(); }
  int32_t small[N];
  std::vector<int32_t> large;
};

// The ranked walks' registers, one lane a tree: for the `width` trees from `first`, where
// each starts in ranked_ (node) and where its leaves' path lengths start in ranked_leaf_, less
// the last level's first position (leaf), and whether it exists (keep: -1, else 0; lanes
// past the last tree walk the last tree again and add nothing).
struct Lanes {
  int32_t node[16], leaf[16], keep[16];
};
void lanes_of(size_t first, size_t width, size_t trees, int32_t inner, Lanes& l) {
  for (size_t k = 0; k < width; ++k) {
    const auto t = static_cast<int32_t>(std::min(first + k, trees - 1));
    l.node[k] = t * inner;
    l.leaf[k] = t * (inner + 1) - inner;
    l.keep[k] = first + k < trees ? -1 : 0;
  }
}
}  // namespace

double IsolationForest::score(const double* x, Walk walk) const noexcept {
  // The branch-free walks rely on finite values (x[0] < +inf at every leaf of walk_, ranks
  // of ordered values): refuse anything not finite.
  for (size_t j = 0; j < n_features_; ++j)
    if (!std::isfinite(x[j])) return std::numeric_limits<double>::quiet_NaN();
  if (walk == Walk::Nodes || ranked_.empty()) return walk_nodes(x);
  Int32Buffer<64> buffer(n_features_);
  int32_t* ranks = buffer.data();
  ranks_of(x, ranks);
  const double total = walk == Walk::RankedAvx2 || !cpu_has_avx512() ? walk_ranked_avx2(ranks)
                                                                     : walk_ranked_avx512(ranks);
  return to_score(total);
}

double IsolationForest::to_score(double total_path_length) const noexcept {
  return std::exp2(-(total_path_length / static_cast<double>(roots_.size())) / normaliser_);
}

void IsolationForest::prepare_ranked() {
  cuts_.clear();
  ranked_.clear();
  ranked_leaf_.clear();
  ranked_top_.clear();
  if (max_depth_ > kRankedDepth || !cpu_has_avx2()) return;
  cuts_.assign(n_features_, {});
  for (const Node& n : nodes_)
    if (n.feature >= 0) cuts_[static_cast<size_t>(n.feature)].push_back(n.value);
  for (auto& c : cuts_) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    if (c.size() >= kPassThrough) {  // ranks would reach the pass-through mark
      cuts_.clear();
      return;
    }
  }
  const size_t inner = (size_t{1} << max_depth_) - 1, leaves = inner + 1;
  // Trees much shallower than the deepest would be mostly pass-through: the ranked form may
  // take at most four times the nodes' own memory (a payload cannot make it balloon).
  const size_t bytes = roots_.size() * (inner * sizeof(uint32_t) + leaves * sizeof(double));
  if (bytes > std::max<size_t>(4 * nodes_.size() * sizeof(Node), 1u << 20)) {
    cuts_.clear();
    return;
  }
  ranked_.assign(roots_.size() * inner, kPassThrough);
  ranked_leaf_.assign(roots_.size() * leaves, 0.0);
  struct Task {
    int32_t node;
    size_t at;  // implicit position
    int depth;
  };
  std::vector<Task> stack;
  for (size_t t = 0; t < roots_.size(); ++t) {
    uint32_t* tree = &ranked_[t * inner];
    double* leaf = &ranked_leaf_[t * leaves];
    stack.push_back({roots_[t], 0, 0});
    while (!stack.empty()) {
      const Task task = stack.back();
      stack.pop_back();
      const Node& n = nodes_[static_cast<size_t>(task.node)];
      if (n.feature < 0) {
        // Pass-through nodes down the left to the last level (their right sides are never
        // reached and stay pass-through).
        size_t at = task.at;
        for (int d = task.depth; d < max_depth_; ++d) at = 2 * at + 1;
        leaf[at - inner] = n.value;
        continue;
      }
      const auto& c = cuts_[static_cast<size_t>(n.feature)];
      const auto rank =
          static_cast<uint32_t>(std::lower_bound(c.begin(), c.end(), n.value) - c.begin());
      tree[task.at] = static_cast<uint32_t>(n.feature) << 16 | rank;
      stack.push_back({n.left, 2 * task.at + 1, task.depth + 1});
      stack.push_back({n.left + 1, 2 * task.at + 2, task.depth + 1});
    }
  }
  // The top levels again, sixteen trees side by side (the last group repeats its last tree).
  if (max_depth_ < kTopLevels) return;
  const size_t groups = (roots_.size() + kTopWidth - 1) / kTopWidth;
  ranked_top_.resize(groups * kTopNodes * kTopWidth);
  for (size_t g = 0; g < groups; ++g)
    for (size_t k = 0; k < kTopNodes; ++k)
      for (size_t lane = 0; lane < kTopWidth; ++lane) {
        const size_t t = std::min(g * kTopWidth + lane, roots_.size() - 1);
        ranked_top_[(g * kTopNodes + k) * kTopWidth + lane] = ranked_[t * inner + k];
      }
}

// The number of the feature's thresholds ≤ x: branch-free binary searches, up to 16 features
// stepping together so that their loads overlap (how many steps each takes depends on its
// thresholds' count alone, so the loop's branches are the same for every row).
void IsolationForest::ranks_of(const double* x, int32_t* ranks) const noexcept {
  constexpr size_t kGroup = 16;
  for (size_t first = 0; first < n_features_; first += kGroup) {
    const size_t count = std::min(kGroup, n_features_ - first);
    const double* b[kGroup];
    size_t n[kGroup];
    for (size_t k = 0; k < count; ++k) {
      b[k] = cuts_[first + k].data();
      n[k] = cuts_[first + k].size();
    }
    for (bool more = true; more;) {
      more = false;
      for (size_t k = 0; k < count; ++k) {
        if (n[k] <= 1) continue;
        const size_t half = n[k] / 2;
        b[k] = b[k][half] <= x[first + k] ? b[k] + half : b[k];
        n[k] -= half;
        more = true;
      }
    }
    for (size_t k = 0; k < count; ++k) {
      const std::vector<double>& c = cuts_[first + k];
      ranks[first + k] =
          c.empty() ? 0 : static_cast<int32_t>(b[k] - c.data()) + (*b[k] <= x[first + k] ? 1 : 0);
    }
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
namespace {
// The levels the walks take from ranked_top_ (IsolationForest::kTopLevels) and a group of
// sixteen trees' share of it.
constexpr int kTopLevelsWalked = 4;
constexpr size_t kTopInts = ((1 << kTopLevelsWalked) - 1) * 16;

// One step of eight trees: gather each lane's node, pick its feature's rank from the row's
// ranks (held in two registers for up to 16 features, gathered beyond), step left or right.
struct RankedStep {
  const int* nodes;
  const int32_t* ranks;
  bool in_registers;
  __m256i lo, hi;
};

// Whether each lane's row goes right at node n: -1 there, 0 elsewhere.
__attribute__((target("avx2"))) inline __m256i ranked_right(const RankedStep& s, __m256i n) {
  const __m256i feature = _mm256_srli_epi32(n, 16);
  __m256i rank;
  if (s.in_registers) {
    const __m256i a = _mm256_permutevar8x32_epi32(s.lo, feature);
    const __m256i b = _mm256_permutevar8x32_epi32(s.hi, feature);
    rank = _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi32(feature, _mm256_set1_epi32(7)));
  } else {
    rank = _mm256_i32gather_epi32(s.ranks, feature, 4);
  }
  return _mm256_cmpgt_epi32(rank, _mm256_and_si256(n, _mm256_set1_epi32(0xFFFF)));
}

__attribute__((target("avx2"))) inline __m256i ranked_step(const RankedStep& s, __m256i base,
                                                           __m256i at) {
  const __m256i n = _mm256_i32gather_epi32(s.nodes, _mm256_add_epi32(base, at), 4);
  // 2 at + 1, + 1 more to the right (right is -1 there, 0 elsewhere).
  return _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(at, at), _mm256_set1_epi32(1)),
                          ranked_right(s, n));
}

// As top_levels_avx512 below, for eight trees: `top` points at their half of a group's nodes.
__attribute__((target("avx2"))) inline __m256i top_levels_avx2(const RankedStep& s,
                                                               const int* top) {
  auto node = [top](int k) __attribute__((target("avx2"))) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(top + 16 * k));
  };
  const __m256i b0 = ranked_right(s, node(0));
  const __m256i b1 = ranked_right(s, _mm256_blendv_epi8(node(1), node(2), b0));
  const __m256i b2 =
      ranked_right(s, _mm256_blendv_epi8(_mm256_blendv_epi8(node(3), node(4), b1),
                                         _mm256_blendv_epi8(node(5), node(6), b1), b0));
  __m256i l3[4];  // level 3's candidate under each (b0, b1)
  for (int i = 0; i < 4; ++i) l3[i] = _mm256_blendv_epi8(node(7 + 2 * i), node(8 + 2 * i), b2);
  const __m256i b3 = ranked_right(s, _mm256_blendv_epi8(_mm256_blendv_epi8(l3[0], l3[1], b1),
                                                        _mm256_blendv_epi8(l3[2], l3[3], b1), b0));
  // 15 + 8 b0 + 4 b1 + 2 b2 + b3 (each -1 or 0)
  __m256i at = _mm256_set1_epi32(15);
  at = _mm256_add_epi32(at, _mm256_and_si256(b0, _mm256_set1_epi32(8)));
  at = _mm256_add_epi32(at, _mm256_and_si256(b1, _mm256_set1_epi32(4)));
  at = _mm256_add_epi32(at, _mm256_and_si256(b2, _mm256_set1_epi32(2)));
  return _mm256_sub_epi32(at, b3);
}
}  // namespace

// Eight trees a step in each AVX2 register; at the last level each register's eight path
// lengths are gathered into the accumulators (trees 8v ... 8v + 3 into 0-3, the rest 4-7).
__attribute__((target("avx2"))) double IsolationForest::walk_ranked_avx2(
    const int32_t* ranks) const noexcept {
  const size_t trees = roots_.size();
  const auto inner = static_cast<int32_t>((size_t{1} << max_depth_) - 1);
  int32_t padded[16] = {};
  RankedStep s{reinterpret_cast<const int*>(ranked_.data()), ranks, n_features_ <= 16, {}, {}};
  if (s.in_registers) std::copy(ranks, ranks + n_features_, padded);
  s.lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(padded));
  s.hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(padded + 8));
  const int* top = ranked_top_.empty() ? nullptr : reinterpret_cast<const int*>(ranked_top_.data());
  // Up to kBlock registers of eight trees step together: their gathers are independent, so
  // they overlap instead of each waiting on the last.
  constexpr size_t kBlock = 16, kWidth = 8;
  __m256d acc_lo = _mm256_setzero_pd(), acc_hi = _mm256_setzero_pd();
  Lanes lanes;
  for (size_t t = 0; t < trees; t += kBlock * kWidth) {
    const size_t vectors = std::min(kBlock, (trees - t + kWidth - 1) / kWidth);
    __m256i base[kBlock], at[kBlock];
    for (size_t v = 0; v < vectors; ++v) {
      lanes_of(t + kWidth * v, kWidth, trees, inner, lanes);
      base[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes.node));
      // Trees t + 8v ...: half (t + 8v) / 8 mod 2 of group (t + 8v) / 16.
      const size_t first = t + kWidth * v;
      at[v] = top == nullptr
                  ? _mm256_setzero_si256()
                  : top_levels_avx2(s, top + first / 16 * kTopInts + (first / kWidth % 2) * kWidth);
    }
    for (int d = top == nullptr ? 0 : kTopLevelsWalked; d < max_depth_; ++d)
      for (size_t v = 0; v < vectors; ++v) at[v] = ranked_step(s, base[v], at[v]);
    for (size_t v = 0; v < vectors; ++v) {
      lanes_of(t + kWidth * v, kWidth, trees, inner, lanes);
      const __m256i leaf =
          _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes.leaf)), at[v]);
      const __m256i keep = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes.keep));
      const __m128i leaf_lo = _mm256_castsi256_si128(leaf);
      const __m128i leaf_hi = _mm256_extracti128_si256(leaf, 1);
      const __m256d keep_lo =
          _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(keep)));
      const __m256d keep_hi =
          _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(keep, 1)));
      acc_lo = _mm256_add_pd(
          acc_lo,
          _mm256_mask_i32gather_pd(_mm256_setzero_pd(), ranked_leaf_.data(), leaf_lo, keep_lo, 8));
      acc_hi = _mm256_add_pd(
          acc_hi,
          _mm256_mask_i32gather_pd(_mm256_setzero_pd(), ranked_leaf_.data(), leaf_hi, keep_hi, 8));
    }
  }
  double a[kAccumulators];
  _mm256_storeu_pd(a, acc_lo);
  _mm256_storeu_pd(a + 4, acc_hi);
  return reduce_accumulators(a);
}
// Sixteen trees a register with AVX-512: the row's ranks of up to 16 features sit in one
// register (gathered beyond), the step to the right child is a masked add. (GCC 12's own
// AVX-512 headers trip -Wmaybe-uninitialized on their undefined-value placeholders.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace {

template <bool InRegister>
__attribute__((target("avx512f"))) inline __m512i rank_avx512(__m512i feature, __m512i row,
                                                              const int32_t* ranks) {
  if constexpr (InRegister) return _mm512_permutexvar_epi32(feature, row);
  return _mm512_i32gather_epi32(feature, ranks, 4);
}
// Whether each lane's row goes right at node n (the row's rank of n's feature above n's).
template <bool InRegister>
__attribute__((target("avx512f"))) inline __mmask16 right_avx512(__m512i n, __m512i row,
                                                                 const int32_t* ranks) {
  return _mm512_cmpgt_epi32_mask(rank_avx512<InRegister>(_mm512_srli_epi32(n, 16), row, ranks),
                                 _mm512_and_si512(n, _mm512_set1_epi32(0xFFFF)));
}

// The first kTopLevels levels of sixteen trees from `top` (their nodes, each sixteen trees
// side by side): plain loads and blends instead of dependent gathers. A lane's node on level
// d is one of 2^d, numbered by its turns so far (right = 1, the first turn the highest bit):
// blending the candidates pairwise by the last turn, then by the turn before, picks it.
// Returns each lane's implicit position on the next level.
template <bool InRegister>
__attribute__((target("avx512f"))) inline __m512i top_levels_avx512(const int* top, __m512i row,
                                                                    const int32_t* ranks) {
  auto node = [top](int k) __attribute__((target("avx512f"))) {
    return _mm512_loadu_si512(top + 16 * k);
  };
  const __mmask16 b0 = right_avx512<InRegister>(node(0), row, ranks);
  const __mmask16 b1 =
      right_avx512<InRegister>(_mm512_mask_blend_epi32(b0, node(1), node(2)), row, ranks);
  const __mmask16 b2 = right_avx512<InRegister>(
      _mm512_mask_blend_epi32(b0, _mm512_mask_blend_epi32(b1, node(3), node(4)),
                              _mm512_mask_blend_epi32(b1, node(5), node(6))),
      row, ranks);
  __m512i l3[4];  // level 3's candidate under each (b0, b1)
  for (int i = 0; i < 4; ++i) l3[i] = _mm512_mask_blend_epi32(b2, node(7 + 2 * i), node(8 + 2 * i));
  const __mmask16 b3 = right_avx512<InRegister>(
      _mm512_mask_blend_epi32(b0, _mm512_mask_blend_epi32(b1, l3[0], l3[1]),
                              _mm512_mask_blend_epi32(b1, l3[2], l3[3])),
      row, ranks);
  // 15 + 8 b0 + 4 b1 + 2 b2 + b3
  __m512i at = _mm512_set1_epi32(15);
  at = _mm512_mask_add_epi32(at, b0, at, _mm512_set1_epi32(8));
  at = _mm512_mask_add_epi32(at, b1, at, _mm512_set1_epi32(4));
  at = _mm512_mask_add_epi32(at, b2, at, _mm512_set1_epi32(2));
  return _mm512_mask_add_epi32(at, b3, at, _mm512_set1_epi32(1));
}

// The sum of every tree's path length, in the accumulators' order: each register's sixteen
// leaves are gathered eight at a time (trees 16v ... 16v + 7, then the next eight).
template <bool InRegister>
__attribute__((target("avx512f"))) double ranked_walk_avx512(const int* nodes, const int* top,
                                                             const double* leaves,
                                                             const int32_t* ranks, __m512i row,
                                                             size_t trees, int32_t inner,
                                                             int depth) {
  const __m512i one = _mm512_set1_epi32(1);
  constexpr size_t kBlock = 8, kWidth = 16;  // registers stepping together, gathers overlapping
  __m512d acc = _mm512_setzero_pd();
  Lanes lanes;
  for (size_t t = 0; t < trees; t += kBlock * kWidth) {
    const size_t vectors = std::min(kBlock, (trees - t + kWidth - 1) / kWidth);
    __m512i base[kBlock], at[kBlock];
    for (size_t v = 0; v < vectors; ++v) {
      lanes_of(t + kWidth * v, kWidth, trees, inner, lanes);
      base[v] = _mm512_loadu_si512(lanes.node);
      at[v] = top == nullptr
                  ? _mm512_setzero_si512()
                  : top_levels_avx512<InRegister>(top + (t / kWidth + v) * kTopInts, row, ranks);
    }
    for (int d = top == nullptr ? 0 : kTopLevelsWalked; d < depth; ++d) {
      for (size_t v = 0; v < vectors; ++v) {
        const __m512i n = _mm512_i32gather_epi32(_mm512_add_epi32(base[v], at[v]), nodes, 4);
        const __mmask16 right = right_avx512<InRegister>(n, row, ranks);
        const __m512i left = _mm512_add_epi32(_mm512_add_epi32(at[v], at[v]), one);
        at[v] = _mm512_mask_add_epi32(left, right, left, one);
      }
    }
    for (size_t v = 0; v < vectors; ++v) {
      lanes_of(t + kWidth * v, kWidth, trees, inner, lanes);
      const __m512i leaf = _mm512_add_epi32(_mm512_loadu_si512(lanes.leaf), at[v]);
      const __mmask16 keep =
          _mm512_cmpneq_epi32_mask(_mm512_loadu_si512(lanes.keep), _mm512_setzero_si512());
      const auto keep_lo = static_cast<__mmask8>(keep), keep_hi = static_cast<__mmask8>(keep >> 8);
      const __m512d lo = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), keep_lo,
                                                  _mm512_castsi512_si256(leaf), leaves, 8);
      acc = _mm512_mask_add_pd(acc, keep_lo, acc, lo);
      const __m512d hi = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), keep_hi,
                                                  _mm512_extracti64x4_epi64(leaf, 1), leaves, 8);
      acc = _mm512_mask_add_pd(acc, keep_hi, acc, hi);
    }
  }
  double a[kAccumulators];
  _mm512_storeu_pd(a, acc);
  return reduce_accumulators(a);
}
}  // namespace

__attribute__((target("avx512f"))) double IsolationForest::walk_ranked_avx512(
    const int32_t* ranks) const noexcept {
  static_assert(kTopLevels == kTopLevelsWalked && kTopWidth == 16, "ranked_top_'s layout");
  const size_t trees = roots_.size();
  const auto inner = static_cast<int32_t>((size_t{1} << max_depth_) - 1);
  const int* nodes = reinterpret_cast<const int*>(ranked_.data());
  const int* top = ranked_top_.empty() ? nullptr : reinterpret_cast<const int*>(ranked_top_.data());
  if (n_features_ <= 16) {
    int32_t padded[16] = {};
    std::copy(ranks, ranks + n_features_, padded);
    return ranked_walk_avx512<true>(nodes, top, ranked_leaf_.data(), ranks,
                                    _mm512_loadu_si512(padded), trees, inner, max_depth_);
  }
  return ranked_walk_avx512<false>(nodes, top, ranked_leaf_.data(), ranks, _mm512_setzero_si512(),
                                   trees, inner, max_depth_);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#else
// Never called: ranked_ is built only on CPUs with AVX2.
double IsolationForest::walk_ranked_avx2(const int32_t*) const noexcept { return 0; }
double IsolationForest::walk_ranked_avx512(const int32_t*) const noexcept { return 0; }
#endif

double IsolationForest::walk_nodes(const double* x) const noexcept {
  constexpr size_t kLanes = 16;  // trees walked at once
  static_assert(kLanes % kAccumulators == 0, "tree t + k goes to accumulator k mod 8");
  const Node* walk = walk_.data();
  const size_t trees = roots_.size();
  double acc[kAccumulators] = {};
  size_t t = 0;
  for (; !walk_.empty() && t + kLanes <= trees; t += kLanes) {
    int32_t at[kLanes];
    for (size_t k = 0; k < kLanes; ++k) at[k] = roots_[t + k];
    for (int step = 0; step < max_depth_; ++step) {
      for (size_t k = 0; k < kLanes; ++k) {
        const Node& n = walk[at[k]];
        at[k] = n.left + (x[n.feature] < n.value ? 0 : 1);
      }
    }
    for (size_t k = 0; k < kLanes; ++k)
      acc[k % kAccumulators] += leaf_path_[static_cast<size_t>(at[k])];
  }
  for (; t < trees; ++t) acc[t % kAccumulators] += path_length(t, x);
  return to_score(reduce_accumulators(acc));
}

double IsolationForest::score_explained(const double* x, double* contributions) const noexcept {
  std::fill(contributions, contributions + n_features_, 0.0);
  const Node* nodes = nodes_.data();
  double acc[kAccumulators] = {};
  for (size_t t = 0; t < roots_.size(); ++t) {
    const double h = path_length(t, x);
    acc[t % kAccumulators] += h;
    const double credit = 1.0 / std::max(h, 1.0);
    int32_t i = roots_[t];
    while (nodes[i].feature >= 0) {
      const Node& n = nodes[i];
      contributions[n.feature] += credit;
      i = n.left + (x[n.feature] < n.value ? 0 : 1);
    }
  }
  double sum = 0.0;
  for (size_t f = 0; f < n_features_; ++f) sum += contributions[f];
  if (sum > 0)
    for (size_t f = 0; f < n_features_; ++f) contributions[f] /= sum;
  return to_score(reduce_accumulators(acc));
}

void IsolationForest::serialize(BinaryWriter& w) const {
  w.u64(n_features_);
  w.u32(static_cast<uint32_t>(sample_size_));
  w.f64(normaliser_);
  w.u64(roots_.size());
  for (int32_t r : roots_) w.u32(static_cast<uint32_t>(r));
  w.u64(nodes_.size());
  for (const Node& n : nodes_) {
    w.f64(n.value);
    w.u32(static_cast<uint32_t>(n.feature));
    w.u32(static_cast<uint32_t>(n.left));
  }
}

IsolationForest IsolationForest::deserialize(BinaryReader& r) {
  IsolationForest f;
  f.n_features_ = static_cast<size_t>(r.u64());
  f.sample_size_ = static_cast<int>(r.u32());
  f.normaliser_ = r.finite_f64();
  const uint64_t trees = r.count(kMaxTrees, 4);
  f.roots_.resize(static_cast<size_t>(trees));
  for (auto& root : f.roots_) root = static_cast<int32_t>(r.u32());
  const uint64_t nodes = r.count(std::numeric_limits<int32_t>::max(), 16);
  f.nodes_.resize(static_cast<size_t>(nodes));
  for (auto& n : f.nodes_) {
    n.value = r.finite_f64();
    n.feature = static_cast<int32_t>(r.u32());
    n.left = static_cast<int32_t>(r.u32());
  }
  f.validate();
  f.prepare();
  return f;
}

// Every index in range, every child after its parent (so no cycles), leaves with a sane path
// length: a corrupt model can never make scoring read out of bounds or loop forever.
void IsolationForest::validate() const {
  auto corrupt = [](const std::string& what) {
    throw CorruptPayload("isolation forest model is corrupt: " + what);
  };
  if (n_features_ < 1 || n_features_ > 10000) corrupt("feature count out of range");
  if (sample_size_ < 2 || sample_size_ > kMaxSampleSize) corrupt("sample size out of range");
  if (!(normaliser_ > 0)) corrupt("normaliser must be positive");
  if (roots_.empty()) corrupt("no trees");
  const auto n = static_cast<int64_t>(nodes_.size());
  // Every node has at most one parent and roots have none: the trees are trees, so walking
  // and measuring them is linear (shared children would make depth exponential).
  std::vector<uint8_t> parents(nodes_.size(), 0);
  for (int32_t root : roots_) {
    if (root < 0 || root >= n) corrupt("tree root out of range");
    if (parents[static_cast<size_t>(root)]++ != 0) corrupt("a node is reached twice");
  }
  for (int64_t i = 0; i < n; ++i) {
    const Node& node = nodes_[static_cast<size_t>(i)];
    if (node.feature >= 0) {
      if (static_cast<size_t>(node.feature) >= n_features_) corrupt("split feature out of range");
      if (node.left <= i || static_cast<int64_t>(node.left) + 1 >= n) corrupt("child out of range");
      for (int64_t c = node.left; c <= node.left + 1; ++c)
        if (parents[static_cast<size_t>(c)]++ != 0) corrupt("a node is reached twice");
    } else if (node.feature != -1 || !(node.value >= 0) || node.value > 1e6) {
      corrupt("bad leaf");
    }
  }
}

size_t IsolationForest::memory_bytes() const {
  size_t cuts = cuts_.capacity() * sizeof(std::vector<double>);
  for (const auto& c : cuts_) cuts += c.capacity() * sizeof(double);
  return sizeof(*this) + roots_.capacity() * sizeof(int32_t) +
         (nodes_.capacity() + walk_.capacity()) * sizeof(Node) +
         leaf_path_.capacity() * sizeof(double) + cuts +
         (ranked_.capacity() + ranked_top_.capacity()) * sizeof(uint32_t) +
         ranked_leaf_.capacity() * sizeof(double);
}

}  // namespace insight::anomaly
