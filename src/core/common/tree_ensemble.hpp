// A validated, flat ensemble of regression trees: the one predictor behind the forecasters'
// random_forest (trees grown by grow_forest(), regression_forest.hpp; payloads written before
// it hold dlib's trees, compared as doubles) and gradient_boosting (trees grown by XGBoost), and the root-cause classifier
// (one ensemble per class, grown by XGBoost). XGBoost's trees are copied into this form after
// training and the forest is grown in it, so a payload stores plain arrays that the reader
// checks index by index (children inside their own tree and after their parent, features in
// range, finite values) instead of handing foreign serialisation formats to third-party parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/common/binary_io_fwd.hpp"

namespace insight {

// double → float without undefined behaviour: out-of-range values saturate to ±infinity.
inline float to_float(double v) noexcept {
  constexpr double kMax = 3.4028234663852886e38;  // FLT_MAX
  if (v > kMax) return __builtin_huge_valf();
  if (v < -kMax) return -__builtin_huge_valf();
  return static_cast<float>(v);  // NaN stays NaN
}

struct TreeNode {
  int32_t feature = -1;  // -1 = leaf
  float threshold = 0;   // go left when x[feature] < threshold
  uint32_t left = 0;     // absolute node indexes; for internal nodes only
  uint32_t right = 0;
  float value = 0;  // the leaf's output (both libraries keep leaves in float)
};

class TreeEnsemble {
 public:
  // prediction = base + scale · Σ over trees of the leaf reached.
  // float_inputs: compare float(x) with the threshold, as XGBoost does; otherwise double(x).
  TreeEnsemble() = default;
  TreeEnsemble(std::vector<TreeNode> nodes, std::vector<uint32_t> roots, size_t features,
               double base, double scale, bool float_inputs);

  double predict(const double* x) const;
  size_t tree_count() const noexcept { return roots_.size(); }
  size_t node_count() const noexcept { return nodes_.size(); }
  size_t feature_count() const noexcept { return features_; }

  void write(BinaryWriter& w) const;
  // CorruptPayload for anything inconsistent.
  static TreeEnsemble read(BinaryReader& r, size_t features);

  // From XGBoost's JSON model (XGBoosterSaveModelToBuffer with format json): reg:squarederror
  // (group -1: every tree), or one class's trees of multi:softprob (group = the class; the
  // prediction is that class's margin).
  static TreeEnsemble from_xgboost_json(const std::string& json, size_t features, int group = -1);
  // Every class of a multi:softprob model (groups classes), from one parse of the JSON.
  static std::vector<TreeEnsemble> from_xgboost_json_groups(const std::string& json,
                                                            size_t features, int groups);

 private:
  static TreeEnsemble from_xgboost_model(const nlohmann::json& model, size_t features, int group);
  void validate() const;  // throws CorruptPayload
  std::vector<TreeNode> nodes_;
  std::vector<uint32_t> roots_;  // tree t is nodes_[roots_[t] .. roots_[t + 1])
  size_t features_ = 0;
  double base_ = 0, scale_ = 1;
  bool float_inputs_ = false;
};

}  // namespace insight
