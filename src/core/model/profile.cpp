#include "core/model/profile.hpp"

#include <algorithm>
#include <cmath>

#include "core/common/error.hpp"

namespace insight::profile {

namespace {
[[noreturn]] void corrupt(const std::string& what) {
  throw CorruptPayload("model payload is corrupt: " + what);
}

constexpr size_t kMaxEdges = 1000;
}  // namespace

Distribution Distribution::of(std::vector<double> values, int bins) {
  if (values.empty()) throw InvalidParameter("a distribution needs one value at least");
  if (bins < 1) throw InvalidParameter("a distribution needs one bin at least");
  for (double v : values)
    if (!std::isfinite(v)) throw InvalidParameter("distribution values must be finite");
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  Distribution d;
  d.min = values.front();
  d.max = values.back();
  d.count = n;
  // The k-th of `bins` quantiles, k = 1 .. bins - 1: the value below which k / bins of the
  // sample lies; repeated values (ties) merge bins.
  for (int k = 1; k < bins; ++k) {
    const size_t rank = (static_cast<size_t>(k) * n + static_cast<size_t>(bins) - 1) /
                        static_cast<size_t>(bins);  // ceil(k n / bins), ≥ 1
    const double edge = values[rank - 1];
    if (d.edges.empty() || edge > d.edges.back()) d.edges.push_back(edge);
  }
  std::vector<uint64_t> counts(d.edges.size() + 1, 0);
  for (double v : values) ++counts[d.bin(v)];
  for (uint64_t c : counts) d.shares.push_back(static_cast<double>(c) / static_cast<double>(n));
  return d;
}

size_t Distribution::bin(double x) const {
  return static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), x) - edges.begin());
}

nlohmann::json Distribution::to_json() const {
  return {{"edges", edges}, {"shares", shares}, {"min", min}, {"max", max}, {"count", count}};
}

Distribution Distribution::from_json(const nlohmann::json& j) {
  Distribution d;
  try {
    if (!j.is_object()) corrupt("a profile distribution is not an object");
    const auto& e = j.at("edges");
    const auto& s = j.at("shares");
    if (!e.is_array() || !s.is_array() || e.size() > kMaxEdges || s.size() != e.size() + 1)
      corrupt("a profile distribution's bins are malformed");
    d.edges = e.get<std::vector<double>>();
    d.shares = s.get<std::vector<double>>();
    d.min = j.at("min").get<double>();
    d.max = j.at("max").get<double>();
    if (!j.at("count").is_number_unsigned()) corrupt("a profile distribution's count is invalid");
    d.count = j.at("count").get<uint64_t>();
  } catch (const nlohmann::json::exception&) {
    corrupt("a profile distribution is malformed");
  }
  if (!std::isfinite(d.min) || !std::isfinite(d.max) || d.min > d.max)
    corrupt("a profile distribution's range is invalid");
  for (size_t i = 0; i < d.edges.size(); ++i)
    if (!std::isfinite(d.edges[i]) || (i > 0 && !(d.edges[i] > d.edges[i - 1])))
      corrupt("a profile distribution's edges are not ascending");
  double sum = 0;
  for (double share : d.shares) {
    if (!(share >= 0 && share <= 1)) corrupt("a profile distribution's shares are invalid");
    sum += share;
  }
  if (std::abs(sum - 1.0) > 1e-6) corrupt("a profile distribution's shares do not sum to 1");
  return d;
}

namespace {
double psi_term(double expected_share, uint64_t count, uint64_t n) {
  const double e = std::max(expected_share, kShareFloor);
  const double a = std::max(static_cast<double>(count) / static_cast<double>(n), kShareFloor);
  return (a - e) * std::log(a / e);
}
}  // namespace

double psi(const Distribution& expected, const Histogram& recent) {
  if (recent.n == 0) return 0;
  double sum = psi_term(0, recent.below, recent.n) + psi_term(0, recent.above, recent.n);
  for (size_t i = 0; i < expected.bins(); ++i)
    sum += psi_term(expected.shares[i], recent.counts[i], recent.n);
  return sum;
}

double out_of_range_share(const Histogram& recent) {
  return recent.n == 0
             ? 0
             : static_cast<double>(recent.below + recent.above) / static_cast<double>(recent.n);
}

std::vector<DriftRow> drift_rows(const std::string& feature, const Distribution& expected,
                                 const Histogram& recent, bool with_range) {
  const bool has_value = recent.n > 0;
  const bool has_verdict = recent.n >= kMinRows;
  std::vector<DriftRow> rows;
  const double p = psi(expected, recent);
  rows.push_back({feature, "psi", p, kPsiThreshold, has_value, has_verdict, p > kPsiThreshold});
  if (with_range) {
    const double o = out_of_range_share(recent);
    rows.push_back({feature, "out_of_range", o, kOutOfRangeThreshold, has_value, has_verdict,
                    o > kOutOfRangeThreshold});
  }
  return rows;
}

nlohmann::json AnomalyProfile::to_json() const {
  nlohmann::json f = nlohmann::json::array();
  for (const auto& d : features) f.push_back(d.to_json());
  return {{"features", f},
          {"scores", scores.to_json()},
          {"time_column", time_column.empty() ? nlohmann::json() : nlohmann::json(time_column)}};
}

AnomalyProfile AnomalyProfile::from_json(const nlohmann::json& j, size_t n_features) {
  AnomalyProfile p;
  if (!j.is_object() || !j.contains("features") || !j.contains("scores"))
    corrupt("the profile is malformed");
  const nlohmann::json& features = j["features"];
  if (!features.is_array() || features.size() != n_features)
    corrupt("the profile does not match the model's features");
  for (const auto& d : features) p.features.push_back(Distribution::from_json(d));
  p.scores = Distribution::from_json(j["scores"]);
  if (j.contains("time_column") && !j["time_column"].is_null()) {
    if (!j["time_column"].is_string()) corrupt("the profile's time column is not text");
    p.time_column = j["time_column"].get<std::string>();
  }
  return p;
}

}  // namespace insight::profile
