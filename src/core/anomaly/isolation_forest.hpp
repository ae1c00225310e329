// Isolation Forest (Liu, Ting & Zhou, ICDM 2008), as scikit-learn implements it: each tree is
// grown on `sample_size` rows drawn without replacement, splitting on a random feature at a
// uniform threshold between that feature's min and max in the node, to depth
// ceil(log2(sample_size)). The anomaly score of x is s(x) = 2^(-E[h(x)] / c(sample_size)),
// in (0, 1]; higher is more anomalous (scikit-learn's score_samples is -s).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/binary_io.hpp"
#include "core/common/interrupt.hpp"

namespace insight::anomaly {

// c(n): the average path length of an unsuccessful search in a binary search tree of n
// points, used to normalise path lengths and to complete paths ending in unsplit leaves.
double average_path_length(double n) noexcept;

struct ForestParams {
  int n_trees = 100;
  int sample_size = 256;
  uint64_t seed = 42;
};

class IsolationForest {
 public:
  // rows: n_rows × n_features, row-major. Throws InvalidParameter for n_trees < 1,
  // sample_size < 2, or fewer than 2 rows.
  static IsolationForest fit(const double* rows, size_t n_rows, size_t n_features,
                             const ForestParams& params, const InterruptCheck& check = {});

  size_t n_features() const { return n_features_; }
  int n_trees() const { return static_cast<int>(roots_.size()); }

  // How score() walks the trees: Ranked (below, ranked_) where the forest and the CPU allow
  // it — sixteen trees a register with AVX-512, eight with AVX2 (RankedAvx2 forces the
  // latter) — else Nodes. All give the same score, bit for bit (they add the trees' path
  // lengths in one order); choosing is for tests and benchmarks.
  enum class Walk { Auto, Nodes, Ranked, RankedAvx2 };
  // NaN when x holds NaN or infinity (callers check their input first).
  double score(const double* x) const noexcept { return score(x, Walk::Auto); }
  double score(const double* x, Walk walk) const noexcept;
  // Whether the ranked walk applies: a forest of depth ≤ kRankedDepth on a CPU with AVX2.
  bool ranked() const { return !ranked_.empty(); }
  static bool cpu_has_avx2();
  static bool cpu_has_avx512();
  // Score, and each feature's share of the isolation of x (sums to 1): every split on x's
  // path in a tree credits its feature with 1 / (that tree's path length), so features that
  // isolate x in few steps dominate.
  double score_explained(const double* x, double* contributions) const noexcept;

  void serialize(BinaryWriter& w) const;
  static IsolationForest deserialize(BinaryReader& r);
  size_t memory_bytes() const;

 private:
  // As trained and serialized — a split (feature >= 0): go to `left` when x[feature] < value,
  // else `left + 1`; a leaf (feature < 0): value is the path length, depth + c(rows in it).
  struct Node {
    double value;
    int32_t feature;
    int32_t left;
  };
  static_assert(sizeof(Node) == 16, "Node must stay compact");

  // Builds the ranked form, or else walk_ and leaf_path_, from nodes_ (after fit and after
  // deserialize).
  void prepare();
  void prepare_ranked();
  double path_length(size_t tree, const double* x) const noexcept;
  // The score of a sum of the trees' path lengths.
  double to_score(double total_path_length) const noexcept;
  double walk_nodes(const double* x) const noexcept;
  // The ranked walk: x's ranks among each feature's thresholds, then every tree's leaf.
  void ranks_of(const double* x, int32_t* ranks) const noexcept;
  double walk_ranked_avx2(const int32_t* ranks) const noexcept;
  double walk_ranked_avx512(const int32_t* ranks) const noexcept;
  void validate() const;

  size_t n_features_ = 0;
  int sample_size_ = 0;
  double normaliser_ = 1.0;  // c(effective sample size)
  std::vector<int32_t> roots_;
  std::vector<Node> nodes_;
  // For scoring: the same trees with every leaf turned into a self-loop (feature 0, threshold
  // +inf, left = itself), so a walk is exactly max_depth_ branch-free steps and several trees
  // can be walked at once — their memory loads overlap instead of waiting on each other.
  // Built only for forests without the ranked form (below).
  std::vector<Node> walk_;
  std::vector<double> leaf_path_;  // path length of leaf i, by node index
  int max_depth_ = 0;
  // The ranked form, for forests of depth at most kRankedDepth (sample_size ≤ 1024): x < t
  // holds exactly when fewer of the feature's thresholds than t's rank are ≤ x, so a row is
  // first turned into its features' ranks (a binary search each) and the trees compare small
  // integers. Each tree is complete to max_depth_ in implicit order (the children of node i
  // are 2i + 1 and 2i + 2), a node one 32-bit word: feature << 16 | its threshold's rank, or
  // kPassThrough (always left) below a leaf that ends early, whose path length sits at the
  // leftmost position of the last level. 100 trees of depth 8 take 300 KB instead of
  // walk_'s 800 KB, and sixteen trees step at once in one AVX-512 register, or eight in an
  // AVX2 one (built only on CPUs that have AVX2: without it, stepping one tree at a time, this
  // form is no faster).
  static constexpr int kRankedDepth = 10;
  static constexpr uint32_t kPassThrough = 0xFFFF;
  std::vector<std::vector<double>> cuts_;  // per feature: its thresholds, sorted, distinct
  std::vector<uint32_t> ranked_;           // per tree: 2^max_depth_ - 1 nodes
  std::vector<double> ranked_leaf_;        // per tree: 2^max_depth_ path lengths
  // The first kTopLevels levels of ranked_ (kTopNodes nodes) again, kTopWidth trees side by
  // side: the ranked walks read them with plain loads and blends instead of gathers (when
  // max_depth_ ≥ kTopLevels).
  static constexpr int kTopLevels = 4;
  static constexpr size_t kTopNodes = (size_t{1} << kTopLevels) - 1, kTopWidth = 16;
  std::vector<uint32_t> ranked_top_;  // per group of kTopWidth trees: kTopNodes × kTopWidth
};

}  // namespace insight::anomaly
