#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/common/random.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/forecast/series_grid.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"
#include "forecast_testing.hpp"

namespace insight::forecast {
namespace {

SeriesData make(const std::string& key, size_t n, uint64_t seed, double level = 100) {
  return weekly_series(key, 15000, n, seed, level, 20, 10);
}

TEST(ForecastModel, GroupedAutoTrainsEverySeriesAndSkipsTooShortOnes) {
  TrainOptions o;
  o.horizon = 7;
  o.threads = 2;
  TrainSummary summary;
  const Payload p = train_forecast_payload(
      {make("b", 120, 1), make("a", 90, 2, 500), make("c", 10, 3), make("d", 30, 4)}, true, o, {},
      summary);
  EXPECT_EQ(p.algorithm, Algorithm::ForecastAuto);
  EXPECT_EQ(summary.series, 3u);
  EXPECT_EQ(summary.skipped_series, 1u);  // "c": 10 days < 14
  EXPECT_EQ(summary.metrics.at("fallback_series").get<int>(), 0);
  EXPECT_TRUE(summary.metrics.contains("candidates"));
  const auto m = reload(p);
  ASSERT_TRUE(m->grouped());
  EXPECT_EQ(m->trained_horizon(), 7);
  EXPECT_EQ(m->trained_folds(), o.folds);
  ASSERT_EQ(m->series().size(), 3u);
  EXPECT_EQ(m->series()[0].key, "a");  // sorted
  EXPECT_EQ(m->find("c"), nullptr);
  EXPECT_EQ(m->find("zz"), nullptr);
  const SeriesFit* a = m->find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->next_period(), 15090);
  const auto f = m->forecast(*a, 10, 0.8);  // beyond the trained horizon of 7
  ASSERT_EQ(f.size(), 10u);
  EXPECT_EQ(f[0].period, 15090);
  for (const auto& pt : f) {
    EXPECT_GT(pt.value, 400);  // group a's level is 500
    EXPECT_LT(pt.value, 600);
    EXPECT_LE(pt.lower, pt.value);
    EXPECT_GE(pt.upper, pt.value);
  }
  // Wider confidence, wider interval.
  const auto g = m->forecast(*a, 10, 0.95);
  EXPECT_GE(g[5].upper - g[5].lower, f[5].upper - f[5].lower);
}

TEST(ForecastModel, ExplicitLearnerTooShortNamesTheGroupAndLength) {
  TrainOptions o;
  o.learner = Learner::Linear;
  TrainSummary summary;
  try {
    train_forecast_payload({make("x", 200, 1), make("y", 50, 2)}, true, o, {}, summary);
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_NE(std::string(e.what()).find("group \"y\""), std::string::npos) << e.what();
    EXPECT_EQ(e.detail(),
              "50 days found, 86 needed (44 to train, then 3 backtest folds of 14 days)");
  }
}

// Found by the series fuzzer: huge finite sums overflowed the learners (infinite splits,
// refused XGBoost labels, states the loader rejected). Beyond ±1e15 they are refused up front,
// by training and by evaluation; a subnormal mean no longer upsets XGBoost's base_score.
TEST(ForecastModel, DailySumsBeyondTheRangeAreRefusedNotOverflowed) {
  TrainOptions o;
  TrainSummary summary;
  for (const double huge : {1.1e15, -1e300, 1.7976931348623157e308}) {
    auto s = make("x", 120, 1);
    s.values[60] = huge;
    try {
      train_forecast_payload({s}, false, o, {}, summary);
      FAIL() << "expected InvalidParameter for " << huge;
    } catch (const InvalidParameter& e) {
      EXPECT_NE(std::string(e.what()).find("beyond"), std::string::npos) << e.what();
    }
    Evaluator ev(std::nullopt, 14, 3, 0.9);
    EXPECT_THROW(ev.add(s.first_period, s.values, {}), InvalidParameter);
  }
  auto edge = make("x", 120, 1);
  edge.values[60] = 1e15;  // the bound itself trains
  EXPECT_NO_THROW(train_forecast_payload({edge}, false, o, {}, summary));
  SeriesData tiny{"", 19000, std::vector<double>(120, 8e-308), {}};
  o.learner = Learner::GradientBoosting;
  EXPECT_NO_THROW(train_forecast_payload({tiny}, false, o, {}, summary));
}

// The daily grid of build_series(): each group from its own first day to the last day of
// all, missing days 0, keys in order; a span beyond 100 years names the group.
TEST(SeriesGrid, ZeroFillsEachGroupUpToTheLastDayOfAll) {
  SeriesGrid grid(true);
  grid.add("b", 20003, 5);
  grid.add("a", 20000, 1);
  grid.add("a", 20002, 3);
  EXPECT_EQ(grid.cells(), 5u);
  const auto series = grid.build();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].key, "a");
  EXPECT_EQ(series[0].first_period, 20000);
  EXPECT_EQ(series[0].values, (std::vector<double>{1, 0, 3, 0}));
  EXPECT_EQ(series[1].key, "b");
  EXPECT_EQ(series[1].values, std::vector<double>{5});
  SeriesGrid wide(true);
  wide.add("old", 0, 1);
  wide.add("new", kMaxSeriesDays, 1);
  try {
    wide.build();
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_NE(std::string(e.what()).find("group \"old\" spans 36526 days"), std::string::npos)
        << e.what();
  }
}

// Only complete days: the day the rows are read on (and any later one) is left out, in every
// group; the series end on the last complete day.
TEST(SeriesGrid, LeavesOutTheDayThatHasNotEnded) {
  SeriesGrid grid(true, Frequency::day(), 20003);
  EXPECT_TRUE(grid.add("a", 20000, 1));
  EXPECT_TRUE(grid.add("a", 20002, 3));
  EXPECT_FALSE(grid.add("a", 20003, 2));  // today: partial
  EXPECT_FALSE(grid.add("b", 20005, 9));  // later
  EXPECT_TRUE(grid.add("b", 20001, 5));
  const auto series = grid.build();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].values, (std::vector<double>{1, 0, 3}));
  EXPECT_EQ(series[1].first_period, 20001);
  EXPECT_EQ(series[1].values, (std::vector<double>{5, 0}));
  SeriesGrid all_today(false, Frequency::day(), 20000);
  EXPECT_FALSE(all_today.add("", 20000, 1));
  EXPECT_TRUE(all_today.empty());
}

TEST(ForecastModel, TrainingIsDeterministicAcrossThreadCounts) {
  TrainOptions o;
  o.horizon = 7;
  TrainSummary s1, s2;
  o.threads = 1;
  const auto one = encode_payload(
      train_forecast_payload({make("a", 120, 1), make("b", 100, 2)}, true, o, {}, s1));
  o.threads = 2;
  const auto two = encode_payload(
      train_forecast_payload({make("a", 120, 1), make("b", 100, 2)}, true, o, {}, s2));
  EXPECT_EQ(one, two);
}

TEST(ForecastModel, EveryTruncationOrFlipIsCorruptNeverACrash) {
  TrainOptions o;
  o.horizon = 3;
  o.folds = 1;
  TrainSummary summary;
  const Payload p =
      train_forecast_payload({make("a", 60, 1), make("b", 20, 2)}, true, o, {}, summary);
  for (size_t cut = 0; cut < p.body.size(); cut += 7) {
    Payload t = p;
    t.body.resize(cut);
    EXPECT_THROW(reload(t), CorruptPayload) << cut;
  }
  // Flipped bytes behind a valid checksum: loads or is refused, never crashes.
  for (size_t i = 0; i < p.body.size(); i += 3) {
    Payload t = p;
    t.body[i] ^= 0x5a;
    try {
      const auto m = reload(t);
      for (const auto& s : m->series()) (void)m->forecast(s, 5, 0.9);
      if (m->total() != nullptr)
        (void)m->forecast_reconciled(5, 0.9, std::vector<std::vector<double>>(m->series().size()));
    } catch (const CorruptPayload&) {
    }
  }
}

TEST(Parallel, RunsEveryItemOnceAndPropagatesTheFirstError) {
  std::vector<std::atomic<int>> hits(100);
  parallel_for(100, 2, [&](size_t i, const InterruptCheck&) { hits[i]++; }, {});
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  EXPECT_THROW(parallel_for(100, 2,
                            [&](size_t i, const InterruptCheck&) {
                              if (i == 50) throw InvalidParameter("item 50");
                            },
                            {}),
               InvalidParameter);
}

TEST(Parallel, ACallerCancelStopsWorkersAtTheirNextPoll) {
  struct Cancelled {};
  std::atomic<int> started{0};
  int checks = 0;
  EXPECT_THROW(parallel_for(
                   1000, 2,
                   [&](size_t, const InterruptCheck& poll_worker) {
                     ++started;
                     for (;;) {  // would run forever without the stop
                       std::this_thread::sleep_for(std::chrono::milliseconds(1));
                       poll_worker();
                     }
                   },
                   [&] {
                     if (++checks == 3) throw Cancelled{};
                   }),
               Cancelled);
  EXPECT_LE(started.load(), 2);
}

}  // namespace
}  // namespace insight::forecast
