#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

// clang-format off
#include "core/common/dlib.hpp"
#include <dlib/random_forest.h>
// clang-format on

#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/common/regression_forest.hpp"
#include "design_testing.hpp"

namespace insight {
namespace {

double mse(const std::vector<double>& X, const std::vector<double>& y, size_t d,
           const std::function<double(const double*)>& predict) {
  double sum = 0;
  for (size_t r = 0; r < y.size(); ++r) {
    const double e = predict(&X[r * d]) - y[r];
    sum += e * e;
  }
  return sum / static_cast<double>(y.size());
}

// The forest grown here learns as well as dlib's random forest with the same options (the
// library the forecasters used before): held-out squared error on fresh rows, summed over three
// designs, 100 trees each (with 20, one design's error moves by ±15 % with the seed alone).
TEST(RegressionForest, HeldOutErrorAsLowAsDlibsForest) {
  const size_t d = 8;
  double ours_total = 0, theirs_total = 0, variance_total = 0;
  for (uint64_t seed : {1, 2, 3}) {
    std::vector<double> X, y, Xt, yt;
    random_design(336, d, seed, X, y);
    random_design(1000, d, seed + 100, Xt, yt);
    ForestOptions options;
    options.trees = 100;
    const TreeEnsemble ours = grow_forest(X, y, d, options);
    EXPECT_EQ(ours.tree_count(), options.trees);

    using Sample = dlib::matrix<double, 0, 1>;
    std::vector<Sample> samples(y.size());
    for (size_t r = 0; r < y.size(); ++r) {
      samples[r].set_size(static_cast<long>(d));
      for (size_t j = 0; j < d; ++j) samples[r](static_cast<long>(j)) = X[r * d + j];
    }
    dlib::random_forest_regression_trainer<dlib::dense_feature_extractor> trainer;
    trainer.set_num_trees(options.trees);
    trainer.set_min_samples_per_leaf(options.leaf_size);
    trainer.set_feature_subsampling_fraction(options.feature_fraction);
    trainer.set_seed("pg_insight");
    const auto theirs = trainer.train(samples, y);

    ours_total += mse(Xt, yt, d, [&](const double* x) { return ours.predict(x); });
    theirs_total += mse(Xt, yt, d, [&](const double* x) {
      Sample s(static_cast<long>(d));
      for (size_t j = 0; j < d; ++j) s(static_cast<long>(j)) = x[j];
      return theirs(s);
    });
    double mean = 0;
    for (double v : yt) mean += v / static_cast<double>(yt.size());
    for (double v : yt) variance_total += (v - mean) * (v - mean) / static_cast<double>(yt.size());
  }
  EXPECT_LT(ours_total, 0.7 * variance_total);  // it learns: well below the mean's error
  EXPECT_LT(ours_total, 1.05 * theirs_total) << "dlib's " << theirs_total;
}

TEST(RegressionForest, SameRowsSameForest) {
  std::vector<double> X, y;
  random_design(200, 5, 7, X, y);
  const TreeEnsemble a = grow_forest(X, y, 5, ForestOptions{});
  const TreeEnsemble b = grow_forest(X, y, 5, ForestOptions{});
  ASSERT_EQ(a.node_count(), b.node_count());
  for (size_t r = 0; r < y.size(); ++r) EXPECT_EQ(a.predict(&X[r * 5]), b.predict(&X[r * 5]));
  ForestOptions other;
  other.seed = 1;
  const TreeEnsemble c = grow_forest(X, y, 5, other);
  size_t differ = 0;
  for (size_t r = 0; r < y.size(); ++r) differ += a.predict(&X[r * 5]) != c.predict(&X[r * 5]);
  EXPECT_GT(differ, y.size() / 2);  // the seed draws the bootstrap samples and the features
}

// A step in one feature among noise features: found exactly, the split halfway between the
// two values on each side of the step.
TEST(RegressionForest, FindsAStep) {
  const size_t n = 400, d = 3;
  Rng rng(3);
  std::vector<double> X(n * d), y(n);
  for (size_t r = 0; r < n; ++r) {
    X[r * d] = static_cast<double>(r % 20);  // 0..19; the step between 9 and 10
    X[r * d + 1] = rng.uniform();
    X[r * d + 2] = rng.uniform();
    y[r] = X[r * d] >= 10 ? 100 : 0;
  }
  ForestOptions options;
  options.feature_fraction = 1.0;  // every split sees the stepped feature
  const TreeEnsemble f = grow_forest(X, y, d, options);
  for (double x0 : {0.0, 9.0, 9.4, 9.6, 10.0, 19.0}) {
    const double x[3] = {x0, 0.5, 0.5};
    EXPECT_DOUBLE_EQ(f.predict(x), x0 < 9.5 ? 0 : 100) << x0;
  }
  EXPECT_EQ(f.node_count(), 3 * options.trees);  // one split, two leaves a tree
}

// Nodes of at most leaf_size rows (bootstrap copies counted) are leaves: with leaf_size the
// sample's size, every tree is its root.
TEST(RegressionForest, LeafSizeAndValuesFloatCannotTellApart) {
  std::vector<double> X, y;
  random_design(100, 4, 9, X, y);
  ForestOptions options;
  options.leaf_size = 100;
  EXPECT_EQ(grow_forest(X, y, 4, options).node_count(), options.trees);
  options.leaf_size = 99;
  EXPECT_GT(grow_forest(X, y, 4, options).node_count(), options.trees);
  // Values that differ beyond float's precision are one value: nothing to split on.
  std::vector<double> Xf(100), yf(100);
  for (size_t r = 0; r < 100; ++r) {
    Xf[r] = 1 + 1e-12 * static_cast<double>(r);
    yf[r] = static_cast<double>(r);
  }
  EXPECT_EQ(grow_forest(Xf, yf, 1, ForestOptions{}).node_count(), ForestOptions{}.trees);
}

// Values beyond float's range are ±infinity to the trees; they split with finite thresholds
// (the payload reader refuses others), each side routed as it was trained: (−inf, +inf),
// (finite, +inf), (−inf, finite); float's largest value and +inf cannot be told apart.
TEST(RegressionForest, InfiniteFeatureValuesSplitWithFiniteThresholds) {
  const double inf_like = std::numeric_limits<double>::max();
  const double flt_max = std::numeric_limits<float>::max();
  for (const auto& [low, high] : std::vector<std::pair<double, double>>{
           {-inf_like, inf_like}, {1.0, inf_like}, {-inf_like, 1.0}}) {
    std::vector<double> X(100), y(100);
    for (size_t r = 0; r < 100; ++r) {
      X[r] = r < 50 ? high : low;
      y[r] = r < 50 ? 1 : -1;
    }
    const TreeEnsemble f = grow_forest(X, y, 1, ForestOptions{});
    EXPECT_DOUBLE_EQ(f.predict(&high), 1) << low << " " << high;
    EXPECT_DOUBLE_EQ(f.predict(&low), -1) << low << " " << high;
  }
  std::vector<double> X(100), y(100);
  for (size_t r = 0; r < 100; ++r) {
    X[r] = r < 50 ? inf_like : flt_max;
    y[r] = r < 50 ? 1 : -1;
  }
  EXPECT_EQ(grow_forest(X, y, 1, ForestOptions{}).node_count(), ForestOptions{}.trees);
}

// The trees learn the targets less their mean: a series near 1e8 that varies by tenths keeps
// its tenths (float leaves of the raw values would round them to multiples of 8).
TEST(RegressionForest, LargeLevelsKeepTheirSmallVariation) {
  const size_t n = 200;
  std::vector<double> X(n), y(n);
  for (size_t r = 0; r < n; ++r) {
    X[r] = static_cast<double>(r % 10);
    y[r] = 1e8 + 0.1 * static_cast<double>(r % 10);
  }
  ForestOptions options;
  options.leaf_size = 0;
  const TreeEnsemble f = grow_forest(X, y, 1, options);
  for (size_t k = 0; k < 10; ++k) {
    const double x = static_cast<double>(k);
    EXPECT_NEAR(f.predict(&x), 1e8 + 0.1 * x, 1e-6) << k;
  }
}

// Rows are routed at prediction as they were partitioned in training: one tree grown to single
// rows (leaf_size 0) on distinct rows predicts every row it drew exactly (float leaves).
TEST(RegressionForest, PredictionsRouteRowsAsTrainingPartitionedThem) {
  std::vector<double> X, y;
  random_design(300, 4, 11, X, y);
  ForestOptions options;
  options.trees = 1;
  options.leaf_size = 0;
  options.feature_fraction = 1.0;
  const TreeEnsemble f = grow_forest(X, y, 4, options);
  // A bootstrap sample draws about 63 % of the rows; those land in leaves of their own value.
  size_t exact = 0;
  for (size_t r = 0; r < y.size(); ++r)
    exact += std::abs(f.predict(&X[r * 4]) - y[r]) <= 1e-6 * (1 + std::abs(y[r]));
  EXPECT_GT(exact, y.size() / 2);
  EXPECT_LT(exact, y.size());  // the rows not drawn are predicted, not memorised
}

TEST(RegressionForest, RefusesBadInput) {
  std::vector<double> X{1, 2, 3}, y{1, 2, 3};
  EXPECT_THROW(grow_forest({}, {}, 1, ForestOptions{}), InvalidParameter);
  EXPECT_THROW(grow_forest(X, y, 2, ForestOptions{}), InvalidParameter);
  ForestOptions none;
  none.trees = 0;
  EXPECT_THROW(grow_forest(X, y, 1, none), InvalidParameter);
  X[1] = std::nan("");
  EXPECT_THROW(grow_forest(X, y, 1, ForestOptions{}), InvalidParameter);
  X[1] = 2;
  y[2] = std::nan("");
  EXPECT_THROW(grow_forest(X, y, 1, ForestOptions{}), InvalidParameter);
  y[2] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(grow_forest(X, y, 1, ForestOptions{}), InvalidParameter);
  y[2] = 1e39;  // beyond float: a leaf could not keep it
  EXPECT_THROW(grow_forest(X, y, 1, ForestOptions{}), InvalidParameter);
}

}  // namespace
}  // namespace insight
