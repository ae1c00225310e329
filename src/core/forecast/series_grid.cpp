#include "core/forecast/series_grid.hpp"

#include <algorithm>

#include "core/common/error.hpp"
#include "core/forecast/features.hpp"

namespace insight::forecast {

bool SeriesGrid::add(std::string_view key, int64_t day, double sum) {
  if (day >= first_incomplete_day_) return false;
  auto it = groups_.find(key);
  if (it == groups_.end())
    it = groups_.emplace(std::string(key), std::vector<std::pair<int64_t, double>>{}).first;
  it->second.emplace_back(day, sum);
  last_day_ = std::max(last_day_, day);
  return true;
}

size_t SeriesGrid::cells() const noexcept {
  size_t n = 0;
  for (const auto& [key, days] : groups_) {
    const int64_t first = std::min_element(days.begin(), days.end())->first;  // days is never empty
    n += static_cast<size_t>(last_day_ - first + 1);
  }
  return n;
}

std::vector<SeriesData> SeriesGrid::build() const {
  std::vector<SeriesData> out;
  out.reserve(groups_.size());
  for (const auto& [key, days] : groups_) {
    const int64_t first = std::min_element(days.begin(), days.end())->first;
    const int64_t length = last_day_ - first + 1;
    if (length > kMaxSeriesDays)
      throw InvalidParameter(
          (grouped_ ? "group \"" + key + "\"" : std::string("the series")) + " spans " +
              std::to_string(length) + " days",
          "A series may span at most " + std::to_string(kMaxSeriesDays) + " days (100 years).");
    if (!valid_day(first) || !valid_day(last_day_ + 367))
      throw InvalidParameter("dates must lie between 0001-01-01 and 9998-12-31");
    SeriesData s;
    s.key = key;
    s.first_day = first;
    s.values.assign(static_cast<size_t>(length), 0.0);
    for (const auto& [day, sum] : days) s.values[static_cast<size_t>(day - first)] = sum;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace insight::forecast
