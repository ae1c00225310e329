// The anomaly detector stored in the catalog: an Isolation Forest over named features, an
// optional robust scaler (per feature (x - median) / IQR), and the threshold that the
// contamination set on the training sample. Built from a Reservoir by the aggregate's final
// function; metadata (features, scaler, threshold, training metrics) is JSON, the forest is
// the binary body.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/anomaly/isolation_forest.hpp"
#include "core/anomaly/reservoir.hpp"
#include "core/model/model.hpp"
#include "core/model/profile.hpp"

namespace insight::anomaly {

struct TrainOptions {
  ForestParams forest;
  double contamination = 0.05;  // (0, 0.5]
  bool standardize = true;
  unsigned threads = 0;  // scoring the sample for the threshold; 0 = one per core
};

struct RobustScaler {
  std::vector<double> median;
  std::vector<double> scale;  // IQR, or 1 where the IQR is 0
  bool empty() const { return median.empty(); }
  // Fitted on the rows of a reservoir.
  static RobustScaler fit(const Reservoir& sample);
};

class AnomalyModel final : public Model {
 public:
  AnomalyModel(nlohmann::json meta, IsolationForest forest, RobustScaler scaler, double threshold);

  const IsolationForest& forest() const { return forest_; }
  const RobustScaler& scaler() const { return scaler_; }
  size_t n_features() const { return forest_.n_features(); }
  double threshold() const { return threshold_; }
  // Feature names from the metadata (empty strings when trained without names).
  const std::vector<std::string>& feature_names() const { return names_; }
  // The training profile (insight.model_drift); none for payloads of pg_insight 0.2.0 and
  // earlier. CorruptPayload at construction when the metadata holds a malformed one.
  const std::optional<profile::AnomalyProfile>& profile() const { return profile_; }

  // x has n_features() finite values. contributions (optional) receives each feature's share
  // of the isolation (sums to 1).
  double score(const double* x, double* contributions = nullptr) const;
  size_t memory_bytes() const override;

 private:
  IsolationForest forest_;
  RobustScaler scaler_;
  double threshold_;
  std::vector<std::string> names_;
  std::optional<profile::AnomalyProfile> profile_;
};

// Trains on the reservoir's rows and returns the payload. Throws InvalidParameter for bad
// options or too few rows (the message says how many were found and how many are needed).
Payload train_anomaly_payload(const Reservoir& sample, const TrainOptions& options,
                              const std::vector<std::string>& feature_names,
                              const InterruptCheck& check = {});

// The training profile (core/model/profile.hpp) of a reservoir's rows and their scores; the
// pg layer adds the source's time column.
profile::AnomalyProfile training_profile(const Reservoir& sample,
                                         const std::vector<double>& scores);

// Loader for load_model(); CorruptPayload for anything inconsistent.
ModelPtr load_anomaly_model(Payload&& payload);

// Throws InvalidParameter unless contamination is in (0, 0.5].
void check_contamination(double contamination);

}  // namespace insight::anomaly
