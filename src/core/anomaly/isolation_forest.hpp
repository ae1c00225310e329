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

  // NaN when x holds NaN or infinity (callers check their input first).
  double score(const double* x) const noexcept;
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

  // Builds walk_ and leaf_path_ from nodes_ (after fit and after deserialize).
  void prepare();
  double path_length(size_t tree, const double* x) const noexcept;
  void validate() const;

  size_t n_features_ = 0;
  int sample_size_ = 0;
  double normaliser_ = 1.0;  // c(effective sample size)
  std::vector<int32_t> roots_;
  std::vector<Node> nodes_;
  // For scoring: the same trees with every leaf turned into a self-loop (feature 0, threshold
  // +inf, left = itself), so a walk is exactly max_depth_ branch-free steps and several trees
  // can be walked at once — their memory loads overlap instead of waiting on each other.
  std::vector<Node> walk_;
  std::vector<double> leaf_path_;  // path length of leaf i, by node index
  int max_depth_ = 0;
};

}  // namespace insight::anomaly
