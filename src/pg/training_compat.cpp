// The C entry points that released SQL (0.1.0, 0.2.0) names and the current version no longer
// does. They must exist: CREATE FUNCTION checks the symbol, so installing 0.1.0 to update it
// needs them, and a database whose extension is not yet updated (ALTER EXTENSION pg_insight
// UPDATE) still calls them from its old functions. Each is a thin mapping onto the current
// code: the train_* and evaluate_* ones map their positional arguments to the options their
// task's options type reads and go the one training (training.hpp) or evaluation
// (evaluation.hpp) path; the _demo_* ones are _demo_rows for their table. Frozen: new options go
// into the options types and the current SQL wrappers.
#include <string>
#include <vector>

#include "pg/demo.hpp"
#include "pg/evaluation.hpp"
#include "pg/training.hpp"
#include "pg/values.hpp"

namespace {

// The arguments of a released signature as options: argument i is keys[i]. "name", "source"
// and "deploy" are the paths' own arguments (their positions and deploy's value are returned),
// the others options.
struct Positional {
  nlohmann::json options = nlohmann::json::object();
  int name_arg = -1, source_arg = -1;
  bool deploy = true;
};

Positional positional(FunctionCallInfo fcinfo, const std::vector<const char*>& keys) {
  Positional p;
  for (int i = 0; i < static_cast<int>(keys.size()) && i < PG_NARGS(); ++i) {
    const std::string key = keys[static_cast<size_t>(i)];
    if (key == "name") {
      p.name_arg = i;
    } else if (key == "source") {
      p.source_arg = i;
    } else if (key == "deploy") {
      p.deploy = insight::pg::arg_is_null(fcinfo, i) || PG_GETARG_BOOL(i);
    } else {
      p.options[key] = insight::pg::json_arg(fcinfo, i);
    }
  }
  return p;
}

Datum legacy_train(FunctionCallInfo fcinfo, const char* task,
                   const std::vector<const char*>& keys) {
  const Positional p = positional(fcinfo, keys);
  return insight::pg::train(fcinfo, task, p.name_arg, p.source_arg, p.options, p.deploy);
}

Datum legacy_evaluate(FunctionCallInfo fcinfo, const char* task,
                      const std::vector<const char*>& keys) {
  const Positional p = positional(fcinfo, keys);
  return insight::pg::evaluate(fcinfo, task, p.source_arg, p.options);
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

// 0.1.0: evaluate_forecaster(source, time_column, value_column, group_column, algorithm,
//                            horizon, folds, confidence)
INSIGHT_FUNCTION(insight_evaluate_forecaster) {
  return legacy_evaluate(fcinfo, "forecast",
                         {"source", "time_column", "value_column", "group_column", "algorithm",
                          "horizon", "folds", "confidence"});
}

// 0.1.0: evaluate_recommender(source, user_column, item_column, time_column, algorithm, k,
//                             test_fraction, weight_column, factors, cutoff, iterations,
//                             regularization, alpha, neighbors)
INSIGHT_FUNCTION(insight_evaluate_recommender) {
  return legacy_evaluate(
      fcinfo, "recommend",
      {"source", "user_column", "item_column", "time_column", "algorithm", "k", "test_fraction",
       "weight_column", "factors", "cutoff", "iterations", "regularization", "alpha", "neighbors"});
}

// 0.1.0: _demo_<table>(days, seed, end_time, step, remotes) → SETOF that table's row.
#define INSIGHT_DEMO_TABLE(table) \
  INSIGHT_FUNCTION(insight_demo_##table) { return insight::pg::demo_rows(fcinfo, #table, 0); }
INSIGHT_DEMO_TABLE(products)
INSIGHT_DEMO_TABLE(transactions)
INSIGHT_DEMO_TABLE(networks)
INSIGHT_DEMO_TABLE(satellites)
INSIGHT_DEMO_TABLE(sites)
INSIGHT_DEMO_TABLE(hub_antennas)
INSIGHT_DEMO_TABLE(links)
INSIGHT_DEMO_TABLE(link_metrics)
INSIGHT_DEMO_TABLE(site_metrics)
INSIGHT_DEMO_TABLE(network_metrics)
INSIGHT_FUNCTION(insight_demo_ground_truth) {
  return insight::pg::demo_rows(fcinfo, "demo_ground_truth", 0);
}
