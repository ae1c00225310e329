#include "core/forecast/frequency.hpp"

#include <bitset>
#include <cctype>
#include <numeric>

#include "core/common/error.hpp"
#include "core/forecast/features.hpp"

namespace insight::forecast {
namespace {

int64_t floor_div(int64_t a, int64_t b) noexcept {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr int64_t kUsecPerDay = Frequency::kSecondsPerDay * Frequency::kUsecPerSecond;
// Weeks start on Monday; day 0 (1970-01-01) is a Thursday, so week 0 starts on day -3.
constexpr int64_t kWeekOffset = 3;

}  // namespace

int64_t days_from_civil(int year, int month, int day) noexcept {
  // Howard Hinnant's days_from_civil.
  const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = static_cast<unsigned>(month > 2 ? month - 3 : month + 9);
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Frequency Frequency::every(int64_t seconds) {
  if (seconds == kSecondsPerDay) return day();
  if (seconds < kMinStepSeconds || seconds > kSecondsPerDay || seconds % kMinStepSeconds != 0 ||
      kSecondsPerDay % seconds != 0)
    throw InvalidParameter("frequency must be a whole number of minutes that divides a day",
                           "got a step of " + std::to_string(seconds) + " seconds",
                           "Use 'hour', 'day', 'week', 'month', or an interval such as "
                           "'15 minutes' or '6 hours'.");
  return Frequency(FrequencyUnit::Step, seconds);
}

Frequency Frequency::from_text(const std::string& text) {
  const std::string hint =
      "frequency must be 'auto', 'hour', 'day', 'week', 'month', or an interval of whole "
      "minutes that divides a day, such as '15 minutes' or '6 hours'.";
  auto unknown = [&] {
    return InvalidParameter("unknown frequency " + echo(text), "", hint);
  };
  // "[n] unit": lower case, spaces dropped.
  std::string t;
  for (char c : text)
    if (c != ' ' && c != '\t') t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  if (digits > 6) throw unknown();
  const int64_t n = digits == 0 ? 1 : std::stoll(t.substr(0, digits));
  std::string unit = t.substr(digits);
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  if (n < 1 || unit.empty()) throw unknown();
  if (unit == "minute" || unit == "min") return every(n * 60);
  if (unit == "hour" || unit == "hr") return every(n * 3600);
  if (unit == "day" && n == 1) return day();
  if ((unit == "day" && n == 7) || (unit == "week" && n == 1)) return week();
  if ((unit == "month" || unit == "mon") && n == 1) return month();
  if (unit == "day" || unit == "week" || unit == "month" || unit == "mon")
    throw InvalidParameter("frequency " + echo(text) + " is not supported", "",
                           "Series of several days, weeks or months are not supported; " + hint);
  throw unknown();
}

std::optional<Frequency> Frequency::parse(const std::string& text) noexcept {
  try {
    const Frequency f = from_text(text);
    return f.name() == text ? std::optional<Frequency>(f) : std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
}

namespace {

// A unit's name and adjective; a step's: "hour"/"hourly", or "6 hours"/"6-hour",
// "15 minutes"/"15-minute".
struct Label {
  std::string name, adjective;
};

Label label(FrequencyUnit unit, int64_t step) {
  switch (unit) {
    case FrequencyUnit::Day:
      return {"day", "daily"};
    case FrequencyUnit::Week:
      return {"week", "weekly"};
    case FrequencyUnit::Month:
      return {"month", "monthly"};
    case FrequencyUnit::Step:
      break;
  }
  if (step == 3600) return {"hour", "hourly"};
  const bool hours = step % 3600 == 0;
  const std::string n = std::to_string(hours ? step / 3600 : step / 60);
  return {n + (hours ? " hours" : " minutes"), n + (hours ? "-hour" : "-minute")};
}

}  // namespace

std::string Frequency::name() const { return label(unit_, step_).name; }

std::string Frequency::period_noun() const {
  const Label l = label(unit_, step_);
  return unit_ != FrequencyUnit::Step || step_ == 3600 ? l.name : l.adjective + " period";
}

std::string Frequency::adjective() const { return label(unit_, step_).adjective; }

int64_t Frequency::nominal_seconds() const noexcept {
  return unit_ == FrequencyUnit::Month ? 30 * kSecondsPerDay : step_;
}

int Frequency::season() const noexcept {
  switch (unit_) {
    case FrequencyUnit::Day:
      return 7;
    case FrequencyUnit::Week:
      return 52;
    case FrequencyUnit::Month:
      return 12;
    case FrequencyUnit::Step:
      break;
  }
  return steps_per_day();
}

int Frequency::long_season() const noexcept { return sub_daily() ? 7 * season() : season(); }

int Frequency::steps_per_day() const noexcept {
  return sub_daily() ? static_cast<int>(kSecondsPerDay / step_) : 1;
}

int64_t Frequency::period_of(int64_t local_usecs) const noexcept {
  switch (unit_) {
    case FrequencyUnit::Step:
      return floor_div(local_usecs, step_ * kUsecPerSecond);
    case FrequencyUnit::Day:
      return floor_div(local_usecs, kUsecPerDay);
    case FrequencyUnit::Week:
      return floor_div(floor_div(local_usecs, kUsecPerDay) + kWeekOffset, 7);
    case FrequencyUnit::Month: {
      const CivilDate d = civil_from_days(floor_div(local_usecs, kUsecPerDay));
      return (static_cast<int64_t>(d.year) - 1970) * 12 + (d.month - 1);
    }
  }
  return 0;
}

int64_t Frequency::start_day(int64_t period) const noexcept {
  switch (unit_) {
    case FrequencyUnit::Step:
      return floor_div(period, steps_per_day());
    case FrequencyUnit::Day:
      return period;
    case FrequencyUnit::Week:
      return period * 7 - kWeekOffset;
    case FrequencyUnit::Month: {
      const int64_t year = 1970 + floor_div(period, 12);
      const auto month = static_cast<int>(period - floor_div(period, 12) * 12) + 1;
      return days_from_civil(static_cast<int>(year), month, 1);
    }
  }
  return 0;
}

int64_t Frequency::start_usecs(int64_t period) const noexcept {
  if (unit_ == FrequencyUnit::Step) return period * step_ * kUsecPerSecond;
  return start_day(period) * kUsecPerDay;
}

bool Frequency::valid_period(int64_t period) const noexcept {
  // Far enough inside int64 for every conversion above, then the calendar's own range.
  if (period < -4'000'000'000'000LL || period > 4'000'000'000'000LL) return false;
  if (unit_ == FrequencyUnit::Month && (period < -24'000'000 || period > 24'000'000)) return false;
  return valid_day(start_day(period));
}

std::optional<Frequency> data_grid(const TimeFacts& f) {
  if (f.rows == 0 || !f.on_the_hour || f.hours == 0) return std::nullopt;
  const std::bitset<32> hours(f.hours);
  if (hours.count() > 1) {
    // The spacing of the hours used, around the clock: {0, 6, 12, 18} → 6 hours.
    int spacing = 24, first = -1, previous = -1;
    for (int h = 0; h < 24; ++h) {
      if (!hours.test(static_cast<size_t>(h))) continue;
      if (previous >= 0) spacing = std::gcd(spacing, h - previous);
      if (first < 0) first = h;
      previous = h;
    }
    spacing = std::gcd(spacing, first + 24 - previous);
    // A grid fills every step of the day (telemetry each hour); sales at a few hours of the
    // day are events at irregular times, summed per day.
    if (hours.count() != static_cast<size_t>(24 / spacing)) return std::nullopt;
    return Frequency::every(static_cast<int64_t>(spacing) * 3600);
  }
  if (std::bitset<64>(f.month_days).count() == 1 || f.month_ends) return Frequency::month();
  if (std::bitset<32>(f.weekdays).count() == 1) return Frequency::week();
  return Frequency::day();
}

Frequency infer(const TimeFacts& facts) { return data_grid(facts).value_or(Frequency::day()); }

bool finer_than(const Frequency& f, const TimeFacts& facts) {
  const auto grid = data_grid(facts);
  return grid && f.nominal_seconds() < grid->nominal_seconds();
}

}  // namespace insight::forecast
