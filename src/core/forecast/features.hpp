// The feature pipeline every feature-based forecaster shares (linear, random_forest,
// gradient_boosting): for period t, computed only from values before t — 13 calendar features
// of the period's start, 5 lags and 4 statistics (mean, std, min, max) over 3 rolling windows.
// Which ones depends on the frequency (feature_layout(), feature_names()); the count does not:
//   day:   day of week, day of month, month, week of year, weekend, month start and end,
//          sin/cos of day of week, month, day of year; lags 1, 2, 3, 7, 14; windows 7, 14, 30.
//   steps of a day (s steps per day; hours: s = 24): step of the day, day of week, day of
//          month, month, weekend, sin/cos of step of day, day of week, step of week, day of
//          year; lags 1, 2, 3, s, 7s; windows max(2, s/4), s, 7s.
//   week:  week of year, month, quarter, first and last week of the year, first week of a
//          month, sin/cos of week of year (two harmonics) and month, day of month;
//          lags 1, 2, 3, 4, 8; windows 4, 13, 26.
//   month: month, quarter, days in month, year and quarter start and end, sin/cos of month
//          (two harmonics) and quarter; lags 1, 2, 3, 6, 12; windows 3, 6, 12.
// Multi-step forecasts feed each prediction back as history, so a forecast never uses a value
// from its own future.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/forecast/frequency.hpp"

namespace insight::forecast {

constexpr size_t kCalendarFeatures = 13;
constexpr size_t kLagCount = 5;
constexpr size_t kWindowCount = 3;
constexpr size_t kFeatureCount = kCalendarFeatures + kLagCount + 4 * kWindowCount;

// A frequency's lags and rolling windows (in periods), and the history the first period with
// every feature needs: the longest of them.
struct FeatureLayout {
  std::array<int, kLagCount> lags;
  std::array<int, kWindowCount> windows;
  size_t warmup;
};
FeatureLayout feature_layout(const Frequency& f) noexcept;
inline size_t feature_warmup(const Frequency& f) noexcept { return feature_layout(f).warmup; }

// Year, month (1-12), day (1-31) of a day number (days since 1970-01-01).
struct CivilDate {
  int year, month, day;
};
CivilDate civil_from_days(int64_t days) noexcept;
// Day numbers of 0001-01-01 and 9999-12-31: the calendar range forecasts support.
constexpr int64_t kFirstDay = -719162;
constexpr int64_t kLastDay = 2932896;
constexpr bool valid_day(int64_t day) noexcept { return day >= kFirstDay && day <= kLastDay; }
// 0 = Monday .. 6 = Sunday
int weekday(int64_t days) noexcept;

// Features of period `at`, given the values of the periods before it (history.back() is the
// period before). history.size() >= feature_warmup(at.frequency).
void features_for_period(const SeriesStart& at, const std::vector<double>& history, double* out);
std::array<std::string, kFeatureCount> feature_names(const Frequency& f = Frequency::day());

// The `horizon` periods from `next`, recursively: each period's features see the predictions
// of the periods before it. `history` ends the period before `next` (at least
// feature_warmup() periods); predict(x) is a period's value from its kFeatureCount features.
template <typename Predict>
std::vector<double> forecast_recursive(const SeriesStart& next, std::vector<double> history,
                                       int horizon, const Predict& predict) {
  std::vector<double> out;
  double x[kFeatureCount];
  for (int h = 0; h < horizon; ++h) {
    features_for_period(next.after(static_cast<size_t>(h)), history, x);
    const double yhat = predict(x);
    out.push_back(yhat);
    history.push_back(yhat);
  }
  return out;
}

// Design matrix (row-major) and targets for periods first + t, t = warmup .. n-1.
void build_training_rows(const SeriesStart& first, const std::vector<double>& series,
                         std::vector<double>& X, std::vector<double>& y);

}  // namespace insight::forecast
