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

namespace insight {
namespace {

// y = 3·x0 − 2·x1·x2 + uniform noise, x uniform in [−5, 5]^d: an interaction a forest must find.
void design(size_t rows, size_t d, uint64_t seed, std::vector<double>& X, std::vector<double>& y) {
  Rng rng(seed);
  X.resize(rows * d);
  y.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < d; ++j) X[r * d + j] = rng.uniform() * 10 - 5;
    y[r] = 3 * X[r * d] - 2 * X[r * d + 1] * X[r * d + 2] + rng.uniform();
  }
}

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
    design(336, d, seed, X, y);
    design(1000, d, seed + 100, Xt, yt);
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
  design(200, 5, 7, X, y);
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
  design(100, 4, 9, X, y);
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
  // Infinite feature values split with finite thresholds (the payload reader refuses others).
  std::vector<double> Xi(100), yi(100);
  for (size_t r = 0; r < 100; ++r) {
    Xi[r] = r < 50 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
    yi[r] = r < 50 ? 1 : -1;
  }
  const TreeEnsemble fi = grow_forest(Xi, yi, 1, ForestOptions{});
  const double big = 1e300, small = -1e300;
  EXPECT_DOUBLE_EQ(fi.predict(&big), 1);
  EXPECT_DOUBLE_EQ(fi.predict(&small), -1);
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
}

}  // namespace
}  // namespace insight
