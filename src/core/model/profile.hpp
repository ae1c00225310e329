// Training-time profiles and drift (insight.model_drift): what a variable looked like when a
// model was trained — quantile bins, the share of training values in each, the range — and how
// far recent values have moved from it.
//
// A Distribution is built from a sample of the training values (an anomaly detector's
// reservoir: a uniform sample of every training row). Its bins are cut at the sample's
// quantiles (equal shares, ties merged), and recent values are counted in the same bins with
// the same rule, so an unchanged variable gives the training shares back up to sampling noise.
//
// Drift statistics, each against a threshold:
//   psi           population stability index, sum over bins of (a - e) ln(a / e) with shares
//                 floored at kShareFloor; values below the training minimum and above its
//                 maximum are two more bins of training share 0, so a shift beyond the range
//                 weighs in full instead of piling into the top decile. 0.1 is a moderate
//                 change, 0.2 (kPsiThreshold) a large one by the usual credit-scoring
//                 convention; without any change its expectation is about (bins - 1) / recent
//                 rows, so a verdict needs kMinRows rows;
//   out_of_range  the share of recent values below the training minimum or above its maximum;
//                 drifted above kOutOfRangeThreshold, 5 %: the share an anomaly detector calls
//                 anomalous by default. An incident of a few hours puts about 1 % of three days
//                 of demo telemetry out of range, which is what detectors are for, not drift.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace insight::profile {

constexpr int kBins = 10;
constexpr double kShareFloor = 1e-4;
constexpr double kPsiThreshold = 0.2;
constexpr double kOutOfRangeThreshold = 0.05;
constexpr uint64_t kMinRows = 500;

struct Distribution {
  std::vector<double>
      edges;  // inner bin edges, strictly ascending; bin i is (edges[i-1], edges[i]]
  std::vector<double> shares;  // edges.size() + 1 training shares, summing to 1
  double min = 0;
  double max = 0;
  uint64_t count = 0;  // training values it was built from

  // From a sample of finite values (at least one); bins ≤ kBins.
  static Distribution of(std::vector<double> values, int bins = kBins);
  size_t bin(double x) const;  // the bin x falls in
  size_t bins() const { return shares.size(); }

  nlohmann::json to_json() const;
  // Throws CorruptPayload unless j is a well-formed distribution (what to_json writes).
  static Distribution from_json(const nlohmann::json& j);
};

// Recent values counted in a distribution's bins; values outside the training range count
// apart (below, above), as two more bins whose training share is zero.
struct Histogram {
  std::vector<uint64_t> counts;  // values within [min, max], by bin
  uint64_t n = 0;
  uint64_t below = 0;
  uint64_t above = 0;

  explicit Histogram(const Distribution& d) : counts(d.bins(), 0) {}
  void add(const Distribution& d, double x) {
    ++n;
    if (x < d.min)
      ++below;
    else if (x > d.max)
      ++above;
    else
      ++counts[d.bin(x)];
  }
};

// Population stability index of the recent values against the training shares; 0 for no rows.
double psi(const Distribution& expected, const Histogram& recent);
double out_of_range_share(const Histogram& recent);

// One row of insight.model_drift: drifted is unknown (has_verdict false) with fewer than
// kMinRows recent rows.
struct DriftRow {
  std::string feature;
  std::string statistic;
  double value;
  double threshold;
  bool has_value;
  bool has_verdict;
  bool drifted;
};
// The psi and out_of_range rows of one variable.
std::vector<DriftRow> drift_rows(const std::string& feature, const Distribution& expected,
                                 const Histogram& recent, bool with_range = true);

// The profile an anomaly detector's payload keeps under "profile": each feature's distribution
// (in the model's feature order), the training scores' distribution, and the time column of
// the source it was trained on (empty: none).
struct AnomalyProfile {
  std::vector<Distribution> features;
  Distribution scores;
  std::string time_column;

  nlohmann::json to_json() const;
  // Throws CorruptPayload unless well formed with n_features features.
  static AnomalyProfile from_json(const nlohmann::json& j, size_t n_features);
};

}  // namespace insight::profile
