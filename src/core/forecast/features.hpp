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

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/forecast/frequency.hpp"
#include "core/forecast/learners.hpp"

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

// What keeps a recursive forecast from running away. A model of lags feeds its own predictions
// back; a linear one whose lag weights add up to more than one grows geometrically (values of
// 1e9 become 1e12 in a few steps). Step h (0-based) stays within the range [lo, hi] of the
// history it starts from, widened by the range's width w and by w / (history.size() - 1) a
// step: a straight line across that history may go on, a blow-up may not (nor a steeper recent
// trend beyond a few steps, nor a peak further above the history than its width). A constant
// history (w = 0) keeps its value; an empty one bounds nothing.
// Every feature-based learner's recursion is held, the trees' too: their outputs cannot run away
// (they average training targets), but trees that learnt from 200 periods forecast levels the
// series has left, and the bound keeps them within reach of the recent range — M4 Weekly MASE
// 2.448 with it, 2.516 with the linear learner's alone (docs/benchmarks.md). The price: a peak
// further above the warm-up's range than its width (a yearly peak after a quiet half-year of
// weeks) is clipped.
class RecursionBound {
 public:
  explicit RecursionBound(const std::vector<double>& history);
  double operator()(double value, size_t step) const noexcept;

 private:
  bool active_ = false;
  double lo_ = 0, hi_ = 0, width_ = 0, slope_ = 0;
};

// The `horizon` periods from `next`, recursively: each period's features see the predictions
// of the periods before it, held within RecursionBound. `history` ends the period before `next`
// (at least feature_warmup() periods); predict(x) is a period's value from its kFeatureCount
// features.
template <typename Predict>
std::vector<double> forecast_recursive(const SeriesStart& next, std::vector<double> history,
                                       int horizon, const Predict& predict) {
  const RecursionBound bound(history);
  std::vector<double> out;
  double x[kFeatureCount];
  for (int h = 0; h < horizon; ++h) {
    features_for_period(next.after(static_cast<size_t>(h)), history, x);
    const double yhat = bound(predict(x), static_cast<size_t>(h));
    out.push_back(yhat);
    history.push_back(yhat);
  }
  return out;
}

// The reference point of an explanation: the calendar features averaged over the long season
// from `next`, every lag at the mean of `history`, and each rolling window's mean, std, min and
// max those of the whole of `history` (the last feature_warmup() periods).
void reference_features(const SeriesStart& next, const std::vector<double>& history, double* out);

// The forecast_recursive() forecast taken apart: "level", the model at the reference point,
// then the exact Shapley values of the feature groups calendar, lags and rolling (2³ = 8
// predictions a step), which sum to the model's prediction minus the level; where
// RecursionBound held the prediction back, "adjustment" is the difference.
template <typename Predict>
Explanation explain_recursive(const SeriesStart& next, std::vector<double> history, int horizon,
                              const Predict& predict) {
  const size_t n = static_cast<size_t>(std::max(horizon, 0));
  double ref[kFeatureCount], x[kFeatureCount], z[kFeatureCount];
  reference_features(next, history, ref);
  auto group = [](size_t j) {
    return j < kCalendarFeatures ? 0 : j < kCalendarFeatures + kLagCount ? 1 : 2;
  };
  const RecursionBound bound(history);
  Explanation e{{"level", std::vector<double>(n)},
                {"calendar", std::vector<double>(n)},
                {"lags", std::vector<double>(n)},
                {"rolling", std::vector<double>(n)}};
  std::vector<double> value(n);
  // Shapley weights of a coalition of 0, 1 or 2 other groups (of 3).
  constexpr double kWeight[3] = {1.0 / 3, 1.0 / 6, 1.0 / 3};
  for (size_t h = 0; h < n; ++h) {
    features_for_period(next.after(h), history, x);
    double f[8];
    for (unsigned mask = 0; mask < 8; ++mask) {
      for (size_t j = 0; j < kFeatureCount; ++j) z[j] = (mask >> group(j)) & 1u ? x[j] : ref[j];
      f[mask] = predict(z);
    }
    e[0].values[h] = f[0];
    for (unsigned g = 0; g < 3; ++g) {
      double phi = 0;
      for (unsigned mask = 0; mask < 8; ++mask) {
        if (mask & (1u << g)) continue;
        const int others = __builtin_popcount(mask);
        phi += kWeight[others] * (f[mask | (1u << g)] - f[mask]);
      }
      e[1 + g].values[h] = phi;
    }
    value[h] = bound(f[7], h);
    history.push_back(value[h]);
  }
  add_adjustment(e, value);
  return e;
}

// Design matrix (row-major) and targets for periods first + t, t = warmup .. n-1.
void build_training_rows(const SeriesStart& first, const std::vector<double>& series,
                         std::vector<double>& X, std::vector<double>& y);

}  // namespace insight::forecast
