// Regressors and holidays (covariates.hpp): the calendar's counts at every frequency, the
// effects' estimates, forecasts and backtests that use them, payloads that keep them, and
// explanations with a component per regressor and one for the holidays.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/forecast/backtest.hpp"
#include "core/forecast/covariates.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/forecast/metrics.hpp"
#include "core/forecast/series_grid.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"
#include "forecast_testing.hpp"

namespace insight::forecast {
namespace {

constexpr int64_t kFirst = 19000;  // 2022-01-08, a Saturday

// A daily series with a weekly season, a promotion flag on two days of every ten (+40 each),
// and a holiday "Closing" every 30 days (−90), with noise. The promotion and the holidays are
// also where the forecast horizon lies: days n .. n + extra − 1 of the covariates.
struct Synthetic {
  std::vector<double> values;
  std::vector<double> promo;  // per day, through the extra days
  HolidayCalendar holidays;
  CovariateSpec spec;
  Covariates covariates;  // of every day, values and extra
};

Synthetic synthetic(size_t n, size_t extra, uint64_t seed, double noise = 6) {
  Rng rng(seed);
  Synthetic s;
  std::vector<std::pair<int64_t, std::string>> rows;
  for (size_t t = 0; t < n + extra; ++t) {
    const bool promo = t % 10 == 3 || t % 10 == 4;
    const bool holiday = t % 30 == 17;
    s.promo.push_back(promo ? 1 : 0);
    if (holiday) rows.emplace_back(kFirst + static_cast<int64_t>(t), "Closing");
    if (t < n)
      s.values.push_back(200 + 30 * ((t % 7) >= 5 ? 1 : 0) + (promo ? 40 : 0) - (holiday ? 90 : 0) +
                         noise * (rng.uniform() - 0.5));
  }
  rows.emplace_back(kFirst + 100000, "Never seen");  // a name without a day in the data
  s.holidays = HolidayCalendar::from_rows(rows);
  s.spec.regressors = {"promo"};
  s.spec.holidays = s.holidays;
  s.covariates = make_covariates(s.spec, SeriesStart(kFirst), n + extra, s.promo);
  return s;
}

TEST(Holidays, CountsTheNamedDaysOfEachPeriodAtEveryFrequency) {
  // 2024-12-25 (Wednesday) and 2024-12-26, twice listed; 2025-01-01.
  const int64_t xmas = days_from_civil(2024, 12, 25);
  const auto c = HolidayCalendar::from_rows({{xmas, "Christmas"},
                                             {xmas + 1, "Boxing Day"},
                                             {xmas, "Christmas"},
                                             {days_from_civil(2025, 1, 1), "New Year"}});
  EXPECT_EQ(c.names(), (std::vector<std::string>{"Boxing Day", "Christmas", "New Year"}));
  EXPECT_EQ(c.days(), 3u);  // the duplicate is one day
  double out[3];
  c.counts(Frequency::day(), xmas, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{0, 1, 0}));
  c.counts(Frequency::day(), xmas - 1, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{0, 0, 0}));
  // Every hour of the day is the holiday.
  const Frequency hour = Frequency::hour();
  c.counts(hour, (xmas + 1) * 24 + 13, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{1, 0, 0}));
  c.counts(hour, xmas * 24 - 1, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{0, 0, 0}));
  // The ISO week of Monday 2024-12-23 holds both; December 2024 both, January 2025 one.
  const Frequency week = Frequency::week();
  const int64_t w = week.period_of(xmas * 86'400'000'000LL);
  EXPECT_EQ(week.start_day(w), days_from_civil(2024, 12, 23));
  c.counts(week, w, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{1, 1, 0}));
  c.counts(week, w + 1, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{0, 0, 1}));
  const Frequency month = Frequency::month();
  const int64_t dec = month.period_of(xmas * 86'400'000'000LL);
  c.counts(month, dec, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{1, 1, 0}));
  c.counts(month, dec + 1, out);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{0, 0, 1}));
}

TEST(Holidays, RefusesEmptyNamesDaysOffTheCalendarAndTooManyNames) {
  EXPECT_THROW(HolidayCalendar::from_rows({{19000, ""}}), InvalidParameter);
  EXPECT_THROW(HolidayCalendar::from_rows({{kLastDay + 1, "x"}}), InvalidParameter);
  std::vector<std::pair<int64_t, std::string>> many;
  for (size_t i = 0; i <= kMaxHolidayNames; ++i) many.emplace_back(19000, "h" + std::to_string(i));
  EXPECT_THROW(HolidayCalendar::from_rows(many), InvalidParameter);
  many.pop_back();
  EXPECT_EQ(HolidayCalendar::from_rows(many).names().size(), kMaxHolidayNames);
}

TEST(Effects, RecoverAPromotionAndAHolidayAndGiveAnUnseenHolidayWhatHolidaysShare) {
  const Synthetic s = synthetic(400, 0, 1);
  const Effects e = Effects::fit(s.values, s.covariates, 7);
  ASSERT_EQ(e.beta().size(), 4u);  // promo, "Closing", "Never seen", any holiday
  EXPECT_NEAR(e.beta()[0], 40, 2.0);
  // The one holiday seen: its effect is what holidays share, its own deviation about 0.
  EXPECT_NEAR(e.holiday_effect(s.spec, 0), -90, 6.0);
  EXPECT_NEAR(e.beta()[3], -90, 6.0);
  // A name never seen has no deviation: it gets what holidays share.
  EXPECT_EQ(e.beta()[2], 0.0);
  EXPECT_EQ(e.holiday_effect(s.spec, 1), e.beta()[3]);
  // What is left has no promotion or holiday in it: the day before a closing is like the day.
  const std::vector<double> adjusted = e.remove(s.values, s.covariates);
  EXPECT_NEAR(adjusted[17] - adjusted[17 - 7], 0, 15);
  EXPECT_NEAR(adjusted[13] - adjusted[13 - 7], 0, 15);
}

TEST(Effects, KeepAnOrdinarySeriesAsItIsWithoutInformation) {
  // No covariate ever changes: every effect is 0 and the series is left as it is.
  Covariates flat;
  flat.width = 2;
  flat.regressors = 1;
  flat.values.assign(2 * 100, 0.0);
  for (size_t t = 0; t < 100; ++t) flat.values[2 * t] = 5;  // a constant price
  std::vector<double> y(100);
  for (size_t t = 0; t < 100; ++t) y[t] = static_cast<double>(t % 7);
  const Effects e = Effects::fit(y, flat, 7);
  EXPECT_EQ(e.beta(), (std::vector<double>{0, 0}));
  EXPECT_EQ(e.remove(y, flat), y);
  // A price of 1e15 that moves by a unit or two in its last digits: rounding, not information.
  // Its effect stays 0 (fitted on such changes, a future price of 0 would move the forecast by
  // the effect times 1e15).
  Covariates rounding = flat;
  for (size_t t = 0; t < 100; ++t) rounding.values[2 * t] = 1e15 + static_cast<double>(t % 3);
  EXPECT_EQ(Effects::fit(y, rounding, 7).beta()[0], 0.0);
}

TEST(Effects, ForecastsWithCovariatesBeatForecastsWithout) {
  // Every learner, on the 28 days after 400: with the covariates it knows the promotions and
  // the closing ahead; without, it cannot.
  const size_t n = 400, h = 28;
  const Synthetic s = synthetic(n, h, 2);
  const Synthetic truth = synthetic(n + h, 0, 2);  // same seed: the same first n days
  const std::vector<double> actual(truth.values.begin() + n, truth.values.end());
  for (Learner l : {Learner::SeasonalNaive, Learner::HoltWinters, Learner::Theta, Learner::Linear,
                    Learner::RandomForest, Learner::GradientBoosting}) {
    const auto with = fit_and_forecast(l, kFirst, s.values, static_cast<int>(h), {}, &s.covariates);
    const auto without = fit_and_forecast(l, kFirst, s.values, static_cast<int>(h));
    EXPECT_LT(mae(actual, with), 0.5 * mae(actual, without)) << learner_name(l);
  }
  // 'auto' backtests with them too, and its forecast gets their effects.
  const Forecast f =
      forecast(std::nullopt, kFirst, s.values, static_cast<int>(h), 3, 0.9, {}, &s.covariates);
  ASSERT_EQ(f.value.size(), h);
  EXPECT_LT(mae(actual, f.value), 8.0);
  // Covariates that stop at the series: no forecast, but a model (training's case).
  Covariates past = s.covariates;
  past.values.resize(n * past.width);
  const Forecast g = forecast(std::nullopt, kFirst, s.values, 14, 3, 0.9, {}, &past);
  EXPECT_TRUE(g.value.empty());
  ASSERT_NE(g.model, nullptr);
}

SeriesData with_regressors(const std::string& key, const Synthetic& s) {
  SeriesData d;
  d.key = key;
  d.first_period = kFirst;
  d.values = s.values;
  d.regressors.assign(s.promo.begin(), s.promo.begin() + static_cast<long>(s.values.size()));
  return d;
}

TEST(ForecastModel, KeepsCovariatesInItsPayloadAndNeedsFutureRegressors) {
  const size_t n = 300, h = 20;
  const Synthetic s = synthetic(n, h, 3);
  TrainOptions o;
  o.horizon = static_cast<int>(h);
  o.covariates = s.spec;
  TrainSummary summary;
  const Payload p = train_forecast_payload({with_regressors("a", s), with_regressors("b", s)}, true,
                                           o, {}, summary);
  EXPECT_NEAR(summary.metrics.at("regressor_effects").at("promo").get<double>(), 40, 3);
  EXPECT_NEAR(summary.metrics.at("holiday_effects").at("Closing").get<double>(), -90, 8);
  EXPECT_EQ(summary.metrics.at("holiday_days").get<size_t>(), 12u);  // 11 closings, 1 unseen
  const auto m = reload(p);
  EXPECT_EQ(m->covariates().regressors, s.spec.regressors);
  EXPECT_EQ(m->covariates().holidays.names(), s.holidays.names());
  const SeriesFit* a = m->find("a");
  ASSERT_NE(a, nullptr);
  const std::vector<double> future(s.promo.begin() + n, s.promo.end());
  const auto points = m->forecast(*a, static_cast<int>(h), 0.9, future);
  ASSERT_EQ(points.size(), h);
  // Day n + 3 (t % 10 == 3) is a promotion day; n + 17 (t % 30 == 17) is a closing.
  EXPECT_EQ((n + 3) % 10, 3u);
  EXPECT_EQ((n + 17) % 30, 17u);
  EXPECT_GT(points[3].value - points[2].value, 20);    // a promotion over the weekday before
  EXPECT_LT(points[17].value, points[16].value - 60);  // a closing (both weekdays)
  EXPECT_THROW(m->forecast(*a, static_cast<int>(h), 0.9), InvalidParameter);
  EXPECT_THROW(m->forecast(*a, static_cast<int>(h), 0.9, {1, 2}), InvalidParameter);
  // The explanation has the promotion and the holiday, and sums to the forecast.
  const Explanation e = m->explain(*a, static_cast<int>(h), future);
  bool promo = false, holiday = false;
  for (const Component& c : e) {
    promo = promo || c.name == "promo";
    holiday = holiday || c.name == "holiday";
  }
  EXPECT_TRUE(promo);
  EXPECT_TRUE(holiday);
  for (size_t t = 0; t < h; ++t) {
    double sum = 0;
    for (const Component& c : e) sum += c.values[t];
    EXPECT_NEAR(sum, points[t].value, 1e-6 * std::max(1.0, std::abs(points[t].value)));
  }
  for (const Component& c : e) {
    if (c.name == "holiday") {
      EXPECT_LT(c.values[17], -60);
    }
  }
}

TEST(ForecastModel, HolidaysAloneNeedNoFutureValues) {
  const size_t n = 300;
  const Synthetic s = synthetic(n, 60, 4);
  TrainOptions o;
  o.covariates.holidays = s.holidays;
  SeriesData d;
  d.first_period = kFirst;
  d.values = s.values;
  TrainSummary summary;
  const auto m = reload(train_forecast_payload({d}, false, o, {}, summary));
  EXPECT_FALSE(summary.metrics.contains("regressor_effects"));
  const auto points = m->forecast(m->series()[0], 20, 0.9);
  EXPECT_LT(points[17].value, points[16].value - 60);  // day 317: a closing
  // A holiday name first seen in the future gets what holidays share: day 305, a weekday like
  // day 312, is an "Inventory" day.
  std::vector<std::pair<int64_t, std::string>> rows{{kFirst + 305, "Inventory"}};
  for (size_t t = 17; t < 360; t += 30)
    rows.emplace_back(kFirst + static_cast<int64_t>(t), "Closing");
  o.covariates.holidays = HolidayCalendar::from_rows(rows);
  const auto with_new = reload(train_forecast_payload({d}, false, o, {}, summary));
  // (The promotions this model does not know bias the estimate from the closings' −90 a little.)
  const double shared = summary.metrics.at("holiday_effects").at("Closing").get<double>();
  EXPECT_NEAR(shared, -90, 25);
  // Closing's own deviation is small: the only holiday seen is what holidays share.
  EXPECT_NEAR(summary.metrics.at("holiday_effects").at("Inventory").get<double>(), shared, 5);
  const auto p2 = with_new->forecast(with_new->series()[0], 20, 0.9);
  EXPECT_LT(p2[5].value, p2[12].value - 60);
}

TEST(ForecastModel, EveryTruncationOfAPayloadWithCovariatesIsCorrupt) {
  const Synthetic s = synthetic(120, 0, 5);
  TrainOptions o;
  o.horizon = 7;
  o.learner = Learner::SeasonalNaive;
  o.covariates = s.spec;
  TrainSummary summary;
  const Payload p = train_forecast_payload({with_regressors("", s)}, false, o, {}, summary);
  ASSERT_NO_THROW(reload(p));
  for (size_t cut = 0; cut < p.body.size(); ++cut) {
    Payload broken = p;
    broken.body.resize(cut);
    EXPECT_THROW(reload(broken), CorruptPayload) << cut;
  }
  Payload flag = p;
  flag.meta.erase("covariates");  // the body has them, the metadata says none
  EXPECT_THROW(reload(flag), CorruptPayload);
  flag.meta["covariates"] = "yes";
  EXPECT_THROW(reload(flag), CorruptPayload);
}

TEST(SeriesGrid, CarriesRegressorsAcrossPeriodsWithoutThem) {
  const double nan = std::nan("");
  SeriesGrid grid(true, Frequency::day(), INT64_MAX, GapFill::Zero, {"price", "promo"});
  const double r1[2] = {nan, 0}, r2[2] = {9.5, 1}, r3[2] = {nan, nan};
  grid.add("a", 100, 5, r1);
  grid.add("a", 102, 7, r2);
  grid.add("a", 103, 1, r3);
  const auto series = grid.build();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].values, (std::vector<double>{5, 0, 7, 1}));
  // price: first value back; day 101 (no row) and 103 (NULL) forward.
  EXPECT_EQ(series[0].regressors, (std::vector<double>{9.5, 0, 9.5, 0, 9.5, 1, 9.5, 1}));
  SeriesGrid none(true, Frequency::day(), INT64_MAX, GapFill::Zero, {"price"});
  const double missing[1] = {nan};
  none.add("b", 100, 1, missing);
  try {
    none.build();
    FAIL() << "a regressor without values";
  } catch (const InvalidParameter& e) {
    EXPECT_NE(std::string(e.what()).find("regressor \"price\" has no value in group \"b\""),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace insight::forecast
