// The C entry points of released SQL (0.1.0, 0.2.0): a database whose extension has not yet
// been updated (ALTER EXTENSION pg_insight UPDATE) still calls these by name from its old
// train_* functions. Each maps its positional arguments to the options its task's options
// type reads and goes the one training path (training.hpp). Frozen: new options are added to
// the options types and the SQL wrappers of the current version, never here.
#include <string>
#include <vector>

#include "pg/training.hpp"
#include "pg/values.hpp"

namespace {

// The options of a released train_* signature: argument i is keys[i]; "name", "source" and
// "deploy" are the training path's own arguments, the others options.
Datum legacy_train(FunctionCallInfo fcinfo, const char* task,
                   const std::vector<const char*>& keys) {
  nlohmann::json options = nlohmann::json::object();
  int name_arg = -1, source_arg = -1;
  bool deploy = true;
  for (int i = 0; i < static_cast<int>(keys.size()) && i < PG_NARGS(); ++i) {
    const std::string key = keys[static_cast<size_t>(i)];
    if (key == "name") {
      name_arg = i;
    } else if (key == "source") {
      source_arg = i;
    } else if (key == "deploy") {
      deploy = insight::pg::arg_is_null(fcinfo, i) || PG_GETARG_BOOL(i);
    } else {
      options[key] = insight::pg::json_arg(fcinfo, i);
    }
  }
  return insight::pg::train(fcinfo, task, name_arg, source_arg, options, deploy);
}

}  // namespace

// 0.1.0: train_anomaly_detector(name, source, features, contamination, n_trees, sample_size,
//                               deploy, seed, standardize)
INSIGHT_FUNCTION(insight_train_anomaly_detector) {
  return legacy_train(fcinfo, "anomaly",
                      {"name", "source", "features", "contamination", "n_trees", "sample_size",
                       "deploy", "seed", "standardize"});
}

// 0.1.0: train_forecaster(name, source, time_column, value_column, group_column, algorithm,
//                         horizon, deploy)
INSIGHT_FUNCTION(insight_train_forecaster) {
  return legacy_train(fcinfo, "forecast",
                      {"name", "source", "time_column", "value_column", "group_column", "algorithm",
                       "horizon", "deploy"});
}

// 0.1.0 (15 arguments) and 0.2.0 (16, with validate): train_recommender(name, source,
// user_column, item_column, weight_column, algorithm, factors, deploy, iterations,
// regularization, alpha, neighbors, min_user_interactions, min_item_interactions, seed
// [, validate])
INSIGHT_FUNCTION(insight_train_recommender) {
  return legacy_train(fcinfo, "recommend",
                      {"name", "source", "user_column", "item_column", "weight_column", "algorithm",
                       "factors", "deploy", "iterations", "regularization", "alpha", "neighbors",
                       "min_user_interactions", "min_item_interactions", "seed", "validate"});
}

// 0.1.0: train_root_cause_classifier(name, source, deploy)
INSIGHT_FUNCTION(insight_train_root_cause_classifier) {
  return legacy_train(fcinfo, "root_cause", {"name", "source", "deploy"});
}
