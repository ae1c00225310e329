#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/forecast/backtest.hpp"

namespace insight::forecast {
namespace {

std::vector<double> series_with(size_t n, double slope, double noise, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> y(n);
  for (size_t t = 0; t < n; ++t)
    y[t] = 100 + slope * static_cast<double>(t) + 15 * ((t % 7) >= 5 ? 1 : 0) +
           noise * (rng.uniform() - 0.5);
  return y;
}

TEST(Backtest, SeasonalNaiveIsExactOnAPureWeeklyPattern) {
  const auto y = series_with(70, 0.0, 0.0, 1);
  const auto s = backtest(Learner::SeasonalNaive, 19000, y, 14, 3);
  EXPECT_DOUBLE_EQ(s.mae, 0.0);
  EXPECT_DOUBLE_EQ(s.mase, 0.0);
  ASSERT_EQ(s.residuals.size(), 14u);
  EXPECT_EQ(s.residuals[0].size(), 3u);
}

TEST(Backtest, AutoAveragesTheTwoSingleLearnersWithTheLowestMase) {
  const auto y = series_with(200, 0.5, 4.0, 2);
  const auto f = forecast(std::nullopt, 19000, y, 14, 3, 0.9);
  // Every learner, the combination, and the best pair.
  ASSERT_EQ(f.candidates.size(), all_learners().size() + 1);
  std::vector<const BacktestScore*> singles;
  for (const auto& c : f.candidates)
    if (!is_average(c.learner)) singles.push_back(&c);
  std::stable_sort(singles.begin(), singles.end(),
                   [](const BacktestScore* a, const BacktestScore* b) { return a->mase < b->mase; });
  EXPECT_EQ(f.learner, Learner::BestPair);
  EXPECT_EQ(f.candidates.back().learner, Learner::BestPair);
  // Its forecast is the mean of the two best singles, each fitted on the whole series.
  const auto a = fit_and_forecast(singles[0]->learner, 19000, y, 14);
  const auto b = fit_and_forecast(singles[1]->learner, 19000, y, 14);
  ASSERT_EQ(f.value.size(), 14u);
  for (size_t h = 0; h < 14; ++h) EXPECT_NEAR(f.value[h], std::max(0.0, (a[h] + b[h]) / 2), 1e-9);
  // Its backtest is the mean of theirs, fold by fold.
  const BacktestScore& pair = f.candidates.back();
  for (size_t k = 0; k < pair.predicted.size(); ++k)
    for (size_t h = 0; h < 14; ++h)
      EXPECT_NEAR(pair.predicted[k][h],
                  std::max(0.0, (singles[0]->predicted[k][h] + singles[1]->predicted[k][h]) / 2),
                  1e-9);
  // With one learner long enough, that one alone.
  const auto short_series = series_with(21, 0.5, 4.0, 2);
  EXPECT_EQ(forecast(std::nullopt, 19000, short_series, 7, 2, 0.9).learner,
            Learner::SeasonalNaive);
}

TEST(Backtest, ShortSeriesFallBackToSeasonalNaiveUnderAuto) {
  const auto y = series_with(20, 0.0, 1.0, 3);
  const auto f = forecast(std::nullopt, 19000, y, 7, 1, 0.9);
  // Only the learners that need little history are backtested: seasonal naive (7 days) and
  // theta (8); their pair is the forecast.
  ASSERT_EQ(f.candidates.size(), 3u);
  EXPECT_EQ(f.candidates[0].learner, Learner::SeasonalNaive);
  EXPECT_EQ(f.candidates[1].learner, Learner::Theta);
  EXPECT_EQ(f.learner, Learner::BestPair);
  EXPECT_FALSE(f.fallback);
  // Too short to backtest either: seasonal naive without a backtest, its intervals from the
  // in-sample errors.
  const auto fallback = forecast(std::nullopt, 19000, y, 7, 2, 0.9);
  EXPECT_TRUE(fallback.fallback);
  EXPECT_EQ(fallback.learner, Learner::SeasonalNaive);
  EXPECT_TRUE(fallback.candidates.empty());
  try {
    forecast(Learner::Linear, 19000, y, 7, 1, 0.9);
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_EQ(e.detail(), "20 days found, 51 needed (44 to train, then 1 folds of 7 days)");
  }
  EXPECT_THROW(forecast(std::nullopt, 19000, std::vector<double>(5, 1.0), 7, 1, 0.9),
               InvalidParameter);
}

TEST(Backtest, IntervalsContainTheForecastAndWiden) {
  const auto y = series_with(300, 0.2, 10.0, 4);
  const auto f = forecast(Learner::HoltWinters, 19000, y, 14, 10, 0.9);
  for (size_t h = 0; h < 14; ++h) {
    EXPECT_LE(f.lower[h], f.value[h]);
    EXPECT_GE(f.upper[h], f.value[h]);
    if (h > 0) {
      EXPECT_GE(f.upper[h] - f.value[h], f.upper[h - 1] - f.value[h - 1] - 1e-12);
      EXPECT_GE(f.value[h] - f.lower[h], f.value[h - 1] - f.lower[h - 1] - 1e-12);
    }
  }
}

TEST(Backtest, IntervalCoverageIsNearTheConfidence) {
  // Stationary noisy series: over many independent series, the share of future values
  // inside the 90 % interval should be near 0.9.
  size_t inside = 0, total = 0;
  for (uint64_t seed = 10; seed < 40; ++seed) {
    const auto all = series_with(214, 0.0, 20.0, seed);
    const std::vector<double> train(all.begin(), all.begin() + 200),
        test(all.begin() + 200, all.end());
    const auto f = forecast(Learner::SeasonalNaive, 19000, train, 14, 12, 0.9);
    for (size_t h = 0; h < 14; ++h) {
      inside += test[h] >= f.lower[h] && test[h] <= f.upper[h];
      ++total;
    }
  }
  const double coverage = static_cast<double>(inside) / static_cast<double>(total);
  EXPECT_GT(coverage, 0.8);
  EXPECT_LT(coverage, 0.98);
}

TEST(Backtest, BadParameters) {
  const auto y = series_with(100, 0.0, 1.0, 5);
  EXPECT_THROW(forecast(std::nullopt, 0, y, 0, 3, 0.9), InvalidParameter);
  EXPECT_THROW(forecast(std::nullopt, 0, y, 367, 3, 0.9), InvalidParameter);
  EXPECT_THROW(forecast(std::nullopt, 0, y, 7, 0, 0.9), InvalidParameter);
  EXPECT_THROW(forecast(std::nullopt, 0, y, 7, 3, 0.0), InvalidParameter);
  EXPECT_THROW(forecast(std::nullopt, 0, y, 7, 3, 1.0), InvalidParameter);
  EXPECT_EQ(learner_from_name("holt_winters"), Learner::HoltWinters);
  EXPECT_FALSE(learner_from_name("prophet").has_value());
}

}  // namespace
}  // namespace insight::forecast
