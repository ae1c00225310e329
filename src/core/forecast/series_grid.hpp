// Sums per group and period → the series training reads, at one frequency. Each group's series
// runs from its own first period to the last period of all groups, so every group's forecast
// starts at the same time. Periods without a sum are filled as the series' nature says
// (GapFill): 0 for sums of events (no sales that day), or, for measurements on their own grid
// (telemetry every hour), interpolated linearly between the periods around the gap (after a
// group's last period: its last value), and counted. Only complete periods
// count: a period that has not ended yet (today, this hour, when the rows are read; a later
// one) is left out, so a period of partial sales is not taken for a whole one. The SQL layer
// feeds it the rows of its GROUP BY (group, period); the series fuzzer feeds it the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/forecast/forecast_model.hpp"
#include "core/forecast/frequency.hpp"

namespace insight::forecast {

// The longest series: 100 years of days, and at most a million periods of any frequency.
constexpr int64_t kMaxSeriesDays = 36525;
constexpr int64_t kMaxSeriesPeriods = 1'000'000;

enum class GapFill : uint8_t { Zero, Interpolate };

// The series' nature: measurements on a grid finer than a day (the times fill every step of the
// day, as telemetry's do) read at that very step are interpolated; anything else — sums of
// events, daily or coarser tables — is zero-filled (a day without a row sold nothing).
GapFill gap_fill_for(const Frequency& frequency, const TimeFacts& facts);

class SeriesGrid {
 public:
  // grouped: errors name the group ("group \"k\"") rather than "the series".
  // first_incomplete: the first period that has not ended: it and later periods are left out.
  // regressors: the names of the regressor columns whose values come with each sum.
  explicit SeriesGrid(bool grouped, Frequency frequency = Frequency::day(),
                      int64_t first_incomplete = INT64_MAX, GapFill fill = GapFill::Zero,
                      std::vector<std::string> regressors = {})
      : grouped_(grouped),
        frequency_(frequency),
        first_incomplete_(first_incomplete),
        fill_(fill),
        regressors_(std::move(regressors)) {}

  // One (group, period) sum; a (group, period) comes once. With regressors, `regressors` holds
  // their values in the period (NaN: none). false: the period is not complete and was left out.
  bool add(std::string_view key, int64_t period, double sum, const double* regressors = nullptr);
  bool empty() const noexcept { return groups_.empty(); }
  const Frequency& frequency() const noexcept { return frequency_; }
  // Periods the grid will hold across all groups (what build() allocates).
  size_t cells() const noexcept;
  // The series, by key. InvalidParameter for a series spanning more than 100 years or
  // kMaxSeriesPeriods, or dates outside 0001-01-01..9998-12-31 (a year of forecasts included).
  // `interpolated`, if given, receives the number of periods filled by interpolation.
  // Regressors (SeriesData::regressors) of a period without a value carry the last one before
  // it forward (the first one back, before it); a regressor without any value in a series is
  // an InvalidParameter.
  std::vector<SeriesData> build(size_t* interpolated = nullptr) const;

 private:
  bool grouped_;
  Frequency frequency_;
  int64_t first_incomplete_;
  GapFill fill_;
  std::vector<std::string> regressors_;
  int64_t last_ = INT64_MIN;
  struct Group {
    std::vector<std::pair<int64_t, double>> sums;
    std::vector<double> regressors;  // per sum, regressors_.size() values
  };
  std::map<std::string, Group, std::less<>> groups_;
  static void fill_regressors(SeriesData& s, const Group& group, int64_t first, bool grouped,
                              const std::vector<std::string>& names);
};

}  // namespace insight::forecast
