// What moves a series besides its own past (API.md section 6, issue 16 item 2): regressors —
// numeric columns known ahead, such as a price or a promotion flag — and holidays, a calendar
// of named days. Every learner uses them the same way, through Effects: an additive linear
// effect per regressor and per holiday name, estimated on seasonal differences (which remove
// the level and the season the learners model), taken out of the series before a learner is
// fitted and put back into its forecast. So seasonal naive, Holt-Winters and theta use them as
// much as the feature learners, and explanations get one component per regressor and one for
// the holidays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/common/binary_io_fwd.hpp"
#include "core/forecast/frequency.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {

// Limits of what a model carries: regressor columns, distinct holiday names, holiday days.
constexpr size_t kMaxRegressors = 32;
constexpr size_t kMaxHolidayNames = 200;
constexpr size_t kMaxHolidayDays = 100'000;

// Named days (a holidays relation's (day, name) rows), sorted and without duplicates.
class HolidayCalendar {
 public:
  HolidayCalendar() = default;
  // InvalidParameter beyond the limits above, for an empty name or a day outside the calendar.
  static HolidayCalendar from_rows(std::vector<std::pair<int64_t, std::string>> rows);
  const std::vector<std::string>& names() const noexcept { return names_; }
  size_t days() const noexcept { return days_.size(); }
  bool empty() const noexcept { return names_.empty(); }
  // Per name, the number of its days within period `period` of `f` (0 or 1 for days and steps
  // of a day: whether the period's day is one).
  void counts(const Frequency& f, int64_t period, double* out) const;
  void write(BinaryWriter& w) const;
  static HolidayCalendar read(BinaryReader& r);

 private:
  std::vector<std::string> names_;
  std::vector<std::pair<int64_t, uint32_t>> days_;  // (day number, name index), sorted
};

// A model's covariates: its regressor columns, then one column per holiday name and one of
// every holiday ("any": the sum of the names' counts) — the effect a holiday name shares with
// the others, so that a name seen once, or never, in the history still gets what holidays do.
struct CovariateSpec {
  std::vector<std::string> regressors;
  HolidayCalendar holidays;
  size_t width() const noexcept {
    const size_t names = holidays.names().size();
    return regressors.size() + (names == 0 ? 0 : names + 1);
  }
  bool empty() const noexcept { return width() == 0; }
};

// One series' covariates, per period from a first one: `width` values a row — the regressors,
// then the holiday names, then "any" holiday.
struct Covariates {
  size_t width = 0, regressors = 0;
  std::vector<double> values;  // rows × width
  size_t rows() const noexcept { return width == 0 ? 0 : values.size() / width; }
  const double* row(size_t t) const { return values.data() + t * width; }
};

// The covariates of `periods` periods from `first`: regressor_rows (periods × the spec's
// regressors, every value finite) and the holiday counts of the spec's calendar.
Covariates make_covariates(const CovariateSpec& spec, const SeriesStart& first, size_t periods,
                           const std::vector<double>& regressor_rows);

// The effects of a series' covariates: y_t = level and season (the learner's business)
// + Σ beta_j (x_tj − center_j) + noise, center_j a regressor's training median (so the effect
// is against a typical period: 0 on a day without promotion, when most days have none) and 0
// for a holiday (the effect of the day against an ordinary one). beta comes from ridge
// regression of y_t − y_{t−m} on x_t − x_{t−m}, m the season, with a penalty relative to each
// column's own scale: 1 % for the regressors and "any" holiday, 100 % for a holiday name's
// deviation from "any" (a random effect: a name seen once moves half-way from what holidays
// share towards its own day; one never seen gets what holidays share).
class Effects {
 public:
  // Fitted on series[0, n) and cov's rows [0, n) (cov has at least n rows).
  static Effects fit(const std::vector<double>& series, const Covariates& cov, int season);
  // The series less its effects: what the learner is fitted on.
  std::vector<double> remove(const std::vector<double>& series, const Covariates& cov) const;
  // Adds the effects of cov's rows from, from + 1, ... to a forecast of the adjusted series;
  // a series that was never negative is clipped at 0 again.
  void add(std::vector<double>& forecast, const Covariates& cov, size_t from) const;
  // The effects of rows from .. from + steps - 1 as explanation components: one per regressor
  // (named by its column) and "holiday" (every holiday column's), each per step.
  Explanation components(const CovariateSpec& spec, const Covariates& cov, size_t from,
                         size_t steps) const;
  const std::vector<double>& beta() const noexcept { return beta_; }
  // The effect of one day of holiday name `name` (its index in the calendar's names): what
  // holidays share plus the name's own deviation. Needs a spec with holidays.
  double holiday_effect(const CovariateSpec& spec, size_t name) const;
  void write(BinaryWriter& w) const;
  // CorruptPayload unless it has `width` finite effects.
  static Effects read(BinaryReader& r, size_t width);

 private:
  double effect(const double* row) const;
  std::vector<double> beta_, center_;
  bool non_negative_ = false;
};

}  // namespace insight::forecast
