// The feature pipeline every feature-based forecaster shares (linear, random_forest,
// gradient_boosting): for day d, computed only from values before d —
//   calendar: day of week, day of month, month, ISO-like week of year, weekend, month start,
//             month end, and cyclical encodings (sin/cos of day of week, month, day of year);
//   lags 1, 2, 3, 7, 14;
//   rolling mean, std, min, max over the last 7, 14 and 30 days.
// Multi-step forecasts feed each prediction back as history, so a forecast never uses a value
// from its own future.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace insight::forecast {

constexpr size_t kCalendarFeatures = 13;
constexpr std::array<int, 5> kLags{1, 2, 3, 7, 14};
constexpr std::array<int, 3> kWindows{7, 14, 30};
constexpr size_t kFeatureCount = kCalendarFeatures + kLags.size() + 4 * kWindows.size();
// History needed before the first day that has every feature.
constexpr size_t kFeatureWarmup = 30;

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

// Features of `day`, given the values of the days before it (history.back() is day - 1).
// history.size() >= kFeatureWarmup.
void features_for_day(int64_t day, const std::vector<double>& history, double* out);
const std::array<std::string, kFeatureCount>& feature_names();

// The `horizon` days from next_day, recursively: each day's features see the predictions of
// the days before it. `history` ends the day before next_day (at least kFeatureWarmup days);
// predict(x) is a day's value from its kFeatureCount features.
template <typename Predict>
std::vector<double> forecast_recursive(int64_t next_day, std::vector<double> history, int horizon,
                                       const Predict& predict) {
  std::vector<double> out;
  double x[kFeatureCount];
  for (int h = 0; h < horizon; ++h) {
    features_for_day(next_day + h, history, x);
    const double yhat = predict(x);
    out.push_back(yhat);
    history.push_back(yhat);
  }
  return out;
}

// Design matrix (row-major) and targets for days first_day + t, t = kFeatureWarmup .. n-1.
void build_training_rows(int64_t first_day, const std::vector<double>& series,
                         std::vector<double>& X, std::vector<double>& y);

}  // namespace insight::forecast
