#include "core/forecast/features.hpp"

#include <algorithm>
#include <cmath>

namespace insight::forecast {
namespace {
constexpr double kTwoPi = 6.283185307179586;

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}
int day_of_year(const CivilDate& d) {
  int doy = d.day;
  for (int m = 1; m < d.month; ++m) doy += days_in_month(d.year, m);
  return doy;
}
}  // namespace

// Howard Hinnant's days_from_civil inverse.
CivilDate civil_from_days(int64_t z) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

int weekday(int64_t days) noexcept {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

const std::array<std::string, kFeatureCount>& feature_names() {
  static const std::array<std::string, kFeatureCount> names = [] {
    std::array<std::string, kFeatureCount> n{};
    size_t i = 0;
    for (const char* c :
         {"day_of_week", "day_of_month", "month", "week_of_year", "weekend", "month_start",
          "month_end", "dow_sin", "dow_cos", "month_sin", "month_cos", "doy_sin", "doy_cos"})
      n[i++] = c;
    for (int lag : kLags) n[i++] = "lag_" + std::to_string(lag);
    for (int w : kWindows)
      for (const char* stat : {"mean", "std", "min", "max"})
        n[i++] = "roll" + std::to_string(w) + "_" + stat;
    return n;
  }();
  return names;
}

void features_for_day(int64_t day, const std::vector<double>& history, double* out) {
  const CivilDate d = civil_from_days(day);
  const int dow = weekday(day);
  const int doy = day_of_year(d);
  const int dim = days_in_month(d.year, d.month);
  size_t i = 0;
  out[i++] = dow;
  out[i++] = d.day;
  out[i++] = d.month;
  out[i++] = (doy - 1) / 7 + 1;
  out[i++] = dow >= 5 ? 1.0 : 0.0;
  out[i++] = d.day == 1 ? 1.0 : 0.0;
  out[i++] = d.day == dim ? 1.0 : 0.0;
  out[i++] = std::sin(kTwoPi * dow / 7.0);
  out[i++] = std::cos(kTwoPi * dow / 7.0);
  out[i++] = std::sin(kTwoPi * (d.month - 1) / 12.0);
  out[i++] = std::cos(kTwoPi * (d.month - 1) / 12.0);
  const double year_days = is_leap(d.year) ? 366.0 : 365.0;
  out[i++] = std::sin(kTwoPi * (doy - 1) / year_days);
  out[i++] = std::cos(kTwoPi * (doy - 1) / year_days);
  const size_t n = history.size();
  for (int lag : kLags) out[i++] = history[n - static_cast<size_t>(lag)];
  for (int w : kWindows) {
    double sum = 0, sq = 0, lo = history[n - 1], hi = history[n - 1];
    for (size_t k = n - static_cast<size_t>(w); k < n; ++k) {
      sum += history[k];
      sq += history[k] * history[k];
      lo = std::min(lo, history[k]);
      hi = std::max(hi, history[k]);
    }
    const double mean = sum / w;
    out[i++] = mean;
    out[i++] = std::sqrt(std::max(0.0, sq / w - mean * mean));
    out[i++] = lo;
    out[i++] = hi;
  }
}

void build_training_rows(int64_t first_day, const std::vector<double>& series,
                         std::vector<double>& X, std::vector<double>& y) {
  X.clear();
  y.clear();
  if (series.size() <= kFeatureWarmup) return;
  const size_t rows = series.size() - kFeatureWarmup;
  X.resize(rows * kFeatureCount);
  y.resize(rows);
  std::vector<double> history(series.begin(), series.begin() + kFeatureWarmup);
  for (size_t r = 0; r < rows; ++r) {
    const size_t t = kFeatureWarmup + r;
    features_for_day(first_day + static_cast<int64_t>(t), history, &X[r * kFeatureCount]);
    y[r] = series[t];
    history.push_back(series[t]);
  }
}

}  // namespace insight::forecast
