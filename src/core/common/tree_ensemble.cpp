#include "core/common/tree_ensemble.hpp"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"

namespace insight {
namespace {
constexpr size_t kMaxNodes = 50'000'000;
constexpr size_t kMaxTrees = 1'000'000;
}  // namespace

TreeEnsemble::TreeEnsemble(std::vector<TreeNode> nodes, std::vector<uint32_t> roots,
                           size_t features, double base, double scale, bool float_inputs)
    : nodes_(std::move(nodes)),
      roots_(std::move(roots)),
      features_(features),
      base_(base),
      scale_(scale),
      float_inputs_(float_inputs) {
  validate();
}

void TreeEnsemble::validate() const {
  if (roots_.empty()) throw CorruptPayload("tree ensemble has no trees");
  if (!std::isfinite(base_) || !std::isfinite(scale_))
    throw CorruptPayload("tree ensemble base or scale is not finite");
  if (roots_[0] != 0) throw CorruptPayload("first tree does not start at node 0");
  for (size_t t = 0; t < roots_.size(); ++t) {
    const size_t begin = roots_[t];
    const size_t end = t + 1 < roots_.size() ? roots_[t + 1] : nodes_.size();
    if (end <= begin || end > nodes_.size())
      throw CorruptPayload("tree " + std::to_string(t) + " has an invalid node range");
    for (size_t i = begin; i < end; ++i) {
      const TreeNode& n = nodes_[i];
      if (n.feature < 0) {
        if (n.feature != -1 || !std::isfinite(n.value))
          throw CorruptPayload("invalid leaf in tree " + std::to_string(t));
        continue;
      }
      // Children come after their parent and stay inside the tree: every walk ends at a leaf.
      if (static_cast<size_t>(n.feature) >= features_ || !std::isfinite(n.threshold) ||
          n.left <= i || n.right <= i || n.left >= end || n.right >= end)
        throw CorruptPayload("invalid split node in tree " + std::to_string(t));
    }
  }
}

double TreeEnsemble::predict(const double* x) const {
  double sum = 0;
  for (uint32_t root : roots_) {
    uint32_t i = root;
    while (nodes_[i].feature >= 0) {
      const TreeNode& n = nodes_[i];
      const double v = x[n.feature];
      const bool left =
          float_inputs_ ? to_float(v) < n.threshold : v < static_cast<double>(n.threshold);
      i = left ? n.left : n.right;
    }
    sum += nodes_[i].value;
  }
  return base_ + scale_ * sum;
}

void TreeEnsemble::write(BinaryWriter& w) const {
  w.f64(base_);
  w.f64(scale_);
  w.u8(float_inputs_ ? 1 : 0);
  w.u32_array(roots_);
  w.u64(nodes_.size());
  for (const TreeNode& n : nodes_) {
    // 16 bytes a node: a leaf keeps its value where a split keeps its threshold.
    w.u32(static_cast<uint32_t>(n.feature));
    const float f = n.feature < 0 ? n.value : n.threshold;
    uint32_t bits;
    static_assert(sizeof bits == sizeof f);
    std::memcpy(&bits, &f, sizeof bits);
    w.u32(bits);
    w.u32(n.feature < 0 ? 0 : n.left);
    w.u32(n.feature < 0 ? 0 : n.right);
  }
}

TreeEnsemble TreeEnsemble::read(BinaryReader& r, size_t features) {
  TreeEnsemble e;
  e.features_ = features;
  e.base_ = r.finite_f64();
  e.scale_ = r.finite_f64();
  const uint8_t flag = r.u8();
  if (flag > 1) throw CorruptPayload("invalid tree ensemble flag");
  e.float_inputs_ = flag == 1;
  e.roots_ = r.u32_array(kMaxTrees);
  const uint64_t n = r.count(kMaxNodes, 16);
  e.nodes_.resize(n);
  for (TreeNode& node : e.nodes_) {
    node.feature = static_cast<int32_t>(r.u32());
    const uint32_t bits = r.u32();
    float f;
    std::memcpy(&f, &bits, sizeof bits);
    (node.feature < 0 ? node.value : node.threshold) = f;
    node.left = r.u32();
    node.right = r.u32();
  }
  for (size_t t = 1; t < e.roots_.size(); ++t)
    if (e.roots_[t] <= e.roots_[t - 1]) throw CorruptPayload("tree ranges out of order");
  e.validate();
  return e;
}

TreeEnsemble TreeEnsemble::from_xgboost_json(const std::string& text, size_t features, int group) {
  // XGBoost's own output: trusted, checked below.
  return from_xgboost_model(nlohmann::json::parse(text), features, group);
}

std::vector<TreeEnsemble> TreeEnsemble::from_xgboost_json_groups(const std::string& text,
                                                                 size_t features, int groups) {
  const auto j = nlohmann::json::parse(text);
  std::vector<TreeEnsemble> out;
  out.reserve(static_cast<size_t>(groups));
  for (int g = 0; g < groups; ++g) out.push_back(from_xgboost_model(j, features, g));
  return out;
}

TreeEnsemble TreeEnsemble::from_xgboost_model(const nlohmann::json& j, size_t features, int group) {
  const auto& learner = j.at("learner");
  const auto objective = learner.at("objective").at("name").get<std::string>();
  if (objective != (group < 0 ? "reg:squarederror" : "multi:softprob"))
    throw InternalError("unexpected XGBoost objective " + objective);
  const double base =
      std::stod(learner.at("learner_model_param").at("base_score").get<std::string>());
  const auto& model = learner.at("gradient_booster").at("model");
  const auto& trees = model.at("trees");
  const auto tree_info = model.at("tree_info").get<std::vector<int64_t>>();
  if (tree_info.size() != trees.size()) throw InternalError("inconsistent XGBoost tree_info");
  std::vector<TreeNode> nodes;
  std::vector<uint32_t> roots;
  for (size_t t = 0; t < trees.size(); ++t) {
    if (group >= 0 && tree_info[t] != group) continue;
    const auto& tree = trees[t];
    const auto left = tree.at("left_children").get<std::vector<int64_t>>();
    const auto right = tree.at("right_children").get<std::vector<int64_t>>();
    const auto split = tree.at("split_indices").get<std::vector<int64_t>>();
    const auto cond = tree.at("split_conditions").get<std::vector<double>>();
    const size_t n = left.size();
    if (right.size() != n || split.size() != n || cond.size() != n || n == 0)
      throw InternalError("inconsistent XGBoost tree");
    const auto offset = static_cast<uint32_t>(nodes.size());
    roots.push_back(offset);
    for (size_t i = 0; i < n; ++i) {
      TreeNode node;
      if (left[i] < 0) {
        node.value = to_float(cond[i]);
      } else {
        node.feature = static_cast<int32_t>(split[i]);
        node.threshold = to_float(cond[i]);
        node.left = offset + static_cast<uint32_t>(left[i]);
        node.right = offset + static_cast<uint32_t>(right[i]);
      }
      nodes.push_back(node);
    }
  }
  return TreeEnsemble(std::move(nodes), std::move(roots), features, base, 1.0, true);
}

}  // namespace insight
