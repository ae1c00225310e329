// train_recommender's options: the interaction columns, the learner's settings, the minimum
// counts and the validation switch, read from JSON and written back
// (core/common/options.hpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/recommend/recommender.hpp"

namespace insight {
class OptionReader;
}

namespace insight::recommend {

// The learner's options (algorithm, factors, iterations, regularization, alpha, neighbors),
// validated; what train_recommender and evaluate_recommender share.
TrainOptions read_learner_options(OptionReader& r);
void write_learner_options(const TrainOptions& o, nlohmann::json& out);

struct RecommenderOptions {
  std::string user_column, item_column;
  std::optional<std::string> weight_column;
  TrainOptions model;  // threads: the server's setting
  uint32_t min_user_interactions = 1, min_item_interactions = 1;
  bool validate = false;  // also measure a held-out fifth of each user's items

  static RecommenderOptions from_json(const nlohmann::json& options);
  nlohmann::json to_json() const;
};

// evaluate_recommender's options: the interaction columns with the time column, the learner's
// settings, k, and the split (a test fraction per user, or a global cut-off time).
struct RecommenderEvaluationOptions {
  std::string user_column, item_column, time_column;
  std::optional<std::string> weight_column;
  TrainOptions model;  // threads: the server's setting
  uint32_t k = 10;
  double test_fraction = 0.2;
  // The cut-off as the text of a timestamptz (the database converts it; the core knows no
  // time zones); none: the per-user split.
  std::optional<std::string> cutoff;

  static RecommenderEvaluationOptions from_json(const nlohmann::json& options);
};

}  // namespace insight::recommend
