// train_root_cause_classifier's options: the boosting settings (the SQL function passes none
// and gets the defaults; a stored version's params carry them, so retrain replays them).
#pragma once

#include <nlohmann/json.hpp>

#include "core/rootcause/classifier.hpp"

namespace insight::rootcause {

// The boosting settings as JSON (also the payload's metadata "options").
nlohmann::json to_json(const ClassifierOptions& o);

// The options type of the root-cause task, as each area has one: from_json validates, to_json
// writes back what retrain replays.
struct ClassifierTrainingOptions : ClassifierOptions {
  static ClassifierTrainingOptions from_json(const nlohmann::json& options);
  nlohmann::json to_json() const;
};

}  // namespace insight::rootcause
