// train_forecaster's options: the columns that make the series and the learner's settings,
// read from JSON and written back (core/common/options.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/forecast/forecast_model.hpp"

namespace insight::forecast {

// 'auto' → nullopt; a learner's name → that learner; anything else 22023 listing the choices.
std::optional<Learner> learner_option(const std::string& algorithm);

struct ForecasterOptions {
  std::string time_column, value_column;
  std::optional<std::string> group_column;
  TrainOptions model;  // learner, horizon, folds (threads: the server's setting)

  static ForecasterOptions from_json(const nlohmann::json& options);
  nlohmann::json to_json() const;
};

}  // namespace insight::forecast
