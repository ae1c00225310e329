// train_root_cause_classifier's options: the boosting settings (the SQL function passes none
// and gets the defaults; a stored version's params carry them, so retrain replays them).
#pragma once

#include <nlohmann/json.hpp>

#include "core/rootcause/classifier.hpp"

namespace insight::rootcause {

ClassifierOptions classifier_options_from_json(const nlohmann::json& options);
nlohmann::json to_json(const ClassifierOptions& o);

}  // namespace insight::rootcause
