#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/forecast/series_anomaly.hpp"

namespace insight::forecast {
namespace {

// A weekly pattern (weekends higher) with uniform noise of the given width.
SeriesData weekly(const std::string& key, size_t days, double noise, uint64_t seed) {
  Rng rng(seed);
  SeriesData s{key, 19000, std::vector<double>(days), {}};
  for (size_t t = 0; t < days; ++t)
    s.values[t] = 100 + 30 * ((t % 7) >= 5 ? 1 : 0) + noise * (rng.uniform() - 0.5);
  return s;
}

TEST(SeriesAnomaly, ScoreIsTheDistanceInUnitsOfTheBoundOnTheValuesSide) {
  EXPECT_DOUBLE_EQ(anomaly_score(100, 100, 90, 120), 0.0);
  EXPECT_DOUBLE_EQ(anomaly_score(110, 100, 90, 120), 0.5);  // upper side: 10 of 20
  EXPECT_DOUBLE_EQ(anomaly_score(95, 100, 90, 120), 0.5);   // lower side: 5 of 10
  EXPECT_DOUBLE_EQ(anomaly_score(120, 100, 90, 120), 1.0);  // on the bound
  EXPECT_DOUBLE_EQ(anomaly_score(70, 100, 90, 120), 3.0);   // 30 below, bound 10 below
  EXPECT_GT(anomaly_score(101, 100, 100, 100), 1e6);        // a zero-width interval
  EXPECT_TRUE(std::isfinite(anomaly_score(101, 100, 100, 100)));
}

TEST(SeriesAnomaly, ASpikeInTheWindowIsFlaggedFarOutsideAndTheOrdinaryDaysAtMostOnTheEdge) {
  SeriesData s = weekly("", 140, 4.0, 7);
  s.values[136] += 150;  // two days before the end
  JudgeOptions o;
  o.window = 7;
  o.confidence = 0.99;
  o.threads = 1;
  const Judgement j = judge_recent({s}, o);
  ASSERT_EQ(j.series.size(), 1u);
  EXPECT_EQ(j.skipped, 0u);
  const auto& days = j.series[0].points;
  ASSERT_EQ(days.size(), 7u);
  for (size_t i = 0; i < days.size(); ++i) {
    EXPECT_EQ(days[i].period, 19000 + 133 + static_cast<int64_t>(i));
    EXPECT_DOUBLE_EQ(days[i].value, s.values[133 + i]);
    EXPECT_LE(days[i].lower, days[i].expected);
    EXPECT_GE(days[i].upper, days[i].expected);
    EXPECT_EQ(days[i].anomaly, days[i].score > 1.0) << "day " << i;
    // The spike lies far outside its interval; an ordinary day at most on its edge. The band is
    // at least z·RMS of the backtest errors (forecast error and noise together, about ±3 here);
    // at 0.99 about one ordinary day in a hundred lands just past it — day 6 does, by 0.02
    // (a forecast 1 low and noise of +1.98) — without the detector being wrong.
    if (133 + i == 136) {
      EXPECT_TRUE(days[i].anomaly);
      EXPECT_GT(days[i].score, 5.0);
    } else {
      EXPECT_LT(days[i].score, 1.2) << "day " << i << " value " << days[i].value << " in ["
                                    << days[i].lower << ", " << days[i].upper << "]";
    }
  }
}

TEST(SeriesAnomaly, ALongWindowIsForecastInBlocksFromOriginsInsideIt) {
  SeriesData s = weekly("", 200, 4.0, 3);
  s.values[160] -= 100;  // a drop early in a 30-day window
  JudgeOptions o;
  o.window = 30;
  o.block = 7;
  o.threads = 2;
  const Judgement j = judge_recent({s}, o);
  const auto& days = j.series.at(0).points;
  ASSERT_EQ(days.size(), 30u);
  EXPECT_EQ(days.front().period, 19000 + 170);
  EXPECT_EQ(days.back().period, 19000 + 199);
  // The drop lies before the window: it is history. A drop inside it is judged.
  s.values[185] -= 100;
  const Judgement k = judge_recent({s}, o);
  EXPECT_TRUE(k.series.at(0).points[15].anomaly);
  // Days after the drop come from an origin after it... and a model that saw it, but their
  // own values are ordinary: most of them are not flagged.
  size_t flagged = 0;
  for (const auto& d : k.series.at(0).points) flagged += d.anomaly ? 1 : 0;
  EXPECT_LE(flagged, 3u);
}

TEST(SeriesAnomaly, SeriesTooShortAreSkippedAndAllTooShortIsAnError) {
  const SeriesData long_one = weekly("a", 60, 2.0, 1), short_one = weekly("b", 20, 2.0, 2);
  JudgeOptions o;
  o.window = 7;
  o.threads = 1;
  const Judgement j = judge_recent({long_one, short_one}, o);
  ASSERT_EQ(j.series.size(), 1u);
  EXPECT_EQ(j.series[0].key, "a");
  EXPECT_EQ(j.skipped, 1u);
  try {
    judge_recent({short_one}, o);
    FAIL() << "no error";
  } catch (const InvalidParameter& e) {
    EXPECT_STREQ(e.what(), "every series is too short to judge its last 7 days");
    EXPECT_EQ(e.detail(),
              "1 series, the longest of 20 days; 21 needed (14 days of history before the window)");
  }
}

TEST(SeriesAnomaly, OutOfRangeOptionsAreInvalid) {
  const SeriesData s = weekly("", 60, 2.0, 1);
  JudgeOptions o;
  o.window = 0;
  EXPECT_THROW(judge_recent({s}, o), InvalidParameter);
  o.window = 367;
  EXPECT_THROW(judge_recent({s}, o), InvalidParameter);
  o.window = 7;
  o.block = 0;
  EXPECT_THROW(judge_recent({s}, o), InvalidParameter);
  o.block = 7;
  o.confidence = 1.0;
  EXPECT_THROW(judge_recent({s}, o), InvalidParameter);
}

}  // namespace
}  // namespace insight::forecast

namespace insight::forecast {
namespace {

// Sums beyond ±1e15 once reached the random forest as non-finite splits (XX001 from
// detect_series_anomalies; found by the series fuzzer): judging refuses them as training does.
TEST(SeriesAnomaly, SumsBeyondTheLearnersRangeAreRefused) {
  SeriesData s;
  s.key = "a";
  s.first_period = 19000;
  for (int t = 0; t < 60; ++t) s.values.push_back(t == 30 ? 1e300 : 10.0 + t % 7);
  JudgeOptions o;
  o.grouped = true;
  o.threads = 1;
  try {
    judge_recent({s}, o);
    FAIL() << "judged sums of 1e300";
  } catch (const InvalidParameter& e) {
    EXPECT_EQ(std::string(e.what()), "the daily sums of group \"a\" are not finite or beyond ±1e15");
  }
}

}  // namespace
}  // namespace insight::forecast
