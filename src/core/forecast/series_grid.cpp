#include "core/forecast/series_grid.hpp"

#include <algorithm>
#include <cmath>

#include "core/common/error.hpp"
#include "core/forecast/features.hpp"

namespace insight::forecast {

bool SeriesGrid::add(std::string_view key, int64_t period, double sum,
                     const double* regressors) {
  if (period >= first_incomplete_) return false;
  auto it = groups_.find(key);
  if (it == groups_.end()) it = groups_.emplace(std::string(key), Group{}).first;
  it->second.sums.emplace_back(period, sum);
  if (!regressors_.empty()) {
    if (!regressors) throw InternalError("a sum without its regressors");
    it->second.regressors.insert(it->second.regressors.end(), regressors,
                                 regressors + regressors_.size());
  }
  last_ = std::max(last_, period);
  return true;
}

size_t SeriesGrid::cells() const noexcept {
  size_t n = 0;
  for (const auto& [key, group] : groups_) {
    // sums is never empty
    const int64_t first = std::min_element(group.sums.begin(), group.sums.end())->first;
    n += static_cast<size_t>(last_ - first + 1);
  }
  return n;
}

GapFill gap_fill_for(const Frequency& frequency, const TimeFacts& facts) {
  const auto grid = data_grid(facts);
  return grid && grid->sub_daily() && *grid == frequency ? GapFill::Interpolate : GapFill::Zero;
}

namespace {

// Fills the cells not `known` between known ones linearly, after the last known one with its
// value; returns how many were filled. The first cell is always known (a series starts at its
// first period with a row).
size_t interpolate_gaps(std::vector<double>& values, const std::vector<bool>& known) {
  size_t filled = 0, previous = 0;
  for (size_t t = 1; t <= values.size(); ++t) {
    if (t < values.size() && !known[t]) continue;
    const size_t gap = t - previous - 1;
    for (size_t k = 1; k <= gap; ++k) {
      values[previous + k] =
          t < values.size() ? values[previous] + (values[t] - values[previous]) *
                                                     static_cast<double>(k) /
                                                     static_cast<double>(gap + 1)
                            : values[previous];
    }
    filled += gap;
    previous = t;
  }
  return filled;
}

}  // namespace

void SeriesGrid::fill_regressors(SeriesData& s, const Group& group, int64_t first, bool grouped,
                                 const std::vector<std::string>& names) {
  const size_t r = names.size(), n = s.values.size();
  s.regressors.assign(n * r, std::nan(""));
  for (size_t i = 0; i < group.sums.size(); ++i) {
    const auto t = static_cast<size_t>(group.sums[i].first - first);
    std::copy_n(group.regressors.data() + i * r, r, s.regressors.data() + t * r);
  }
  for (size_t j = 0; j < r; ++j) {
    auto at = [&](size_t t) -> double& { return s.regressors[t * r + j]; };
    size_t known = n;  // the first period with a value
    for (size_t t = 0; t < n && known == n; ++t)
      if (!std::isnan(at(t))) known = t;
    if (known == n)
      throw InvalidParameter("regressor \"" + names[j] + "\" has no value in " +
                                 (grouped ? "group \"" + s.key + "\"" : std::string("the source")),
                             "Every row of its complete periods is NULL there.");
    for (size_t t = 0; t < n; ++t)
      if (std::isnan(at(t))) at(t) = t < known ? at(known) : at(t - 1);
  }
}

std::vector<SeriesData> SeriesGrid::build(size_t* interpolated) const {
  if (interpolated) *interpolated = 0;
  std::vector<SeriesData> out;
  out.reserve(groups_.size());
  for (const auto& [key, group] : groups_) {
    const auto& periods = group.sums;
    const int64_t first = std::min_element(periods.begin(), periods.end())->first;
    const int64_t length = last_ - first + 1;
    const int64_t days = frequency_.start_day(last_) - frequency_.start_day(first) + 1;
    if (days > kMaxSeriesDays || length > kMaxSeriesPeriods)
      throw InvalidParameter(
          (grouped_ ? "group \"" + key + "\"" : std::string("the series")) + " spans " +
              std::to_string(length) + " " + frequency_.period_noun() + "s",
          "A series may span at most " + std::to_string(kMaxSeriesDays) + " days (100 years) and " +
              std::to_string(kMaxSeriesPeriods) + " periods.",
          frequency_.sub_daily() ? "Use a coarser frequency, or train on a view of recent rows."
                                 : "");
    if (!frequency_.valid_period(first) || !frequency_.valid_period(last_ + 367))
      throw InvalidParameter("dates must lie between 0001-01-01 and 9998-12-31");
    SeriesData s;
    s.key = key;
    s.first_period = first;
    s.values.assign(static_cast<size_t>(length), 0.0);
    for (const auto& [period, sum] : periods) s.values[static_cast<size_t>(period - first)] = sum;
    if (fill_ == GapFill::Interpolate) {
      std::vector<bool> known(s.values.size(), false);
      for (const auto& [period, sum] : periods) known[static_cast<size_t>(period - first)] = true;
      const size_t filled = interpolate_gaps(s.values, known);
      if (interpolated) *interpolated += filled;
    }
    if (!regressors_.empty()) fill_regressors(s, group, first, grouped_, regressors_);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace insight::forecast
