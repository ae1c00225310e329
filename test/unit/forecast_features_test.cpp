#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/metrics.hpp"
#include "core/forecast/ridge.hpp"
#include "core/forecast/smoothing.hpp"

namespace insight::forecast {
namespace {

TEST(Calendar, KnownDates) {
  const auto epoch = civil_from_days(0);
  EXPECT_EQ(epoch.year, 1970);
  EXPECT_EQ(epoch.month, 1);
  EXPECT_EQ(epoch.day, 1);
  EXPECT_EQ(weekday(0), 3);               // Thursday
  const auto d = civil_from_days(19358);  // 2023-01-01, a Sunday
  EXPECT_EQ(d.year, 2023);
  EXPECT_EQ(d.month, 1);
  EXPECT_EQ(d.day, 1);
  EXPECT_EQ(weekday(19358), 6);
  const auto leap = civil_from_days(19417);  // 2023-03-01: day after 2023-02-28
  EXPECT_EQ(leap.month, 3);
  EXPECT_EQ(leap.day, 1);
  EXPECT_EQ(civil_from_days(-1).year, 1969);
}

TEST(Features, CalendarAndHistoryValues) {
  std::vector<double> history(30);
  for (size_t i = 0; i < 30; ++i) history[i] = static_cast<double>(i);
  double x[kFeatureCount];
  features_for_period(19358 + 30, history, x);  // 2023-01-31, a Tuesday, last day of the month
  EXPECT_EQ(x[0], 1);                        // Tuesday
  EXPECT_EQ(x[1], 31);
  EXPECT_EQ(x[2], 1);
  EXPECT_EQ(x[4], 0);  // not weekend
  EXPECT_EQ(x[5], 0);
  EXPECT_EQ(x[6], 1);                       // month end
  EXPECT_EQ(x[kCalendarFeatures + 0], 29);  // lag 1
  EXPECT_EQ(x[kCalendarFeatures + 3], 23);  // lag 7
  EXPECT_EQ(x[kCalendarFeatures + 4], 16);  // lag 14
  const size_t roll7 = kCalendarFeatures + kLagCount;
  EXPECT_DOUBLE_EQ(x[roll7 + 0], 26.0);   // mean of 23..29
  EXPECT_DOUBLE_EQ(x[roll7 + 2], 23.0);   // min
  EXPECT_DOUBLE_EQ(x[roll7 + 3], 29.0);   // max
  EXPECT_NEAR(x[roll7 + 1], 2.0, 1e-12);  // population std of 7 consecutive integers
  EXPECT_EQ(feature_names()[kCalendarFeatures], "lag_1");
  EXPECT_EQ(feature_names().back(), "roll30_max");
}

TEST(Features, TrainingRowsNeverSeeTheirOwnDay) {
  std::vector<double> series(60);
  for (size_t i = 0; i < 60; ++i) series[i] = std::sin(0.3 * static_cast<double>(i)) * 10 + i;
  std::vector<double> X, y;
  build_training_rows(100, series, X, y);
  ASSERT_EQ(y.size(), 30u);
  for (size_t r = 0; r < y.size(); ++r) {
    const size_t t = feature_warmup(Frequency::day()) + r;
    std::vector<double> past(series.begin(), series.begin() + static_cast<long>(t));
    double x[kFeatureCount];
    features_for_period(100 + static_cast<int64_t>(t), past, x);
    for (size_t j = 0; j < kFeatureCount; ++j) EXPECT_EQ(X[r * kFeatureCount + j], x[j]);
    EXPECT_EQ(y[r], series[t]);
  }
}

// A model of lags whose weights add up to more than one (here 1.5 × lag 1) feeds its own
// predictions into a geometric blow-up; the recursion holds it within the history's range
// widened by its width and a straight line's slope, while a straight line itself goes on.
TEST(Features, RecursiveForecastsDoNotRunAway) {
  const size_t warmup = feature_warmup(Frequency::day());
  std::vector<double> history(warmup);
  for (size_t i = 0; i < warmup; ++i) history[i] = 100 + static_cast<double>(i % 7);  // 100..106
  const SeriesStart next(Frequency::day(), 19358);
  const double width = 6, slope = width / static_cast<double>(warmup - 1);
  auto reach = [&](size_t h) { return width + slope * static_cast<double>(h); };
  // Growing (1.5 × lag 1) and oscillating (−1.5 × lag 1: the lower bound binds too).
  for (double weight : {1.5, -1.5}) {
    auto explode = [weight](const double* x) { return weight * x[kCalendarFeatures]; };
    const std::vector<double> f =
        forecast_recursive(next, history, 60, explode);
    for (size_t h = 0; h < f.size(); ++h) {
      EXPECT_LE(f[h], 106 + reach(h) + 1e-9) << weight << " step " << h;
      EXPECT_GE(f[h], 100 - reach(h) - 1e-9) << weight << " step " << h;
    }
    if (weight > 0) {
      EXPECT_DOUBLE_EQ(f.back(), 106 + reach(59));  // held at the upper bound
    } else {
      EXPECT_DOUBLE_EQ(f[0], 100 - reach(0));  // −1.5 × 101 held at the lower one
    }
    // explain_recursive() follows the same recursion; what the bound held back is "adjustment".
    const Explanation e = explain_recursive(next, history, 60, explode);
    ASSERT_EQ(e.back().name, "adjustment");
    for (size_t h = 0; h < f.size(); ++h) {
      double sum = 0;
      for (const Component& c : e) sum += c.values[h];
      EXPECT_NEAR(sum, f[h], 1e-9 * std::abs(f[h])) << weight << " step " << h;
    }
  }
  // A straight line (each value the last plus one) is never held back.
  std::vector<double> line(warmup);
  for (size_t i = 0; i < warmup; ++i) line[i] = static_cast<double>(i);
  auto step = [](const double* x) { return x[kCalendarFeatures] + 1; };
  const std::vector<double> g = forecast_recursive(next, line, 60, step);
  for (size_t h = 0; h < g.size(); ++h)
    EXPECT_DOUBLE_EQ(g[h], static_cast<double>(warmup + h)) << h;
  EXPECT_EQ(explain_recursive(next, line, 60, step).back().name, "rolling");
}

TEST(Ridge, ForecastsAWeeklyPatternWithNoise) {
  Rng rng(4);
  std::vector<double> all;
  for (int t = 0; t < 154; ++t)
    all.push_back(50 + 20 * (t % 7 >= 5 ? 1 : 0) + 0.2 * t + 4 * (rng.uniform() - 0.5));
  const std::vector<double> train(all.begin(), all.begin() + 140),
      test(all.begin() + 140, all.end());
  RidgeForecaster ridge;
  ridge.fit(19000, train, 0.01);
  const auto f = ridge.forecast(14);
  ASSERT_EQ(f.size(), 14u);
  SeasonalNaive sn;
  sn.fit(train);
  EXPECT_LT(mae(test, f), 3.0);  // the noise alone is ±2
  EXPECT_LT(mae(test, f), mae(test, sn.forecast(14)) + 1.0);
  // Deterministic.
  RidgeForecaster again;
  again.fit(19000, train, 0.01);
  EXPECT_EQ(again.forecast(14), f);
}

TEST(Ridge, TooShortAndBadValues) {
  RidgeForecaster ridge;
  try {
    ridge.fit(0, std::vector<double>(40, 1.0));
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_EQ(e.detail(), "40 periods found, linear needs 44");
  }
  std::vector<double> bad(60, 1.0);
  bad[10] = HUGE_VAL;
  EXPECT_THROW(ridge.fit(0, bad), InvalidParameter);
  // A constant series: every feature but the calendar is constant; the forecast is the level.
  ridge.fit(0, std::vector<double>(60, 7.0));
  for (double v : ridge.forecast(5)) EXPECT_NEAR(v, 7.0, 1e-6);
}

}  // namespace
}  // namespace insight::forecast
