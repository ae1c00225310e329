#include "core/anomaly/isolation_forest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

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
  walk_ = nodes_;
  leaf_path_.assign(nodes_.size(), 0.0);
  max_depth_ = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].feature < 0) {
      leaf_path_[i] = nodes_[i].value;
      walk_[i] = Node{std::numeric_limits<double>::infinity(), 0, static_cast<int32_t>(i)};
    }
  }
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

double IsolationForest::score(const double* x) const noexcept {
  // The branch-free walk relies on x[0] < +inf at every leaf: refuse anything not finite.
  for (size_t j = 0; j < n_features_; ++j)
    if (!std::isfinite(x[j])) return std::numeric_limits<double>::quiet_NaN();
  constexpr size_t kLanes = 16;  // trees walked at once
  const Node* walk = walk_.data();
  const size_t trees = roots_.size();
  double total = 0.0;
  size_t t = 0;
  for (; t + kLanes <= trees; t += kLanes) {
    int32_t at[kLanes];
    for (size_t k = 0; k < kLanes; ++k) at[k] = roots_[t + k];
    for (int step = 0; step < max_depth_; ++step) {
      for (size_t k = 0; k < kLanes; ++k) {
        const Node& n = walk[at[k]];
        at[k] = n.left + (x[n.feature] < n.value ? 0 : 1);
      }
    }
    for (size_t k = 0; k < kLanes; ++k) total += leaf_path_[static_cast<size_t>(at[k])];
  }
  for (; t < trees; ++t) total += path_length(t, x);
  const double mean = total / static_cast<double>(trees);
  return std::exp2(-mean / normaliser_);
}

double IsolationForest::score_explained(const double* x, double* contributions) const noexcept {
  std::fill(contributions, contributions + n_features_, 0.0);
  const Node* nodes = nodes_.data();
  double total = 0.0;
  for (size_t t = 0; t < roots_.size(); ++t) {
    const double h = path_length(t, x);
    total += h;
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
  return std::exp2(-(total / static_cast<double>(roots_.size())) / normaliser_);
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
  return sizeof(*this) + roots_.capacity() * sizeof(int32_t) +
         (nodes_.capacity() + walk_.capacity()) * sizeof(Node) +
         leaf_path_.capacity() * sizeof(double);
}

}  // namespace insight::anomaly
