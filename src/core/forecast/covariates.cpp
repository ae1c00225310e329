#include "core/forecast/covariates.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "core/common/binary_io.hpp"
#include "core/common/eigen.hpp"
#include "core/common/error.hpp"
#include "core/forecast/features.hpp"

namespace insight::forecast {

// ---- holidays ----

HolidayCalendar HolidayCalendar::from_rows(std::vector<std::pair<int64_t, std::string>> rows) {
  HolidayCalendar c;
  std::map<std::string, uint32_t> index;
  for (const auto& [day, name] : rows) {
    if (name.empty()) throw InvalidParameter("holidays has a row with an empty name");
    if (!valid_day(day))
      throw InvalidParameter("holidays has a day outside 0001-01-01 .. 9999-12-31");
    index.emplace(name, 0);
  }
  if (index.size() > kMaxHolidayNames)
    throw InvalidParameter("holidays has " + std::to_string(index.size()) + " distinct names",
                           "At most " + std::to_string(kMaxHolidayNames) + " are estimated.",
                           "Name recurring events alike (\"Easter Monday\" every year).");
  if (rows.size() > kMaxHolidayDays)
    throw InvalidParameter("holidays has " + std::to_string(rows.size()) + " rows",
                           "At most " + std::to_string(kMaxHolidayDays) + " are read.");
  for (auto& [name, i] : index) {
    i = static_cast<uint32_t>(c.names_.size());
    c.names_.push_back(name);
  }
  for (const auto& [day, name] : rows) c.days_.emplace_back(day, index.at(name));
  std::sort(c.days_.begin(), c.days_.end());
  c.days_.erase(std::unique(c.days_.begin(), c.days_.end()), c.days_.end());
  return c;
}

void HolidayCalendar::counts(const Frequency& f, int64_t period, double* out) const {
  std::fill(out, out + names_.size(), 0.0);
  const int64_t first = f.start_day(period);
  // A step of a day lies within its day; a day, week or month covers [first, next start).
  const int64_t end = f.sub_daily() ? first + 1 : f.start_day(period + 1);
  auto it = std::lower_bound(days_.begin(), days_.end(), std::make_pair(first, uint32_t{0}));
  for (; it != days_.end() && it->first < end; ++it) out[it->second] += 1.0;
}

void HolidayCalendar::write(BinaryWriter& w) const {
  w.u64(names_.size());
  for (const std::string& n : names_) w.str(n);
  w.u64(days_.size());
  for (const auto& [day, name] : days_) {
    w.i64(day);
    w.u32(name);
  }
}

HolidayCalendar HolidayCalendar::read(BinaryReader& r) {
  HolidayCalendar c;
  const uint64_t names = r.count(kMaxHolidayNames, 4);
  for (uint64_t i = 0; i < names; ++i) {
    c.names_.push_back(r.str(1u << 12));
    if (c.names_.back().empty() || (i > 0 && !(c.names_[i - 1] < c.names_[i])))
      throw CorruptPayload("holiday names are empty or not sorted");
  }
  const uint64_t days = r.count(kMaxHolidayDays, 12);
  for (uint64_t i = 0; i < days; ++i) {
    const int64_t day = r.i64();
    const uint32_t name = r.u32();
    if (!valid_day(day) || name >= names) throw CorruptPayload("holiday day or name out of range");
    if (!c.days_.empty() && !(c.days_.back() < std::make_pair(day, name)))
      throw CorruptPayload("holiday days are not sorted");
    c.days_.emplace_back(day, name);
  }
  return c;
}

// ---- covariates ----

Covariates make_covariates(const CovariateSpec& spec, const SeriesStart& first, size_t periods,
                           const std::vector<double>& regressor_rows) {
  const size_t r = spec.regressors.size(), h = spec.holidays.names().size();
  if (regressor_rows.size() != periods * r)
    throw InternalError("regressor rows do not match the periods");
  Covariates c;
  c.width = spec.width();
  c.regressors = r;
  c.values.resize(periods * c.width);
  for (size_t t = 0; t < periods; ++t) {
    double* row = c.values.data() + t * c.width;
    std::copy_n(regressor_rows.data() + t * r, r, row);
    if (h == 0) continue;
    spec.holidays.counts(first.frequency, first.after(t).period, row + r);
    row[r + h] = std::accumulate(row + r, row + r + h, 0.0);
  }
  return c;
}

// ---- effects ----

namespace {
// Each column's ridge penalty, relative to its own sum of squared differences: regressors and
// "any" holiday, and a holiday name's deviation from it.
constexpr double kRidge = 0.01;
constexpr double kNameRidge = 1.0;
}  // namespace

Effects Effects::fit(const std::vector<double>& series, const Covariates& cov, int season) {
  const size_t n = series.size(), k = cov.width, m = static_cast<size_t>(std::max(season, 1));
  if (cov.rows() < n) throw InternalError("covariates do not cover the series");
  Effects e;
  e.beta_.assign(k, 0.0);
  e.center_.assign(k, 0.0);
  e.non_negative_ = std::all_of(series.begin(), series.end(), [](double v) { return v >= 0; });
  std::vector<double> column(n);
  for (size_t j = 0; j < cov.regressors && n > 0; ++j) {
    for (size_t t = 0; t < n; ++t) column[t] = cov.row(t)[j];
    std::nth_element(column.begin(), column.begin() + static_cast<long>(n / 2), column.end());
    e.center_[j] = column[n / 2];
  }
  if (k == 0 || n <= m) return e;
  const auto rows = static_cast<Eigen::Index>(n - m), cols = static_cast<Eigen::Index>(k);
  Eigen::MatrixXd A(rows, cols);
  Eigen::VectorXd b(rows);
  for (size_t t = m; t < n; ++t) {
    const auto i = static_cast<Eigen::Index>(t - m);
    b(i) = series[t] - series[t - m];
    for (size_t j = 0; j < k; ++j)
      A(i, static_cast<Eigen::Index>(j)) = cov.row(t)[j] - cov.row(t - m)[j];
  }
  // A column whose changes are negligible against its values (1e-9 of them: rounding, not a
  // change) carries no information either, and an effect fitted on it would be enormous:
  // its changes count as none.
  for (Eigen::Index j = 0; j < cols; ++j) {
    double level = 0;
    for (size_t t = 0; t < n; ++t) level = std::max(level, std::abs(cov.row(t)[j]));
    if (!(A.col(j).cwiseAbs().maxCoeff() > 1e-9 * level)) A.col(j).setZero();
  }
  Eigen::MatrixXd AtA = A.transpose() * A;
  const Eigen::VectorXd rhs = A.transpose() * b;
  // A column that never changes (a holiday never seen, a constant price) has a zero row and
  // column here and carries no information: a 1 on its diagonal keeps its effect at 0.
  const auto regressors = static_cast<Eigen::Index>(cov.regressors);
  for (Eigen::Index j = 0; j < cols; ++j) {
    const bool name = j >= regressors && j + 1 < cols;  // "any" is the last column
    AtA(j, j) = AtA(j, j) > 0 ? AtA(j, j) * (1 + (name ? kNameRidge : kRidge)) : 1;
  }
  const Eigen::VectorXd beta = AtA.ldlt().solve(rhs);
  for (size_t j = 0; j < k; ++j) {
    const double v = beta(static_cast<Eigen::Index>(j));
    e.beta_[j] = std::isfinite(v) ? v : 0.0;
  }
  return e;
}

double Effects::effect(const double* row) const {
  double sum = 0;
  for (size_t j = 0; j < beta_.size(); ++j) sum += beta_[j] * (row[j] - center_[j]);
  return sum;
}

std::vector<double> Effects::remove(const std::vector<double>& series,
                                    const Covariates& cov) const {
  if (cov.width != beta_.size() || cov.rows() < series.size())
    throw InternalError("covariates do not match the effects");
  std::vector<double> out(series);
  for (size_t t = 0; t < out.size(); ++t) out[t] -= effect(cov.row(t));
  return out;
}

void Effects::add(std::vector<double>& forecast, const Covariates& cov, size_t from) const {
  if (cov.width != beta_.size() || cov.rows() < from + forecast.size())
    throw InternalError("covariates do not cover the forecast");
  for (size_t s = 0; s < forecast.size(); ++s) {
    forecast[s] += effect(cov.row(from + s));
    if (non_negative_) forecast[s] = std::max(forecast[s], 0.0);
  }
}

Explanation Effects::components(const CovariateSpec& spec, const Covariates& cov, size_t from,
                                size_t steps) const {
  if (cov.width != beta_.size() || spec.width() != beta_.size() || cov.rows() < from + steps)
    throw InternalError("covariates do not cover the explanation");
  // A regressor named like a component of the learners keeps a prefix: components stay apart.
  static const char* const kReserved[] = {"level", "trend",   "seasonality", "calendar",
                                          "lags",  "rolling", "holiday",     "adjustment"};
  Explanation e;
  for (size_t j = 0; j < spec.regressors.size(); ++j) {
    std::string name = spec.regressors[j];
    if (std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved))
      name = "regressor " + name;
    std::vector<double> v(steps);
    for (size_t s = 0; s < steps; ++s) v[s] = beta_[j] * (cov.row(from + s)[j] - center_[j]);
    add_component(e, name, v);
  }
  if (!spec.holidays.empty()) {  // the names' columns and "any"
    std::vector<double> v(steps, 0.0);
    for (size_t s = 0; s < steps; ++s)
      for (size_t j = spec.regressors.size(); j < beta_.size(); ++j)
        v[s] += beta_[j] * cov.row(from + s)[j];
    add_component(e, "holiday", v);
  }
  return e;
}

double Effects::holiday_effect(const CovariateSpec& spec, size_t name) const {
  if (spec.width() != beta_.size() || name >= spec.holidays.names().size())
    throw InternalError("no such holiday effect");
  return beta_.back() + beta_[spec.regressors.size() + name];
}

void Effects::write(BinaryWriter& w) const {
  w.f64_array(beta_);
  w.f64_array(center_);
  w.u8(non_negative_ ? 1 : 0);
}

Effects Effects::read(BinaryReader& r, size_t width) {
  Effects e;
  e.beta_ = r.f64_array(width);
  e.center_ = r.f64_array(width);
  const uint8_t flag = r.u8();
  if (e.beta_.size() != width || e.center_.size() != width || flag > 1)
    throw CorruptPayload("covariate effects do not match the model's covariates");
  for (size_t j = 0; j < width; ++j)
    if (!std::isfinite(e.beta_[j]) || !std::isfinite(e.center_[j]))
      throw CorruptPayload("covariate effect is not finite");
  e.non_negative_ = flag == 1;
  return e;
}

}  // namespace insight::forecast
