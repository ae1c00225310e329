// train_anomaly_detector's options: the feature columns and the forest's settings, read from
// JSON and written back (core/common/options.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/anomaly/anomaly_model.hpp"

namespace insight::anomaly {

// 22023 unless n_trees is 1..10000, sample_size 2..1048576 and contamination in (0, 0.5].
void check_options(const TrainOptions& o);

struct DetectorOptions {
  std::vector<std::string> features;  // numeric columns of the source, at least one, distinct
  TrainOptions model;                 // threads is not an option: the server's setting

  static DetectorOptions from_json(const nlohmann::json& options);
  nlohmann::json to_json() const;
};

}  // namespace insight::anomaly
