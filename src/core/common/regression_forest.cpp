#include "core/common/regression_forest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace insight {
namespace {

// A finite threshold t with a < t <= b: a row goes left exactly when its float value is below t
// (as TreeEnsemble compares). Halfway where float has a value strictly between a and b, else b,
// else (b infinite) the float after a; false when a is float's largest value and b infinite.
bool threshold_between(float a, float b, float& t) {
  const auto mid = static_cast<float>((static_cast<double>(a) + static_cast<double>(b)) / 2);
  if (mid > a && mid < b && std::isfinite(mid))
    t = mid;
  else if (std::isfinite(b))
    t = b;
  else
    t = std::nextafter(a, b);
  return std::isfinite(t);
}

// One tree's growth. Rows are the distinct rows of the tree's bootstrap sample, each with its
// multiplicity as weight. order_ holds, for every feature j, the rows sorted by feature j in
// [j·m, (j+1)·m); a node is the same range [begin, end) of every feature's part, and a split
// partitions each part's range stably, so every node's ranges stay sorted.
class TreeGrower {
 public:
  TreeGrower(const std::vector<float>& columns, const std::vector<uint32_t>& sorted,
             const std::vector<double>& y, size_t features, const ForestOptions& options)
      : columns_(columns),
        sorted_(sorted),
        y_(y),
        n_(y.size()),
        p_(features),
        leaf_size_(options.leaf_size),
        tried_(std::clamp<size_t>(
            static_cast<size_t>(std::lround(options.feature_fraction * static_cast<double>(features))),
            1, features)),
        weight_(n_),
        left_(n_),
        feature_ids_(features) {}

  // Appends one tree to `nodes` (children after their parent).
  void grow(Rng& rng, std::vector<TreeNode>& nodes) {
    std::fill(weight_.begin(), weight_.end(), 0u);
    for (size_t k = 0; k < n_; ++k) ++weight_[rng.below(n_)];
    m_ = 0;
    for (size_t i = 0; i < n_; ++i) m_ += weight_[i] > 0 ? 1 : 0;
    order_.resize(m_ * p_);
    for (size_t j = 0; j < p_; ++j) {
      uint32_t* out = &order_[j * m_];
      for (size_t k = 0; k < n_; ++k) {
        const uint32_t r = sorted_[j * n_ + k];
        if (weight_[r] > 0) *out++ = r;
      }
    }
    scratch_.resize(m_);
    struct Pending {
      size_t begin, end;
      uint32_t node;
    };
    std::vector<Pending> stack{{0, m_, static_cast<uint32_t>(nodes.size())}};
    nodes.emplace_back();
    while (!stack.empty()) {
      const Pending at = stack.back();
      stack.pop_back();
      const Split s = best_split(at.begin, at.end, rng);
      TreeNode& node = nodes[at.node];
      if (s.feature < 0) {
        node.value = to_float(s.mean);  // finite: grow_forest keeps centred targets within float
        continue;
      }
      node.feature = s.feature;
      node.threshold = s.threshold;
      node.left = static_cast<uint32_t>(nodes.size());
      node.right = node.left + 1;
      const uint32_t left = node.left, right = node.right;
      nodes.emplace_back();  // invalidates `node`
      nodes.emplace_back();
      partition(at.begin, at.end, s);
      stack.push_back({s.middle, at.end, right});
      stack.push_back({at.begin, s.middle, left});
    }
  }

 private:
  struct Split {
    int32_t feature = -1;  // -1: a leaf, whose output is mean
    float threshold = 0;
    size_t middle = 0;  // the left child's rows are [begin, middle)
    double mean = 0;
  };

  float value(size_t feature, uint32_t row) const { return columns_[feature * n_ + row]; }

  Split best_split(size_t begin, size_t end, Rng& rng) {
    Split best;
    double total_w = 0, total_s = 0;
    double lo = y_[order_[begin]], hi = lo;
    for (size_t k = begin; k < end; ++k) {
      const uint32_t r = order_[k];
      total_w += weight_[r];
      total_s += weight_[r] * y_[r];
      lo = std::min(lo, y_[r]);
      hi = std::max(hi, y_[r]);
    }
    best.mean = total_s / total_w;
    if (total_w <= static_cast<double>(leaf_size_) || lo == hi) return best;
    // The split maximises Σ_side (Σ w·y)² / Σ w: the largest reduction of squared error, even
    // none (a split that does not move the mean may let its children find an interaction).
    double best_score = -std::numeric_limits<double>::infinity();
    std::iota(feature_ids_.begin(), feature_ids_.end(), 0);
    for (size_t t = 0; t < tried_; ++t) {
      std::swap(feature_ids_[t], feature_ids_[t + rng.below(p_ - t)]);
      const size_t f = feature_ids_[t];
      const uint32_t* rows = &order_[f * m_];
      double w = 0, s = 0;
      for (size_t k = begin; k + 1 < end; ++k) {
        const uint32_t r = rows[k];
        w += weight_[r];
        s += weight_[r] * y_[r];
        const float a = value(f, r), b = value(f, rows[k + 1]);
        if (!(a < b)) continue;
        const double rest = total_s - s;
        const double score = s * s / w + rest * rest / (total_w - w);
        float threshold;
        if (score > best_score && threshold_between(a, b, threshold)) {
          best_score = score;
          best.feature = static_cast<int32_t>(f);
          best.middle = k + 1;
          best.threshold = threshold;
        }
      }
    }
    return best;
  }

  // Every feature's range [begin, end) split stably into the rows below the threshold, then
  // the rest.
  void partition(size_t begin, size_t end, const Split& s) {
    const auto f = static_cast<size_t>(s.feature);
    for (size_t k = begin; k < end; ++k) {
      const uint32_t r = order_[f * m_ + k];
      left_[r] = k < s.middle ? 1 : 0;
    }
    for (size_t j = 0; j < p_; ++j) {
      if (j == f) continue;  // already in order: its first rows are the left ones
      uint32_t* part = &order_[j * m_];
      size_t l = begin, r = 0;
      for (size_t k = begin; k < end; ++k) {
        const uint32_t row = part[k];
        if (left_[row])
          part[l++] = row;
        else
          scratch_[r++] = row;
      }
      std::copy(scratch_.begin(), scratch_.begin() + static_cast<long>(r), part + l);
    }
  }

  const std::vector<float>& columns_;   // column-major float values
  const std::vector<uint32_t>& sorted_;  // per feature, every row sorted by it
  const std::vector<double>& y_;
  size_t n_, p_, leaf_size_, tried_, m_ = 0;
  std::vector<uint32_t> weight_;
  std::vector<uint8_t> left_;
  std::vector<uint32_t> order_, scratch_;
  std::vector<size_t> feature_ids_;
};

}  // namespace

TreeEnsemble grow_forest(const std::vector<double>& X, const std::vector<double>& y,
                         size_t features, const ForestOptions& options) {
  const size_t n = y.size();
  if (n == 0 || features == 0 || X.size() != n * features)
    throw InvalidParameter("a forest needs a non-empty design matrix");
  if (n > UINT32_MAX) throw InvalidParameter("a forest takes at most 2^32 - 1 rows");
  if (options.trees == 0) throw InvalidParameter("a forest needs at least one tree");
  // The trees learn the targets less their mean (the ensemble's base): leaves keep floats, whose
  // precision then follows the targets' spread, not their level (a series near 1e8 varying by
  // units would otherwise be rounded to multiples of 8). Targets within half of float's range
  // keep every centred mean within it.
  constexpr double kMaxTarget = static_cast<double>(std::numeric_limits<float>::max()) / 2;
  double base = 0;
  for (double v : y) {
    if (!(std::abs(v) <= kMaxTarget))
      throw InvalidParameter("a forest's targets must be numbers within ±1.7e38");
    base += v / static_cast<double>(n);
  }
  std::vector<double> centred(n);
  for (size_t i = 0; i < n; ++i) centred[i] = y[i] - base;
  std::vector<float> columns(n * features);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < features; ++j) {
      const double v = X[i * features + j];
      if (std::isnan(v)) throw InvalidParameter("a forest's features must be numbers");
      columns[j * n + i] = to_float(v);
    }
  }
  std::vector<uint32_t> sorted(n * features);
  for (size_t j = 0; j < features; ++j) {
    uint32_t* part = &sorted[j * n];
    std::iota(part, part + n, 0u);
    const float* col = &columns[j * n];
    std::stable_sort(part, part + n, [col](uint32_t a, uint32_t b) { return col[a] < col[b]; });
  }
  TreeGrower grower(columns, sorted, centred, features, options);
  Rng rng(options.seed);
  std::vector<TreeNode> nodes;
  std::vector<uint32_t> roots;
  for (size_t t = 0; t < options.trees; ++t) {
    roots.push_back(static_cast<uint32_t>(nodes.size()));
    grower.grow(rng, nodes);
  }
  return TreeEnsemble(std::move(nodes), std::move(roots), features, base,
                      1.0 / static_cast<double>(options.trees), true);
}

}  // namespace insight
