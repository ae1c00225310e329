#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "core/anomaly/isolation_forest.hpp"
#include "core/anomaly/reservoir.hpp"
#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace insight::anomaly {
namespace {

// n rows of d standard-normal-ish features (sum of uniforms), row-major.
std::vector<double> gaussian_rows(size_t n, size_t d, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> rows(n * d);
  for (double& v : rows) {
    double s = 0;
    for (int k = 0; k < 12; ++k) s += rng.uniform();
    v = s - 6.0;
  }
  return rows;
}

TEST(AveragePathLength, KnownValues) {
  EXPECT_DOUBLE_EQ(average_path_length(0), 0.0);
  EXPECT_DOUBLE_EQ(average_path_length(1), 0.0);
  EXPECT_DOUBLE_EQ(average_path_length(2), 1.0);
  // 2 (ln(n-1) + gamma) - 2 (n-1) / n, as in scikit-learn's _average_path_length
  // python3: 2*(math.log(255)+0.5772156649015329)-2*255/256
  EXPECT_NEAR(average_path_length(256), 10.244770920119917, 1e-12);
  EXPECT_NEAR(average_path_length(3), 2 * (std::log(2.0) + 0.5772156649015329) - 4.0 / 3, 1e-12);
}

TEST(IsolationForest, OutliersScoreHigherThanInliers) {
  const size_t n = 2000, d = 3;
  auto rows = gaussian_rows(n, d, 1);
  const auto forest = IsolationForest::fit(rows.data(), n, d, ForestParams{100, 256, 7});
  double inlier_mean = 0;
  for (size_t i = 0; i < n; ++i) inlier_mean += forest.score(&rows[i * d]);
  inlier_mean /= n;
  const double far[3] = {8.0, -7.5, 9.0};
  const double centre[3] = {0.0, 0.0, 0.0};
  EXPECT_GT(forest.score(far), 0.7);
  EXPECT_LT(forest.score(centre), 0.45);
  EXPECT_GT(inlier_mean, 0.35);
  EXPECT_LT(inlier_mean, 0.5);
  EXPECT_GT(forest.score(far), forest.score(centre));
  // Scores are in (0, 1].
  EXPECT_LE(forest.score(far), 1.0);
  EXPECT_GT(forest.score(centre), 0.0);
}

TEST(IsolationForest, SeededAndDeterministic) {
  auto rows = gaussian_rows(500, 4, 2);
  const auto a = IsolationForest::fit(rows.data(), 500, 4, ForestParams{50, 128, 11});
  const auto b = IsolationForest::fit(rows.data(), 500, 4, ForestParams{50, 128, 11});
  const auto c = IsolationForest::fit(rows.data(), 500, 4, ForestParams{50, 128, 12});
  bool any_diff = false;
  for (size_t i = 0; i < 500; ++i) {
    EXPECT_EQ(a.score(&rows[i * 4]), b.score(&rows[i * 4]));
    any_diff |= a.score(&rows[i * 4]) != c.score(&rows[i * 4]);
  }
  EXPECT_TRUE(any_diff);
}

TEST(IsolationForest, SmallerTablesThanSampleSize) {
  auto rows = gaussian_rows(10, 2, 3);
  const auto forest = IsolationForest::fit(rows.data(), 10, 2, ForestParams{20, 256, 1});
  const double far[2] = {50, 50};
  EXPECT_GT(forest.score(far), forest.score(&rows[0]));
}

TEST(IsolationForest, ConstantDataGivesOneHalf) {
  std::vector<double> rows(100 * 2, 3.0);
  const auto forest = IsolationForest::fit(rows.data(), 100, 2, ForestParams{10, 64, 1});
  // Every tree is one leaf of 64 rows: h = c(64), s = 2^-1.
  EXPECT_NEAR(forest.score(rows.data()), 0.5, 1e-12);
}

TEST(IsolationForest, ExplanationNamesTheAnomalousFeature) {
  const size_t n = 3000, d = 5;
  auto rows = gaussian_rows(n, d, 4);
  const auto forest = IsolationForest::fit(rows.data(), n, d, ForestParams{200, 256, 3});
  for (size_t target = 0; target < d; ++target) {
    double x[5] = {0.1, -0.2, 0.05, 0.3, -0.1};
    x[target] = 9.0;
    double contrib[5];
    const double s = forest.score_explained(x, contrib);
    EXPECT_DOUBLE_EQ(s, forest.score(x));
    EXPECT_NEAR(std::accumulate(contrib, contrib + d, 0.0), 1.0, 1e-12);
    const auto top = static_cast<size_t>(std::max_element(contrib, contrib + d) - contrib);
    EXPECT_EQ(top, target) << "anomalous feature " << target;
  }
}

TEST(IsolationForest, BadParametersAreInvalid) {
  auto rows = gaussian_rows(10, 2, 5);
  EXPECT_THROW(IsolationForest::fit(rows.data(), 10, 2, ForestParams{0, 256, 1}), InvalidParameter);
  EXPECT_THROW(IsolationForest::fit(rows.data(), 10, 2, ForestParams{10, 1, 1}), InvalidParameter);
  EXPECT_THROW(IsolationForest::fit(rows.data(), 1, 2, ForestParams{10, 256, 1}), InvalidParameter);
  EXPECT_THROW(IsolationForest::fit(rows.data(), 10, 0, ForestParams{10, 256, 1}),
               InvalidParameter);
}

TEST(IsolationForest, InterruptStopsTraining) {
  auto rows = gaussian_rows(1000, 3, 6);
  int calls = 0;
  auto check = [&] {
    if (++calls == 3) throw std::runtime_error("cancelled");
  };
  EXPECT_THROW(IsolationForest::fit(rows.data(), 1000, 3, ForestParams{1000, 256, 1}, check),
               std::runtime_error);
  EXPECT_EQ(calls, 3);
}

TEST(IsolationForest, SerializationRoundTripAndCorruption) {
  auto rows = gaussian_rows(400, 3, 7);
  const auto forest = IsolationForest::fit(rows.data(), 400, 3, ForestParams{30, 64, 9});
  BinaryWriter w;
  forest.serialize(w);
  const auto bytes = w.take();
  BinaryReader r(bytes.data(), bytes.size());
  const auto back = IsolationForest::deserialize(r);
  r.expect_end();
  for (size_t i = 0; i < 400; ++i) EXPECT_EQ(back.score(&rows[i * 3]), forest.score(&rows[i * 3]));
  EXPECT_EQ(back.n_trees(), 30);
  EXPECT_EQ(back.n_features(), 3u);
  // Every truncation is rejected.
  for (size_t n = 0; n < bytes.size(); n += 7) {
    BinaryReader t(bytes.data(), n);
    EXPECT_THROW(IsolationForest::deserialize(t), CorruptPayload) << "length " << n;
  }
  // Structural corruption (a child pointing backwards, a feature out of range) is caught by
  // validation even though every length is right.
  const size_t first_node = 8 + 4 + 8 + 8 + 30 * 4 + 8;
  auto bad = bytes;
  bad[first_node + 8] = 0x7F;  // root's feature = 127 (> 3 features)
  BinaryReader rb(bad.data(), bad.size());
  EXPECT_THROW(IsolationForest::deserialize(rb), CorruptPayload);
  bad = bytes;
  for (int k = 0; k < 4; ++k) bad[first_node + 12 + k] = 0;  // root's child = 0 (itself)
  BinaryReader rc(bad.data(), bad.size());
  EXPECT_THROW(IsolationForest::deserialize(rc), CorruptPayload);
}

TEST(Reservoir, KeepsEverythingBelowCapacity) {
  Reservoir r(100, 1);
  for (int i = 0; i < 40; ++i) {
    const double row[2] = {double(i), double(-i)};
    r.add(row, 2);
  }
  r.skip();
  EXPECT_EQ(r.size(), 40u);
  EXPECT_EQ(r.seen(), 40u);
  EXPECT_EQ(r.skipped(), 1u);
  EXPECT_EQ(r.row(39)[1], -39.0);
}

TEST(Reservoir, MemoryIsBoundedAndSampleIsUniform) {
  // Mean of the sampled values over many seeds ≈ mean of the stream; inclusion of the first
  // and last tenth of the stream balanced (no recency or primacy bias).
  double mean_sum = 0;
  double first_tenth = 0, last_tenth = 0;
  const int seeds = 400;
  for (int s = 0; s < seeds; ++s) {
    Reservoir r(100, static_cast<uint64_t>(s));
    for (int i = 0; i < 10000; ++i) {
      const double v = i;
      r.add(&v, 1);
    }
    ASSERT_EQ(r.size(), 100u);
    double m = 0;
    for (size_t i = 0; i < r.size(); ++i) {
      m += r.row(i)[0];
      first_tenth += r.row(i)[0] < 1000;
      last_tenth += r.row(i)[0] >= 9000;
    }
    mean_sum += m / 100;
  }
  EXPECT_NEAR(mean_sum / seeds, 4999.5, 60);  // sd of the mean over 40,000 draws ≈ 14
  EXPECT_NEAR(first_tenth / seeds, 10.0, 0.6);
  EXPECT_NEAR(last_tenth / seeds, 10.0, 0.6);
}

TEST(Reservoir, MergeIsExactInDistribution) {
  // Stream A: 3,000 rows of value 0; stream B: 7,000 rows of value 1. A uniform sample of the
  // union holds 30% A rows on average; both halves are split unevenly on purpose.
  double share_b = 0;
  const int seeds = 400;
  for (int s = 0; s < seeds; ++s) {
    Reservoir a(200, 2 * s), b(200, 2 * s + 1);
    const double zero = 0, one = 1;
    for (int i = 0; i < 3000; ++i) a.add(&zero, 1);
    for (int i = 0; i < 7000; ++i) b.add(&one, 1);
    a.merge(b);
    ASSERT_EQ(a.size(), 200u);
    ASSERT_EQ(a.seen(), 10000u);
    for (size_t i = 0; i < a.size(); ++i) share_b += a.row(i)[0];
  }
  EXPECT_NEAR(share_b / (seeds * 200.0), 0.7, 0.01);  // sd ≈ 0.0016
}

TEST(Reservoir, MergeBelowCapacityKeepsAllAndEmptySides) {
  Reservoir a(100, 1), b(100, 2), empty(100, 3);
  for (int i = 0; i < 30; ++i) {
    const double v = i;
    a.add(&v, 1);
    b.add(&v, 1);
  }
  b.skip();
  a.merge(b);
  EXPECT_EQ(a.size(), 60u);
  EXPECT_EQ(a.skipped(), 1u);
  a.merge(empty);
  EXPECT_EQ(a.size(), 60u);
  empty.merge(a);
  EXPECT_EQ(empty.size(), 60u);
  EXPECT_EQ(empty.seen(), 60u);
}

TEST(Reservoir, RejectsBadRowsAndRoundTrips) {
  Reservoir r(10, 1);
  const double ok[2] = {1, 2};
  r.add(ok, 2);
  const double three[3] = {1, 2, 3};
  EXPECT_THROW(r.add(three, 3), InvalidParameter);
  const double nan[2] = {1, std::nan("")};
  EXPECT_THROW(r.add(nan, 2), InvalidParameter);
  const double inf[2] = {HUGE_VAL, 1};
  EXPECT_THROW(r.add(inf, 2), InvalidParameter);
  Reservoir other(10, 2);
  other.add(three, 3);
  EXPECT_THROW(r.merge(other), InvalidParameter);
  BinaryWriter w;
  r.serialize(w);
  const auto bytes = w.take();
  BinaryReader rd(bytes.data(), bytes.size());
  const auto back = Reservoir::deserialize(rd);
  EXPECT_EQ(back.size(), 1u);
  EXPECT_EQ(back.row(0)[1], 2.0);
  for (size_t n = 0; n < bytes.size(); ++n) {
    BinaryReader t(bytes.data(), n);
    EXPECT_THROW(Reservoir::deserialize(t), CorruptPayload) << n;
  }
}

}  // namespace
}  // namespace insight::anomaly

namespace insight::anomaly {
namespace {

TEST(IsolationForest, ExtremeMagnitudesStayFiniteAndInBounds) {
  // Values near ±DBL_MAX: thresholds must not overflow, scores must stay in (0, 1].
  std::vector<double> rows;
  for (int i = 0; i < 200; ++i) {
    rows.push_back(i % 2 ? 1.7e308 : -1.7e308);
    rows.push_back(static_cast<double>(i));
  }
  const auto forest = IsolationForest::fit(rows.data(), 200, 2, ForestParams{20, 64, 1});
  const double x[2] = {1.79e308, 5};
  const double s = forest.score(x);
  EXPECT_GT(s, 0.0);
  EXPECT_LE(s, 1.0);
  const double inf[2] = {HUGE_VAL, 5};
  EXPECT_TRUE(std::isnan(forest.score(inf)));  // refused, never walked
}

TEST(IsolationForest, SharedChildrenAreCorrupt) {
  // A hand-made body: one tree whose nodes all split to left = i + 1, so every node but the
  // first has two parents — loading must fail fast instead of exploring 2^n paths.
  BinaryWriter w;
  w.u64(1);     // features
  w.u32(64);    // sample size
  w.f64(10.0);  // normaliser
  w.u64(1);
  w.u32(0);  // root
  const uint32_t nodes = 60;
  w.u64(nodes);
  for (uint32_t i = 0; i < nodes; ++i) {
    const bool leaf = i + 2 >= nodes;
    w.f64(leaf ? 1.0 : 0.5);
    w.u32(leaf ? 0xFFFFFFFFu : 0u);
    w.u32(leaf ? 0u : i + 1);
  }
  const auto bytes = w.take();
  BinaryReader r(bytes.data(), bytes.size());
  EXPECT_THROW(IsolationForest::deserialize(r), CorruptPayload);
}

TEST(Reservoir, MergeRefusesDifferentSizes) {
  Reservoir a(10, 1), b(20, 2);
  const double v = 1;
  a.add(&v, 1);
  b.add(&v, 1);
  EXPECT_THROW(a.merge(b), InvalidParameter);
}

}  // namespace
}  // namespace insight::anomaly

namespace insight::anomaly {
namespace {

using Walk = IsolationForest::Walk;

// Every walk gives the same score, bit for bit: forests of few and many features (the AVX2
// walk keeps up to 16 features' ranks in registers and gathers them beyond), tree counts that
// do and do not fill its 16-tree steps, and depths up to the ranked form's limit; rows from
// the training cloud, far outside it, and on its training values.
TEST(IsolationForestWalks, EveryWalkGivesTheSameScore) {
  struct Case {
    size_t d;
    int trees, sample;
  };
  for (const Case c : {Case{1, 1, 2}, Case{3, 7, 16}, Case{5, 100, 256}, Case{14, 130, 256},
                       Case{16, 33, 64}, Case{20, 50, 1024}, Case{40, 17, 128}}) {
    const size_t n = 3000;
    auto rows = gaussian_rows(n, c.d, 100 + c.d);
    for (size_t i = 0; i < n; i += 97) rows[i * c.d] += 8.0;  // some outliers
    const auto forest =
        IsolationForest::fit(rows.data(), n, c.d, ForestParams{c.trees, c.sample, 3});
    ASSERT_EQ(forest.ranked(), IsolationForest::cpu_has_avx2()) << "d " << c.d;
    std::vector<double> probe = gaussian_rows(500, c.d, 7);
    for (size_t i = 0; i < 500; i += 5) probe[i * c.d + (i % c.d)] *= 50.0;
    for (const auto* set : {&rows, &probe}) {
      for (size_t i = 0; i < set->size() / c.d; ++i) {
        const double* x = &(*set)[i * c.d];
        const double nodes = forest.score(x, Walk::Nodes);
        EXPECT_EQ(forest.score(x, Walk::Ranked), nodes) << "d " << c.d << " row " << i;
        EXPECT_EQ(forest.score(x, Walk::RankedAvx2), nodes) << "d " << c.d << " row " << i;
        EXPECT_EQ(forest.score(x), nodes);
      }
    }
  }
}

// A value equal to a split's threshold goes right (x < t is false), in every walk: a forest
// written by hand with one split at 0.5, scored at 0.5 and its neighbours.
TEST(IsolationForestWalks, ThresholdTiesGoRight) {
  BinaryWriter w;
  w.u64(2);    // features
  w.u32(4);    // sample size
  w.f64(1.0);  // normaliser
  w.u64(1);    // trees
  w.u32(0);    // root
  w.u64(5);    // nodes: split on feature 1 at 0.5; left leaf 1; right: split feature 0 at -2
  auto node = [&](double value, int32_t feature, int32_t left) {
    w.f64(value);
    w.u32(static_cast<uint32_t>(feature));
    w.u32(static_cast<uint32_t>(left));
  };
  node(0.5, 1, 1);
  node(1.0, -1, 0);
  node(-2.0, 0, 3);
  node(2.0, -1, 0);
  node(3.0, -1, 0);
  const auto bytes = w.take();
  BinaryReader r(bytes.data(), bytes.size());
  const auto forest = IsolationForest::deserialize(r);
  ASSERT_EQ(forest.ranked(), IsolationForest::cpu_has_avx2());
  auto path = [&](double x0, double x1, Walk walk) {
    const double x[2] = {x0, x1};
    return -std::log2(forest.score(x, walk));  // the path length (normaliser 1)
  };
  for (Walk walk : {Walk::Nodes, Walk::Ranked, Walk::RankedAvx2}) {
    EXPECT_DOUBLE_EQ(path(0, std::nextafter(0.5, 0.0), walk), 1.0);
    EXPECT_DOUBLE_EQ(path(0, 0.5, walk), 3.0);     // tie: right, then x0 = 0 ≥ -2: right
    EXPECT_DOUBLE_EQ(path(-2.0, 0.5, walk), 3.0);  // tie at the second split too
    EXPECT_DOUBLE_EQ(path(-2.5, 0.7, walk), 2.0);
  }
}

// A forest of many one-leaf trees and a single deep one would be mostly pass-through nodes in
// the ranked form: it keeps the node walk (a payload cannot make the ranked form balloon).
TEST(IsolationForestWalks, LopsidedForestsWalkTheNodes) {
  auto rows = gaussian_rows(2000, 2, 12);
  const auto deep = IsolationForest::fit(rows.data(), 2000, 2, ForestParams{1, 1024, 1});
  BinaryWriter w;
  deep.serialize(w);
  auto bytes = w.take();
  // Rebuild the payload with 5,000 extra trees that are a single leaf each.
  BinaryReader r(bytes.data(), bytes.size());
  const uint64_t d = r.u64();
  const uint32_t sample = r.u32();
  const double norm = r.f64();
  r.u64();  // one tree
  const uint32_t root = r.u32();
  const uint64_t n = r.u64();
  BinaryWriter out;
  out.u64(d);
  out.u32(sample);
  out.f64(norm);
  out.u64(5001);
  out.u32(root);
  for (uint32_t t = 0; t < 5000; ++t) out.u32(static_cast<uint32_t>(n) + t);
  out.u64(n + 5000);
  for (uint64_t i = 0; i < n; ++i) {
    out.f64(r.f64());
    out.u32(r.u32());
    out.u32(r.u32());
  }
  for (int t = 0; t < 5000; ++t) {
    out.f64(1.0);
    out.u32(static_cast<uint32_t>(-1));
    out.u32(0);
  }
  const auto lopsided_bytes = out.take();
  BinaryReader in(lopsided_bytes.data(), lopsided_bytes.size());
  const auto lopsided = IsolationForest::deserialize(in);
  EXPECT_FALSE(lopsided.ranked());
  EXPECT_GT(lopsided.score(rows.data()), 0.0);
}

// Forests deeper than the ranked form's limit keep the node walk.
TEST(IsolationForestWalks, DeepForestsWalkTheNodes) {
  auto rows = gaussian_rows(5000, 2, 11);
  const auto forest = IsolationForest::fit(rows.data(), 5000, 2, ForestParams{5, 4096, 1});
  EXPECT_FALSE(forest.ranked());
  EXPECT_EQ(forest.score(rows.data()), forest.score(rows.data(), Walk::Nodes));
}

}  // namespace
}  // namespace insight::anomaly
