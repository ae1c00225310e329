// The frequency of a series: the length of its periods (a step of whole minutes that divides a
// day — 'hour' is the step of 60 minutes —, a day, an ISO week from Monday, a calendar month),
// how periods are numbered, and the seasons and calendar its learners use.
//
// Periods are numbered from the local epoch, 1970-01-01 00:00 on the wall clock of the session's
// TimeZone (a sub-daily step: steps since it; a day: days; a week: weeks from Monday 1969-12-29;
// a month: months from January 1970). A period is known by the wall-clock microseconds of its
// start, so a 'day' series numbers its periods exactly as the day numbers of features.hpp.
//
// 'auto' (infer()) reads the grid the source's times lie on (TimeFacts, one aggregate over the
// time column): times on the hour filling every step of the day (each hour, or every 6 hours
// from midnight) → steps of that spacing; times at one hour of the day → day, week (one
// weekday) or month (one day of the month, or every time the last of its month); any other
// times (transactions, sales at a few hours of the day, samples finer than an hour) → day:
// they are summed per day. A sub-hourly step is never inferred: it must be asked for. A frequency finer than that grid would only add empty
// periods between the rows: finer_than() says so, and training refuses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace insight::forecast {

enum class FrequencyUnit : uint8_t { Step = 0, Day = 1, Week = 2, Month = 3 };

class Frequency {
 public:
  static constexpr int64_t kUsecPerSecond = 1'000'000;
  static constexpr int64_t kSecondsPerDay = 86'400;
  // The shortest step: one minute.
  static constexpr int64_t kMinStepSeconds = 60;

  constexpr Frequency() = default;  // a day
  static constexpr Frequency day() { return Frequency(FrequencyUnit::Day, kSecondsPerDay); }
  static constexpr Frequency week() { return Frequency(FrequencyUnit::Week, 7 * kSecondsPerDay); }
  static constexpr Frequency month() { return Frequency(FrequencyUnit::Month, 0); }
  static constexpr Frequency hour() { return Frequency(FrequencyUnit::Step, 3600); }
  // A sub-daily step; InvalidParameter unless it is a whole number of minutes that divides a
  // day. A step of a whole day is day().
  static Frequency every(int64_t seconds);
  // 'hour', 'day', 'week', 'month', or "[n] unit" with unit minute(s), min(s), hour(s),
  // day(s), week(s) or month(s) ('15 minutes', '6 hours', '1 day', '7 days', '1 month'); case
  // and spaces do not matter. InvalidParameter naming the argument `frequency` otherwise
  // ('auto' is the caller's: it needs the data).
  static Frequency from_text(const std::string& text);
  // What name() wrote (payload metadata); nullopt if it names no frequency.
  static std::optional<Frequency> parse(const std::string& text) noexcept;

  FrequencyUnit unit() const noexcept { return unit_; }
  // Seconds of a step, a day or a week; 0 for a month.
  int64_t step_seconds() const noexcept { return step_; }
  bool sub_daily() const noexcept { return unit_ == FrequencyUnit::Step; }
  // "hour", "day", "week", "month", "6 hours" or "15 minutes".
  std::string name() const;
  // The period's name in messages: "hour", "day", "6-hour period", "15-minute period".
  std::string period_noun() const;
  // "hourly", "daily", "weekly", "monthly", "6-hour", "15-minute".
  std::string adjective() const;
  // A nominal length in seconds, for comparing frequencies (a month: 30 days).
  int64_t nominal_seconds() const noexcept;

  // The main season, in periods: a day's steps (24 for hours), 7 days, 52 weeks, 12 months.
  int season() const noexcept;
  // The longer season sub-daily series also have (a week of steps: 168 for hours); the main
  // season otherwise.
  int long_season() const noexcept;
  // Steps in a day (sub-daily only; 1 otherwise).
  int steps_per_day() const noexcept;

  // The period containing a wall-clock time (microseconds since the local epoch).
  int64_t period_of(int64_t local_usecs) const noexcept;
  // Wall-clock microseconds of a period's start.
  int64_t start_usecs(int64_t period) const noexcept;
  // The day (days since 1970-01-01) a period starts on.
  int64_t start_day(int64_t period) const noexcept;
  // True when the period starts within 0001-01-01 .. 9999-12-31.
  bool valid_period(int64_t period) const noexcept;

  bool operator==(const Frequency& o) const noexcept {
    return unit_ == o.unit_ && step_ == o.step_;
  }
  bool operator!=(const Frequency& o) const noexcept { return !(*this == o); }

 private:
  constexpr Frequency(FrequencyUnit unit, int64_t step) : unit_(unit), step_(step) {}
  FrequencyUnit unit_ = FrequencyUnit::Day;
  int64_t step_ = kSecondsPerDay;
};

// The day number (days since 1970-01-01) of a civil date.
int64_t days_from_civil(int year, int month, int day) noexcept;

// What one aggregate over a source's time column says about the grid its times lie on (the
// SQL layer computes it; times are wall-clock times in the session's TimeZone).
struct TimeFacts {
  int64_t rows = 0;          // rows with a time
  bool on_the_hour = true;   // every time is a whole hour
  uint32_t hours = 0;        // bit h: some time is at hour h of its day
  uint32_t weekdays = 0;     // bit d: some time falls on ISO weekday d (1 = Monday .. 7)
  uint64_t month_days = 0;   // bit d: some time falls on day d of its month
  bool month_ends = false;   // every time falls on the last day of its month
};

// The grid the times lie on; nullopt when they lie on none (times not on the hour, or no rows).
std::optional<Frequency> data_grid(const TimeFacts& facts);
// 'auto': the data's grid, or day when it has none.
Frequency infer(const TimeFacts& facts);
// True when `f` is finer than the data's grid: its periods would be empty between the rows.
bool finer_than(const Frequency& f, const TimeFacts& facts);

// A series' first period and its frequency. A day number converts implicitly: a daily series.
struct SeriesStart {
  Frequency frequency;
  int64_t period = 0;
  SeriesStart(int64_t day) : period(day) {}  // NOLINT(google-explicit-constructor): a day
  SeriesStart(Frequency f, int64_t p) : frequency(f), period(p) {}
  SeriesStart after(size_t periods) const {
    return SeriesStart(frequency, period + static_cast<int64_t>(periods));
  }
};

}  // namespace insight::forecast
