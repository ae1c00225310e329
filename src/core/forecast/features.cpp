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

FeatureLayout feature_layout(const Frequency& f) noexcept {
  switch (f.unit()) {
    case FrequencyUnit::Day:
      return {{1, 2, 3, 7, 14}, {7, 14, 30}, 30};
    case FrequencyUnit::Week:
      return {{1, 2, 3, 4, 8}, {4, 13, 26}, 26};
    case FrequencyUnit::Month:
      return {{1, 2, 3, 6, 12}, {3, 6, 12}, 12};
    case FrequencyUnit::Step:
      break;
  }
  const int s = f.steps_per_day();
  return {{1, 2, 3, s, 7 * s}, {std::max(2, s / 4), s, 7 * s}, static_cast<size_t>(7 * s)};
}

namespace {

const char* const kDayCalendar[kCalendarFeatures] = {
    "day_of_week", "day_of_month", "month",   "week_of_year", "weekend", "month_start", "month_end",
    "dow_sin",     "dow_cos",      "month_sin", "month_cos",  "doy_sin", "doy_cos"};
const char* const kStepCalendar[kCalendarFeatures] = {
    "step_of_day", "day_of_week", "day_of_month", "month",   "weekend", "sod_sin", "sod_cos",
    "dow_sin",     "dow_cos",     "sow_sin",      "sow_cos", "doy_sin", "doy_cos"};
const char* const kWeekCalendar[kCalendarFeatures] = {
    "week_of_year", "month",     "quarter",   "year_start", "year_end",  "month_start",
    "woy_sin",      "woy_cos",   "woy2_sin",  "woy2_cos",   "month_sin", "month_cos",
    "day_of_month"};
const char* const kMonthCalendar[kCalendarFeatures] = {
    "month",     "quarter",    "days_in_month", "year_start", "year_end",  "quarter_start",
    "quarter_end", "month_sin", "month_cos",    "month2_sin", "month2_cos", "quarter_sin",
    "quarter_cos"};

const char* const* calendar_names(const Frequency& f) {
  switch (f.unit()) {
    case FrequencyUnit::Day:
      return kDayCalendar;
    case FrequencyUnit::Week:
      return kWeekCalendar;
    case FrequencyUnit::Month:
      return kMonthCalendar;
    case FrequencyUnit::Step:
      break;
  }
  return kStepCalendar;
}

double cyc_sin(double position, double period) { return std::sin(kTwoPi * position / period); }
double cyc_cos(double position, double period) { return std::cos(kTwoPi * position / period); }

// The calendar features of a period (kCalendarFeatures values).
void calendar_features(const SeriesStart& at, double* out) {
  const Frequency& f = at.frequency;
  const int64_t day = f.start_day(at.period);
  const CivilDate d = civil_from_days(day);
  const int dow = weekday(day);
  const int doy = day_of_year(d);
  const int dim = days_in_month(d.year, d.month);
  const double year_days = is_leap(d.year) ? 366.0 : 365.0;
  size_t i = 0;
  switch (f.unit()) {
    case FrequencyUnit::Day:
      out[i++] = dow;
      out[i++] = d.day;
      out[i++] = d.month;
      out[i++] = (doy - 1) / 7 + 1;
      out[i++] = dow >= 5 ? 1.0 : 0.0;
      out[i++] = d.day == 1 ? 1.0 : 0.0;
      out[i++] = d.day == dim ? 1.0 : 0.0;
      out[i++] = cyc_sin(dow, 7);
      out[i++] = cyc_cos(dow, 7);
      out[i++] = cyc_sin(d.month - 1, 12);
      out[i++] = cyc_cos(d.month - 1, 12);
      out[i++] = cyc_sin(doy - 1, year_days);
      out[i++] = cyc_cos(doy - 1, year_days);
      return;
    case FrequencyUnit::Step: {
      const int s = f.steps_per_day();
      const int64_t step = at.period - day * s;  // 0 .. s - 1
      out[i++] = static_cast<double>(step);
      out[i++] = dow;
      out[i++] = d.day;
      out[i++] = d.month;
      out[i++] = dow >= 5 ? 1.0 : 0.0;
      out[i++] = cyc_sin(static_cast<double>(step), s);
      out[i++] = cyc_cos(static_cast<double>(step), s);
      out[i++] = cyc_sin(dow, 7);
      out[i++] = cyc_cos(dow, 7);
      out[i++] = cyc_sin(static_cast<double>(dow * s + step), 7.0 * s);
      out[i++] = cyc_cos(static_cast<double>(dow * s + step), 7.0 * s);
      out[i++] = cyc_sin(doy - 1, year_days);
      out[i++] = cyc_cos(doy - 1, year_days);
      return;
    }
    case FrequencyUnit::Week: {
      // The week is named by its Thursday (ISO): its week of the year and its month.
      const CivilDate thu = civil_from_days(day + 3);
      const int week = (day_of_year(thu) - 1) / 7 + 1;  // 1 .. 53
      out[i++] = week;
      out[i++] = thu.month;
      out[i++] = (thu.month - 1) / 3 + 1;
      out[i++] = week == 1 ? 1.0 : 0.0;
      out[i++] = civil_from_days(day + 7).year != d.year || week >= 52 ? 1.0 : 0.0;
      out[i++] = d.day <= 7 || d.month != civil_from_days(day + 6).month ? 1.0 : 0.0;
      out[i++] = cyc_sin(week - 1, 52.1775);
      out[i++] = cyc_cos(week - 1, 52.1775);
      out[i++] = cyc_sin(2.0 * (week - 1), 52.1775);
      out[i++] = cyc_cos(2.0 * (week - 1), 52.1775);
      out[i++] = cyc_sin(thu.month - 1, 12);
      out[i++] = cyc_cos(thu.month - 1, 12);
      out[i++] = d.day;
      return;
    }
    case FrequencyUnit::Month: {
      const int q = (d.month - 1) / 3;
      out[i++] = d.month;
      out[i++] = q + 1;
      out[i++] = dim;
      out[i++] = d.month == 1 ? 1.0 : 0.0;
      out[i++] = d.month == 12 ? 1.0 : 0.0;
      out[i++] = (d.month - 1) % 3 == 0 ? 1.0 : 0.0;
      out[i++] = (d.month - 1) % 3 == 2 ? 1.0 : 0.0;
      out[i++] = cyc_sin(d.month - 1, 12);
      out[i++] = cyc_cos(d.month - 1, 12);
      out[i++] = cyc_sin(2.0 * (d.month - 1), 12);
      out[i++] = cyc_cos(2.0 * (d.month - 1), 12);
      out[i++] = cyc_sin(q, 4);
      out[i++] = cyc_cos(q, 4);
      return;
    }
  }
}

}  // namespace

std::array<std::string, kFeatureCount> feature_names(const Frequency& f) {
  std::array<std::string, kFeatureCount> n{};
  const FeatureLayout layout = feature_layout(f);
  size_t i = 0;
  const char* const* calendar = calendar_names(f);
  for (size_t c = 0; c < kCalendarFeatures; ++c) n[i++] = calendar[c];
  for (int lag : layout.lags) n[i++] = "lag_" + std::to_string(lag);
  for (int w : layout.windows)
    for (const char* stat : {"mean", "std", "min", "max"})
      n[i++] = "roll" + std::to_string(w) + "_" + stat;
  return n;
}

void features_for_period(const SeriesStart& at, const std::vector<double>& history,
                         double* out) {
  calendar_features(at, out);
  const FeatureLayout layout = feature_layout(at.frequency);
  size_t i = kCalendarFeatures;
  const size_t n = history.size();
  for (int lag : layout.lags) out[i++] = history[n - static_cast<size_t>(lag)];
  for (int w : layout.windows) {
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

RecursionBound::RecursionBound(const std::vector<double>& history) {
  if (history.empty()) return;
  active_ = true;
  const auto [lo, hi] = std::minmax_element(history.begin(), history.end());
  lo_ = *lo;
  hi_ = *hi;
  width_ = hi_ - lo_;
  slope_ = width_ / static_cast<double>(std::max<size_t>(history.size() - 1, 1));
}

double RecursionBound::operator()(double value, size_t step) const noexcept {
  if (!active_) return value;
  const double reach = width_ + slope_ * static_cast<double>(step);
  if (!(reach >= 0)) return value;  // a width beyond double's range: nothing to hold
  return std::clamp(value, lo_ - reach, hi_ + reach);
}

void reference_features(const SeriesStart& next, const std::vector<double>& history,
                        double* out) {
  const Frequency& f = next.frequency;
  const auto season = static_cast<size_t>(f.long_season());
  double cal[kFeatureCount];
  std::fill(out, out + kCalendarFeatures, 0.0);
  for (size_t k = 0; k < season; ++k) {
    calendar_features(next.after(k), cal);
    for (size_t j = 0; j < kCalendarFeatures; ++j) out[j] += cal[j] / static_cast<double>(season);
  }
  const double n = static_cast<double>(history.size());
  double sum = 0, sq = 0, lo = history.front(), hi = history.front();
  for (double v : history) {
    sum += v;
    sq += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double mean = sum / n, sd = std::sqrt(std::max(0.0, sq / n - mean * mean));
  size_t i = kCalendarFeatures;
  for (size_t k = 0; k < kLagCount; ++k) out[i++] = mean;
  for (size_t w = 0; w < kWindowCount; ++w) {
    out[i++] = mean;
    out[i++] = sd;
    out[i++] = lo;
    out[i++] = hi;
  }
}

void build_training_rows(const SeriesStart& first, const std::vector<double>& series,
                         std::vector<double>& X, std::vector<double>& y) {
  X.clear();
  y.clear();
  const size_t warmup = feature_warmup(first.frequency);
  if (series.size() <= warmup) return;
  const size_t rows = series.size() - warmup;
  X.resize(rows * kFeatureCount);
  y.resize(rows);
  std::vector<double> history(series.begin(), series.begin() + static_cast<long>(warmup));
  for (size_t r = 0; r < rows; ++r) {
    const size_t t = warmup + r;
    features_for_period(first.after(t), history, &X[r * kFeatureCount]);
    y[r] = series[t];
    history.push_back(series[t]);
  }
}

}  // namespace insight::forecast
