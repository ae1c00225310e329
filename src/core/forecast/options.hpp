// train_forecaster's options: the columns that make the series and the learner's settings,
// read from JSON and written back (core/common/options.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/forecast/forecast_model.hpp"

namespace insight {
class OptionReader;
}

namespace insight::forecast {

// 'auto' → nullopt; a learner's name → that learner; anything else 22023 listing the choices.
std::optional<Learner> learner_option(const std::string& algorithm);

struct ForecasterOptions {
  std::string time_column, value_column;
  std::optional<std::string> group_column;
  // As asked: 'auto', 'hour', 'day', 'week', 'month' or an interval's text; the SQL layer reads
  // it (an interval needs PostgreSQL's parser) and sets model.frequency.
  std::string frequency = "auto";
  // Numeric (or boolean) columns of the source known ahead, and the holidays relation's name
  // as written (the SQL layer reads both into model.covariates).
  std::vector<std::string> regressors;
  std::optional<std::string> holidays;
  TrainOptions model;  // learner, horizon, folds (threads: the server's setting)

  static ForecasterOptions from_json(const nlohmann::json& options);
  // Its keys from r, validated (from_json is this and the unknown-key check).
  static ForecasterOptions read(OptionReader& r);
  nlohmann::json to_json() const;
};

// evaluate_forecaster's options: train_forecaster's (the series and the learner) and the
// confidence of the intervals whose coverage is measured.
struct ForecastEvaluationOptions {
  ForecasterOptions forecaster;
  double confidence = 0.9;

  static ForecastEvaluationOptions from_json(const nlohmann::json& options);
};

}  // namespace insight::forecast
