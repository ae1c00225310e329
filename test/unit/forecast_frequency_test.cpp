// Frequencies (issue 16, item 1): parsing, period numbering, the grid 'auto' infers, and the
// learners, features, payloads and judging at frequencies other than a day.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/forecast/frequency.hpp"
#include "core/forecast/learners.hpp"
#include "core/forecast/series_anomaly.hpp"
#include "core/forecast/series_grid.hpp"
#include "core/forecast/smoothing.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"

namespace insight::forecast {
namespace {

constexpr int64_t kUsecPerHour = 3'600'000'000LL;
constexpr int64_t kUsecPerDay = 24 * kUsecPerHour;

TEST(Frequency, ReadsNamesAndIntervals) {
  EXPECT_EQ(Frequency::from_text("hour"), Frequency::hour());
  EXPECT_EQ(Frequency::from_text("day"), Frequency::day());
  EXPECT_EQ(Frequency::from_text("week"), Frequency::week());
  EXPECT_EQ(Frequency::from_text("month"), Frequency::month());
  EXPECT_EQ(Frequency::from_text("1 hour"), Frequency::hour());
  EXPECT_EQ(Frequency::from_text("60 minutes"), Frequency::hour());
  EXPECT_EQ(Frequency::from_text("24 hours"), Frequency::day());
  EXPECT_EQ(Frequency::from_text("7 days"), Frequency::week());
  EXPECT_EQ(Frequency::from_text("1 Month"), Frequency::month());
  EXPECT_EQ(Frequency::from_text("15 minutes").step_seconds(), 900);
  EXPECT_EQ(Frequency::from_text("6 hours").name(), "6 hours");
  EXPECT_EQ(Frequency::from_text("15 mins").name(), "15 minutes");
  for (const char* bad : {"auto", "fortnight", "", "0 hours", "7 minutes", "5 hours", "90 seconds",
                          "3 days", "2 weeks", "hours of fun", "9999999 minutes"})
    EXPECT_THROW(Frequency::from_text(bad), InvalidParameter) << bad;
  // What name() writes reads back; nothing else does (payload metadata).
  for (const Frequency& f : {Frequency::hour(), Frequency::day(), Frequency::week(),
                             Frequency::month(), Frequency::every(900), Frequency::every(21600)}) {
    ASSERT_TRUE(Frequency::parse(f.name())) << f.name();
    EXPECT_EQ(*Frequency::parse(f.name()), f);
  }
  EXPECT_FALSE(Frequency::parse("60 minutes"));
  EXPECT_FALSE(Frequency::parse("bogus"));
}

TEST(Frequency, SeasonsAndNouns) {
  EXPECT_EQ(Frequency::hour().season(), 24);
  EXPECT_EQ(Frequency::hour().long_season(), 168);
  EXPECT_EQ(Frequency::day().season(), 7);
  EXPECT_EQ(Frequency::week().season(), 52);
  EXPECT_EQ(Frequency::month().season(), 12);
  EXPECT_EQ(Frequency::every(900).season(), 96);
  EXPECT_EQ(Frequency::every(900).period_noun(), "15-minute period");
  EXPECT_EQ(Frequency::every(21600).adjective(), "6-hour");
  EXPECT_EQ(Frequency::hour().adjective(), "hourly");
}

TEST(Frequency, NumbersPeriodsFromTheLocalEpoch) {
  const int64_t day = 19358;  // 2023-01-01, a Sunday
  const int64_t t = day * kUsecPerDay + 13 * kUsecPerHour + 5;
  EXPECT_EQ(Frequency::day().period_of(t), day);
  EXPECT_EQ(Frequency::hour().period_of(t), day * 24 + 13);
  EXPECT_EQ(Frequency::hour().start_usecs(day * 24 + 13), t - 5);
  EXPECT_EQ(Frequency::every(900).period_of(t), day * 96 + 13 * 4);
  // Weeks start on Monday: 2023-01-01 (Sunday) is in the week of Monday 2022-12-26.
  const int64_t w = Frequency::week().period_of(t);
  EXPECT_EQ(Frequency::week().start_day(w), day - 6);
  EXPECT_EQ(weekday(Frequency::week().start_day(w)), 0);
  EXPECT_EQ(Frequency::week().period_of((day + 1) * kUsecPerDay), w + 1);
  // Months: 2023-01 is month (2023 - 1970) · 12.
  EXPECT_EQ(Frequency::month().period_of(t), 53 * 12);
  EXPECT_EQ(Frequency::month().start_day(53 * 12 + 2), days_from_civil(2023, 3, 1));
  // Before 1970: floor, not truncation.
  EXPECT_EQ(Frequency::hour().period_of(-1), -1);
  EXPECT_EQ(Frequency::day().period_of(-1), -1);
  EXPECT_EQ(Frequency::month().period_of(-1), -1);
  EXPECT_EQ(Frequency::month().start_day(-1), days_from_civil(1969, 12, 1));
  EXPECT_EQ(Frequency::week().start_day(Frequency::week().period_of(-1)), -3);
  for (int64_t d : {-719162LL, -1LL, 0LL, 19358LL, 2932896LL})
    EXPECT_EQ(days_from_civil(civil_from_days(d).year, civil_from_days(d).month,
                              civil_from_days(d).day),
              d);
  EXPECT_TRUE(Frequency::month().valid_period(0));
  EXPECT_FALSE(Frequency::month().valid_period(8100 * 12));
  EXPECT_FALSE(Frequency::hour().valid_period(INT64_MAX));
}

TimeFacts facts(uint32_t hours, uint32_t weekdays, uint64_t month_days, bool on_the_hour = true,
                bool month_ends = false) {
  TimeFacts f;
  f.rows = 100;
  f.on_the_hour = on_the_hour;
  f.hours = hours;
  f.weekdays = weekdays;
  f.month_days = month_days;
  f.month_ends = month_ends;
  return f;
}

TEST(Frequency, InfersTheGridTheTimesLieOn) {
  const uint32_t every_hour = (1u << 24) - 1;
  const uint64_t many_days = (uint64_t{1} << 32) - 2;
  EXPECT_EQ(infer(facts(every_hour, 0xFE, many_days)), Frequency::hour());
  EXPECT_EQ(infer(facts((1u << 0) | (1u << 6) | (1u << 12) | (1u << 18), 0xFE, many_days)),
            Frequency::every(6 * 3600));
  // Sales at a few hours of the day (9:00 and 13:00), business hours: events, summed per day.
  EXPECT_FALSE(data_grid(facts((1u << 9) | (1u << 13), 0xFE, many_days)));
  EXPECT_EQ(infer(facts((1u << 9) | (1u << 13), 0xFE, many_days)), Frequency::day());
  EXPECT_FALSE(data_grid(facts(0x3FE00, 0xFE, many_days)));  // 9:00 .. 17:00
  // Once a day at noon: daily.
  EXPECT_EQ(infer(facts(1u << 12, 0xFE, many_days)), Frequency::day());
  EXPECT_EQ(infer(facts(1u, 1u << 1, many_days)), Frequency::week());
  EXPECT_EQ(infer(facts(1u, 0xFE, uint64_t{1} << 1)), Frequency::month());
  EXPECT_EQ(infer(facts(1u, 0xFE, uint64_t{0xF} << 28, true, true)), Frequency::month());
  // Times not on the hour (transactions, minute samples): no grid, summed per day.
  EXPECT_FALSE(data_grid(facts(every_hour, 0xFE, many_days, false)));
  EXPECT_EQ(infer(facts(every_hour, 0xFE, many_days, false)), Frequency::day());
  EXPECT_EQ(infer(TimeFacts{}), Frequency::day());
  // Finer than the grid: empty periods between the rows.
  EXPECT_TRUE(finer_than(Frequency::hour(), facts(1u, 0xFE, many_days)));
  EXPECT_TRUE(finer_than(Frequency::day(), facts(1u, 1u << 1, many_days)));
  EXPECT_TRUE(finer_than(Frequency::week(), facts(1u, 0xFE, uint64_t{1} << 1)));
  EXPECT_TRUE(finer_than(Frequency::every(900), facts(every_hour, 0xFE, many_days)));
  EXPECT_FALSE(finer_than(Frequency::hour(), facts(every_hour, 0xFE, many_days)));
  EXPECT_FALSE(finer_than(Frequency::day(), facts(every_hour, 0xFE, many_days)));
  EXPECT_FALSE(finer_than(Frequency::every(900), facts(every_hour, 0xFE, many_days, false)));
}

TEST(Frequency, HourlyFeaturesSeeTheHourAndTheDayAndWeekBefore) {
  const Frequency h = Frequency::hour();
  const FeatureLayout layout = feature_layout(h);
  EXPECT_EQ(layout.lags[3], 24);
  EXPECT_EQ(layout.lags[4], 168);
  EXPECT_EQ(layout.warmup, 168u);
  std::vector<double> history(168);
  for (size_t i = 0; i < history.size(); ++i) history[i] = static_cast<double>(i);
  double x[kFeatureCount];
  const int64_t period = 19358 * 24 + 168 + 15;  // 2023-01-08 15:00, a Sunday
  features_for_period(SeriesStart(h, period), history, x);
  EXPECT_EQ(x[0], 15);  // step of the day
  EXPECT_EQ(x[1], 6);   // Sunday
  EXPECT_EQ(x[4], 1);   // weekend
  EXPECT_EQ(x[kCalendarFeatures + 0], 167);  // lag 1
  EXPECT_EQ(x[kCalendarFeatures + 3], 144);  // lag 24
  EXPECT_EQ(x[kCalendarFeatures + 4], 0);    // lag 168
  EXPECT_EQ(feature_names(h)[0], "step_of_day");
  EXPECT_EQ(feature_names(h)[kCalendarFeatures + 4], "lag_168");
  EXPECT_EQ(feature_names(Frequency::week())[0], "week_of_year");
  EXPECT_EQ(feature_names(Frequency::month()).back(), "roll12_max");
  // Every frequency's features are finite, from its own warm-up.
  for (const Frequency& f : {Frequency::day(), Frequency::week(), Frequency::month(),
                             Frequency::every(900)}) {
    std::vector<double> past(feature_warmup(f), 3.0);
    features_for_period(SeriesStart(f, 12345), past, x);
    for (double v : x) EXPECT_TRUE(std::isfinite(v)) << f.name();
  }
}

// Hours of a shop from 2023-01-01: a daily shape with noise, closed (zero) from 0:00 to 5:59.
SeriesData hourly_shop(size_t days) {
  Rng rng(7);
  SeriesData s;
  s.first_period = 19358 * 24;
  for (size_t t = 0; t < days * 24; ++t) {
    const size_t hour = t % 24;
    const double noise = 10 * (rng.uniform() - 0.5);
    s.values.push_back(hour < 6 ? 0.0
                                : 50.0 + 30.0 * std::sin(static_cast<double>(hour) / 3.0) + noise);
  }
  return s;
}

TEST(Frequency, HourlyLearnersUseTheDailySeasonAndStayInTheirPayloads) {
  const Frequency h = Frequency::hour();
  const SeriesData s = hourly_shop(40);
  for (Learner l : all_learners()) {
    const auto m = fit_learner(l, SeriesStart(h, s.first_period), s.values);
    const std::vector<double> f = m->forecast(48);
    ASSERT_EQ(f.size(), 48u);
    if (l == Learner::SeasonalNaive) {
      for (size_t k = 0; k < 48; ++k) EXPECT_EQ(f[k], s.values[s.values.size() - 24 + k % 24]);
    } else {
      // The night is closed: the zero rule of the hours that were zero.
      for (size_t k = 0; k < 6; ++k) EXPECT_EQ(f[k], 0.0) << learner_name(l);
    }
    BinaryWriter w;
    m->write(w);
    BinaryReader r(w.bytes().data(), w.bytes().size());
    EXPECT_EQ(read_learner(l, r, h)->forecast(48), f) << learner_name(l);
    // Read as a daily state, the seasons and warm-up do not fit: refused, not misread.
    BinaryReader as_day(w.bytes().data(), w.bytes().size());
    EXPECT_THROW(
        {
          auto back = read_learner(l, as_day, Frequency::day());
          as_day.expect_end();
        },
        CorruptPayload)
        << learner_name(l);
  }
}

TEST(Frequency, ModelsRecordTheirFrequencyAndForecastItsPeriods) {
  TrainOptions o;
  o.frequency = Frequency::hour();
  o.horizon = 48;
  o.folds = 2;
  o.threads = 1;
  TrainSummary summary;
  SeriesData s = hourly_shop(30);
  const int64_t next = s.first_period + static_cast<int64_t>(s.values.size());
  Payload p = train_forecast_payload({s}, false, o, {}, summary);
  EXPECT_EQ(p.meta.at("frequency"), "hour");
  EXPECT_EQ(p.meta.at("last_day"), "2023-01-30 23:00");
  const auto bytes = encode_payload(p);
  const auto m =
      std::dynamic_pointer_cast<const ForecastModel>(load_model(bytes.data(), bytes.size()));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->frequency(), Frequency::hour());
  const auto points = m->forecast(m->series()[0], 30, 0.9);
  ASSERT_EQ(points.size(), 30u);
  EXPECT_EQ(points[0].period, next);
  EXPECT_EQ(points[29].period, next + 29);
  // An unknown frequency in the metadata is a corrupt payload; none at all is a day (0.2.0).
  Payload bad = p;
  bad.meta["frequency"] = "fortnight";
  const auto bad_bytes = encode_payload(bad);
  EXPECT_THROW(load_model(bad_bytes.data(), bad_bytes.size()), CorruptPayload);
  Payload old = p;
  old.meta.erase("frequency");
  const auto old_bytes = encode_payload(old);
  EXPECT_THROW(load_model(old_bytes.data(), old_bytes.size()), CorruptPayload);  // hourly state
  // A series too short for the hourly season: its length in hours.
  try {
    SeriesData tiny = hourly_shop(1);
    tiny.values.resize(20);
    train_forecast_payload({tiny}, false, o, {}, summary);
    FAIL() << "trained on 20 hours";
  } catch (const InvalidParameter& e) {
    EXPECT_EQ(std::string(e.detail()), "1 series, none with at least 31 hours");
  }
}

TEST(Frequency, GridsAndJudgingWorkInPeriods) {
  SeriesGrid grid(false, Frequency::hour(), 1000);
  EXPECT_TRUE(grid.add("", 990, 1.0));
  EXPECT_TRUE(grid.add("", 999, 2.0));
  EXPECT_FALSE(grid.add("", 1000, 3.0));  // the hour in progress
  const auto built = grid.build();
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0].first_period, 990);
  EXPECT_EQ(built[0].values.size(), 10u);
  SeriesGrid too_long(false, Frequency::every(60));
  too_long.add("", 0, 1);
  too_long.add("", kMaxSeriesPeriods, 1);
  EXPECT_THROW(too_long.build(), InvalidParameter);

  // A spike in the last day of an hourly series is judged against its hour.
  SeriesData s = hourly_shop(30);
  s.values[s.values.size() - 5] += 400;
  JudgeOptions jo;
  jo.frequency = Frequency::hour();
  jo.window = 24;
  jo.block = default_block(jo.frequency);
  EXPECT_EQ(jo.block, 24);
  jo.threads = 1;
  const Judgement j = judge_recent({s}, jo);
  ASSERT_EQ(j.series.size(), 1u);
  ASSERT_EQ(j.series[0].points.size(), 24u);
  size_t flagged = 0;
  for (const auto& p : j.series[0].points) flagged += p.anomaly ? 1 : 0;
  EXPECT_TRUE(j.series[0].points[19].anomaly);
  EXPECT_LE(flagged, 3u);
  EXPECT_EQ(j.series[0].points[0].period,
            s.first_period + static_cast<int64_t>(s.values.size()) - 24);
}

}  // namespace
}  // namespace insight::forecast

namespace insight::forecast {
namespace {

TEST(Theta, ExtrapolatesHalfTheTrendAndKeepsASignificantSeason) {
  // A straight line: SES follows it with a lag that the drift of b/2 per step cannot close,
  // but the forecast keeps rising at half the slope.
  std::vector<double> line;
  for (int t = 0; t < 60; ++t) line.push_back(100.0 + 2.0 * t);
  Theta m;
  m.fit(line, 1);
  const std::vector<double> f = m.forecast(10);
  for (size_t h = 1; h < f.size(); ++h) EXPECT_NEAR(f[h] - f[h - 1], 1.0, 1e-9);
  EXPECT_GT(f[0], 200.0);
  // A strong weekly season on a positive series is put back multiplicatively.
  std::vector<double> weekly;
  for (int t = 0; t < 70; ++t) weekly.push_back((t % 7 == 5 || t % 7 == 6 ? 150.0 : 100.0));
  Theta s;
  s.fit(weekly, 7);
  const std::vector<double> g = s.forecast(7);  // steps 70..76: positions 0..6
  EXPECT_NEAR(g[5] / g[0], 1.5, 0.05);
  EXPECT_NEAR(g[6] / g[1], 1.5, 0.05);
  // Its state reads back, and a state of another season is refused.
  BinaryWriter w;
  s.write(w);
  BinaryReader r(w.bytes().data(), w.bytes().size());
  EXPECT_EQ(Theta::read(r, 7).forecast(7), g);
  BinaryReader other(w.bytes().data(), w.bytes().size());
  EXPECT_THROW(Theta::read(other, 24), CorruptPayload);
  EXPECT_THROW(m.fit({1, 2, 3}, 1), InvalidParameter);
}

}  // namespace
}  // namespace insight::forecast

namespace insight::forecast {
namespace {

TEST(SeriesGrid, InterpolatesTheGapsOfMeasurementsAndZeroFillsSums) {
  const auto build = [](GapFill fill, size_t* filled) {
    SeriesGrid grid(true, Frequency::hour(), INT64_MAX, fill);
    grid.add("a", 100, 10.0);
    grid.add("a", 103, 40.0);  // 101, 102 missing
    grid.add("a", 105, 60.0);  // 104 missing
    grid.add("b", 101, 5.0);
    grid.add("b", 102, 7.0);   // b stops reporting: 103..105 after its last period
    return grid.build(filled);
  };
  size_t filled = 0;
  const auto interpolated = build(GapFill::Interpolate, &filled);
  EXPECT_EQ(interpolated[0].values, (std::vector<double>{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(interpolated[1].values, (std::vector<double>{5, 7, 7, 7, 7}));
  EXPECT_EQ(filled, 6u);
  const auto zeros = build(GapFill::Zero, &filled);
  EXPECT_EQ(zeros[0].values, (std::vector<double>{10, 0, 0, 40, 0, 60}));
  EXPECT_EQ(filled, 0u);

  // The nature of the series: a full grid of hours read hourly is telemetry; the same rows read
  // per day, or sales at a few hours of the day, or dates, are sums.
  TimeFacts hourly;
  hourly.rows = 100;
  hourly.hours = (1u << 24) - 1;
  hourly.weekdays = 0xFE;
  hourly.month_days = 0xFFFE;
  EXPECT_EQ(gap_fill_for(Frequency::hour(), hourly), GapFill::Interpolate);
  EXPECT_EQ(gap_fill_for(Frequency::day(), hourly), GapFill::Zero);
  TimeFacts events = hourly;
  events.on_the_hour = false;
  EXPECT_EQ(gap_fill_for(Frequency::hour(), events), GapFill::Zero);
  TimeFacts dates = hourly;
  dates.hours = 1;
  EXPECT_EQ(gap_fill_for(Frequency::day(), dates), GapFill::Zero);
}

}  // namespace
}  // namespace insight::forecast

namespace insight::forecast {
namespace {

double component_sum(const Explanation& e, size_t step) {
  double s = 0;
  for (const Component& c : e) s += c.values[step];
  return s;
}

std::vector<std::string> names(const Explanation& e) {
  std::vector<std::string> out;
  for (const Component& c : e) out.push_back(c.name);
  return out;
}

// explain_forecast: every learner's components add up to its forecast, step by step, at a
// daily and an hourly frequency; a best pair's are its members' means.
TEST(Explain, ComponentsSumToTheForecastForEveryLearner) {
  const SeriesData hourly = hourly_shop(30);
  std::vector<double> daily;
  for (int t = 0; t < 120; ++t) daily.push_back(100 + 0.5 * t + ((t % 7) >= 5 ? 40 : 0) + (t * 37 % 11));
  for (const auto& [start, values] :
       {std::pair{SeriesStart(Frequency::hour(), hourly.first_period), hourly.values},
        std::pair{SeriesStart(19000), daily}}) {
    for (Learner l : all_learners()) {
      const auto m = fit_learner(l, start, values);
      const std::vector<double> f = m->forecast(30);
      const Explanation e = m->explain(30);
      for (const Component& c : e) ASSERT_EQ(c.values.size(), 30u) << c.name;
      for (size_t s = 0; s < 30; ++s)
        EXPECT_NEAR(component_sum(e, s), f[s], 1e-6 * std::max(1.0, std::abs(f[s])))
            << learner_name(l) << " step " << s;
      const auto n = names(e);
      EXPECT_EQ(n[0], "level") << learner_name(l);
      if (l == Learner::HoltWinters || l == Learner::Theta) {
        EXPECT_EQ(std::vector<std::string>(n.begin(), n.begin() + 3),
                  (std::vector<std::string>{"level", "trend", "seasonality"}));
      }
      if (l == Learner::Linear || l == Learner::RandomForest || l == Learner::GradientBoosting) {
        EXPECT_EQ(std::vector<std::string>(n.begin(), n.begin() + 4),
                  (std::vector<std::string>{"level", "calendar", "lags", "rolling"}));
      }
    }
  }
  // The hourly shop is closed at night: the zero rule shows as an adjustment there.
  const auto linear = fit_learner(Learner::Linear, SeriesStart(Frequency::hour(), hourly.first_period),
                                  hourly.values);
  const auto n = names(linear->explain(24));
  EXPECT_NE(std::find(n.begin(), n.end(), "adjustment"), n.end());
  // 'auto' (a best pair): the mean of its members' components, still summing to the forecast.
  const Forecast f = forecast(std::nullopt, 19000, daily, 14, 3, 0.9);
  ASSERT_EQ(f.learner, Learner::BestPair);
  const Explanation e = f.model->explain(14);
  for (size_t s = 0; s < 14; ++s) EXPECT_NEAR(component_sum(e, s), f.value[s], 1e-6 * f.value[s]);
}

}  // namespace
}  // namespace insight::forecast

namespace insight::forecast {
namespace {

// A season longer than the zero rule's 32 bits (96 quarter hours): forecasts far beyond 32
// steps apply the clipping without reading the mask out of its range.
TEST(Frequency, LongSeasonsForecastPastTheZeroRulesBits) {
  const Frequency q = Frequency::every(900);
  std::vector<double> y;
  for (int t = 0; t < 96 * 9; ++t) y.push_back(t % 96 < 20 ? 0.0 : 10.0 + t % 7);
  const auto m = fit_learner(Learner::Linear, SeriesStart(q, 1000 * 96), y);
  const std::vector<double> f = m->forecast(200);
  ASSERT_EQ(f.size(), 200u);
  for (double v : f) EXPECT_GE(v, 0.0);
}

}  // namespace
}  // namespace insight::forecast
