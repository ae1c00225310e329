// Daily sums per group → the daily series training reads. Each group's series runs from its
// own first day to the last day of all groups; days without a sum are 0 (no sales that day),
// so every group's forecast starts on the same day. Only complete days count: a day that has
// not ended yet (today, when the rows are read; a later one) is left out, so a day of partial
// sales is not taken for a whole day. The SQL layer feeds it the rows of its GROUP BY
// (group, day); the series fuzzer feeds it the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/forecast/forecast_model.hpp"

namespace insight::forecast {

// The longest series: 100 years of days.
constexpr int64_t kMaxSeriesDays = 36525;

class SeriesGrid {
 public:
  // grouped: errors name the group ("group \"k\"") rather than "the series". first_incomplete_day:
  // the first day that has not ended (days since 1970-01-01): it and later days are left out.
  explicit SeriesGrid(bool grouped, int64_t first_incomplete_day = INT64_MAX)
      : grouped_(grouped), first_incomplete_day_(first_incomplete_day) {}

  // One (group, day) sum; a (group, day) comes once. day: days since 1970-01-01. false: the
  // day is not complete and was left out.
  bool add(std::string_view key, int64_t day, double sum);
  bool empty() const noexcept { return groups_.empty(); }
  // Days the grid will hold across all groups (what build() allocates).
  size_t cells() const noexcept;
  // The series, by key. InvalidParameter for a series spanning more than kMaxSeriesDays or
  // dates outside 0001-01-01..9998-12-31 (a year of forecasts included).
  std::vector<SeriesData> build() const;

 private:
  bool grouped_;
  int64_t first_incomplete_day_;
  int64_t last_day_ = INT64_MIN;
  std::map<std::string, std::vector<std::pair<int64_t, double>>, std::less<>> groups_;
};

}  // namespace insight::forecast
