// Random forests of regression trees (Breiman 2001), grown here: each tree on a bootstrap
// sample of the rows; a node of more than leaf_size rows (bootstrap copies counted) split where
// the squared error falls most among a random subset of the features; a leaf's output its
// rows' mean. (The procedure of dlib's random_forest_regression_trainer, which grew the
// forecasters' forests before — payloads of those keep float_inputs = false —: its
// min_samples_per_leaf is this leaf_size.)
//
// Why not a library's: the forecasters grow a forest per series and backtest fold — thousands
// a training — on a few hundred rows, where a library that sorts every candidate feature at
// every node spends most of its time sorting (dlib's did: about half of an hourly 'auto'
// training). Here each feature's order is sorted once per forest and kept down the tree by a
// stable partition at each split: O(rows × features) a tree level, no sorting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/tree_ensemble.hpp"

namespace insight {

struct ForestOptions {
  size_t trees = 20;
  size_t leaf_size = 5;                 // nodes of at most this many rows are not split
  double feature_fraction = 1.0 / 3.0;  // of the features, tried at each split (rounded, >= 1)
  uint64_t seed = 0x70675f696e736967;   // the same forest for the same rows, on every platform
};

// A forest on a row-major design matrix X (rows × features) and targets y: a TreeEnsemble
// whose prediction is the mean of its trees' (features compared as floats), the trees grown on
// the targets less their mean (the ensemble's base), so float leaves keep the spread's
// precision. Values are split as floats: values that differ only beyond float's precision are
// one value to the trees. InvalidParameter for an empty or mis-sized matrix, no trees, a
// feature that is NaN, or a target that is NaN or beyond half of float's range.
TreeEnsemble grow_forest(const std::vector<double>& X, const std::vector<double>& y,
                         size_t features, const ForestOptions& options);

}  // namespace insight
