#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/common/tree_ensemble.hpp"
#include "core/forecast/backtest.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/learners.hpp"
#include "core/forecast/tree_forecaster.hpp"
#include "design_testing.hpp"

namespace insight::forecast {
namespace {

std::vector<double> sales(size_t n, uint64_t seed, double slope = 0.3) {
  Rng rng(seed);
  std::vector<double> y(n);
  for (size_t t = 0; t < n; ++t)
    y[t] = 200 + slope * static_cast<double>(t) + 40 * ((t % 7) >= 5 ? 1 : 0) -
           25 * ((t % 7) == 0 ? 1 : 0) + 30 * std::sin(6.283185307 * static_cast<double>(t) / 365) +
           20 * (rng.uniform() - 0.5);
  return y;
}

TEST(TreeEnsemble, CopyOfXgboostTreesPredictsWhatXgboostPredicts) {
  std::vector<double> X, y, lib;
  random_design(300, 6, 2, X, y);
  const TreeEnsemble e = grow_boosted_trees(X, y, 6, BoostingOptions{}, {}, &lib);
  ASSERT_EQ(lib.size(), y.size());
  EXPECT_EQ(e.tree_count(), static_cast<size_t>(BoostingOptions{}.rounds));
  // XGBoost sums in float; allow float rounding of a sum of ~150 terms.
  for (size_t r = 0; r < y.size(); ++r)
    EXPECT_NEAR(e.predict(&X[r * 6]), lib[r], 1e-4 * (1 + std::abs(lib[r]))) << r;
}

TEST(TreeEnsemble, RejectsCyclesOutOfRangeChildrenAndBadFeatures) {
  auto leaf = [](float v) {
    TreeNode n;
    n.value = v;
    return n;
  };
  auto split = [](int32_t f, uint32_t l, uint32_t r) {
    TreeNode n;
    n.feature = f;
    n.threshold = 0.5f;
    n.left = l;
    n.right = r;
    return n;
  };
  EXPECT_NO_THROW(TreeEnsemble({split(0, 1, 2), leaf(1), leaf(2)}, {0}, 1, 0, 1, false));
  // self loop, backwards edge, child in the next tree, feature out of range, no trees
  EXPECT_THROW(TreeEnsemble({split(0, 0, 2), leaf(1), leaf(2)}, {0}, 1, 0, 1, false),
               CorruptPayload);
  EXPECT_THROW(TreeEnsemble({leaf(1), split(0, 0, 2), leaf(2)}, {0, 1}, 1, 0, 1, false),
               CorruptPayload);
  EXPECT_THROW(TreeEnsemble({split(0, 1, 3), leaf(1), leaf(2), leaf(3)}, {0, 3}, 1, 0, 1, false),
               CorruptPayload);
  EXPECT_THROW(TreeEnsemble({split(1, 1, 2), leaf(1), leaf(2)}, {0}, 1, 0, 1, false),
               CorruptPayload);
  EXPECT_THROW(TreeEnsemble({leaf(1)}, {}, 1, 0, 1, false), CorruptPayload);
  EXPECT_THROW(TreeEnsemble({leaf(NAN)}, {0}, 1, 0, 1, false), CorruptPayload);
}

class EachLearner : public ::testing::TestWithParam<Learner> {};

TEST_P(EachLearner, FitsForecastsAndRoundTripsThroughItsState) {
  const auto y = sales(400, 3);
  const auto m = fit_learner(GetParam(), 15000, y);
  ASSERT_EQ(m->learner(), GetParam());
  const auto f = m->forecast(21);
  ASSERT_EQ(f.size(), 21u);
  for (double v : f) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_GT(v, 100);  // the level is ~300
    EXPECT_LT(v, 500);
  }
  BinaryWriter w;
  m->write(w);
  BinaryReader r(w.bytes().data(), w.bytes().size());
  const auto back = read_learner(GetParam(), r, Frequency::day());
  r.expect_end();
  EXPECT_EQ(back->forecast(21), f);
  // Every truncation of the state is refused, never read past its end.
  for (size_t cut = 0; cut < w.bytes().size(); cut += 1 + w.bytes().size() / 97) {
    BinaryReader t(w.bytes().data(), cut);
    EXPECT_THROW(read_learner(GetParam(), t, Frequency::day()), CorruptPayload) << cut;
  }
}

TEST_P(EachLearner, BeatsAFlatForecastOnAWeeklyPattern) {
  const auto y = sales(400, 4, 0.0);
  const std::vector<double> train(y.begin(), y.end() - 14), test(y.end() - 14, y.end());
  const auto f = fit_and_forecast(GetParam(), 15000, train, 14);
  double err = 0, flat = 0, mean = 0;
  for (double v : train) mean += v / static_cast<double>(train.size());
  for (size_t i = 0; i < 14; ++i) {
    err += std::abs(f[i] - test[i]);
    flat += std::abs(mean - test[i]);
  }
  EXPECT_LT(err, flat) << learner_name(GetParam());
}

TEST_P(EachLearner, TooShortASeriesNamesTheLengthNeeded) {
  const std::vector<double> y(min_history(GetParam()) - 1, 5.0);
  try {
    fit_learner(GetParam(), 15000, y);
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_NE(e.detail().find(std::to_string(min_history(GetParam()))), std::string::npos)
        << e.detail();
  }
}

INSTANTIATE_TEST_SUITE_P(Forecast, EachLearner,
                         ::testing::Values(Learner::SeasonalNaive, Learner::HoltWinters,
                                           Learner::Linear, Learner::RandomForest,
                                           Learner::GradientBoosting, Learner::Combination),
                         [](const auto& info) { return std::string(learner_name(info.param)); });

TEST(Combination, ForecastsTheMeanOfItsMembers) {
  const auto y = sales(200, 21);
  const auto combined = fit_learner(Learner::Combination, 15000, y)->forecast(14);
  std::vector<double> mean(14, 0.0);
  for (Learner m : combination_members()) {
    const auto f = fit_learner(m, 15000, y)->forecast(14);
    for (size_t s = 0; s < 14; ++s)
      mean[s] += f[s] / static_cast<double>(combination_members().size());
  }
  for (size_t s = 0; s < 14; ++s) EXPECT_NEAR(combined[s], mean[s], 1e-9 * std::abs(mean[s]));
}

TEST(Combination, BacktestFromMembersEqualsRefittingTheCombination) {
  // A series with closed Saturdays, so the combination's own zero-weekday rule matters too.
  auto y = sales(220, 22);
  for (size_t t = 5; t < y.size(); t += 7) y[t] = 0;
  std::vector<BacktestScore> members;
  for (Learner m : combination_members()) members.push_back(backtest(m, 15000, y, 14, 3));
  std::vector<const BacktestScore*> ptrs;
  for (const auto& m : members) ptrs.push_back(&m);
  const BacktestScore combined = combine_backtests(ptrs, Learner::Combination, Frequency::day(), y, 14, 3);
  const BacktestScore refit = backtest(Learner::Combination, 15000, y, 14, 3);
  EXPECT_EQ(combined.learner, Learner::Combination);
  EXPECT_NEAR(combined.mase, refit.mase, 1e-9);
  EXPECT_NEAR(combined.mae, refit.mae, 1e-9 * refit.mae);
  EXPECT_NEAR(combined.smape, refit.smape, 1e-9);
  for (size_t k = 0; k < 3; ++k)
    for (size_t s = 0; s < 14; ++s) {
      EXPECT_NEAR(combined.predicted[k][s], refit.predicted[k][s],
                  1e-9 * (1 + std::abs(refit.predicted[k][s])));
      if ((y.size() - (3 - k) * 14 + s) % 7 == 5) {
        EXPECT_EQ(combined.predicted[k][s], 0.0);  // a closed Saturday
      }
    }
}

TEST(Combination, StateRoundTripsAndRejectsAForeignMember) {
  const auto m = fit_learner(Learner::Combination, 15000, sales(160, 23));
  BinaryWriter w;
  m->write(w);
  {
    BinaryReader r(w.bytes().data(), w.bytes().size());
    const auto back = read_learner(Learner::Combination, r, Frequency::day());
    r.expect_end();
    EXPECT_EQ(back->forecast(10), m->forecast(10));
  }
  // Byte 2 is the member count (after the two output-rule bytes), byte 3 the first member's tag.
  for (size_t pos : {size_t{2}, size_t{3}}) {
    std::vector<uint8_t> bad = w.bytes();
    bad[pos] = static_cast<uint8_t>(bad[pos] + 1);
    BinaryReader r(bad.data(), bad.size());
    EXPECT_THROW(read_learner(Learner::Combination, r, Frequency::day()), CorruptPayload) << pos;
  }
}

TEST(Learners, WrongTreeKindForItsLearnerIsCorrupt) {
  const auto m = fit_learner(Learner::RandomForest, 15000, sales(100, 5));
  BinaryWriter w;
  m->write(w);
  BinaryReader r(w.bytes().data(), w.bytes().size());
  EXPECT_THROW(read_learner(Learner::GradientBoosting, r, Frequency::day()), CorruptPayload);
}

TEST(Learners, BoostingPollsForInterrupts) {
  int calls = 0;
  fit_learner(Learner::GradientBoosting, 15000, sales(120, 6), [&] { ++calls; });
  EXPECT_GE(calls, BoostingOptions{}.rounds / 16);
  struct Stop {};
  EXPECT_THROW(fit_learner(Learner::GradientBoosting, 15000, sales(120, 6), [] { throw Stop{}; }),
               Stop);
}

TEST(Evaluator, AutoIsScoredOutOfSampleBesideEveryCandidate) {
  Evaluator ev(std::nullopt, 14, 2, 0.9);
  ev.add(15000, sales(300, 7));
  ev.add(15000, sales(300, 8));
  ev.add(15000, std::vector<double>(20, 1.0));  // too short for 2 outer folds + fallback
  const Evaluation r = ev.result();
  EXPECT_EQ(r.skipped, 1u);
  ASSERT_EQ(r.scores.size(), 1 + all_learners().size());
  EXPECT_EQ(r.scores[0].algorithm, "auto");
  for (const auto& s : r.scores) {
    EXPECT_EQ(s.series, 2u) << s.algorithm;
    EXPECT_GT(s.mase, 0) << s.algorithm;
    EXPECT_GE(s.coverage, 0);
    EXPECT_LE(s.coverage, 1);
  }
  // Seasonal naive's row equals a plain backtest's MASE on the same folds.
  Evaluator sn(Learner::SeasonalNaive, 14, 2, 0.9);
  sn.add(15000, sales(300, 7));
  sn.add(15000, sales(300, 8));
  const double direct = (backtest(Learner::SeasonalNaive, 15000, sales(300, 7), 14, 2).mase +
                         backtest(Learner::SeasonalNaive, 15000, sales(300, 8), 14, 2).mase) /
                        2;
  EXPECT_NEAR(sn.result().scores[0].mase, direct, 1e-12);
  EXPECT_NEAR(r.scores[1].mase, direct, 1e-12);
}

TEST(Backtest, FallbackHasIntervalsFromInSampleSeasonalErrors) {
  const auto y = sales(25, 9);
  const auto f = forecast(std::nullopt, 15000, y, 14, 3, 0.9);
  EXPECT_TRUE(f.fallback);
  EXPECT_EQ(f.learner, Learner::SeasonalNaive);
  EXPECT_TRUE(f.candidates.empty());
  for (size_t h = 0; h < 14; ++h) EXPECT_LT(f.lower[h], f.upper[h]);
  EXPECT_THROW(forecast(std::nullopt, 15000, sales(13, 9), 14, 3, 0.9), InvalidParameter);
}

TEST(Backtest, IntervalsBeyondTheBacktestedHorizonKeepWidening) {
  const std::vector<std::vector<double>> residuals{{-1, 1}, {-2, 2}};
  std::vector<double> lo, hi;
  prediction_interval(std::vector<double>(8, 10.0), residuals, 0.9, lo, hi);
  for (size_t s = 1; s < 8; ++s) {
    EXPECT_LE(lo[s], lo[s - 1]);
    EXPECT_GE(hi[s], hi[s - 1]);
  }
  EXPECT_NEAR(hi[7] - 10, (hi[1] - 10) * 2.0, 1e-12);  // sqrt(8 / 2)
}

}  // namespace
}  // namespace insight::forecast
