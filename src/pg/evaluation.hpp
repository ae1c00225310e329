// The one evaluation path: evaluate_forecaster and evaluate_recommender are SQL wrappers that
// build their options as jsonb and call insight._evaluate(task, source, options), as the
// train_* functions call insight._train. The entry resolves the source, has the task's
// options type parse the options (before any row is read), checks the caller's SELECT on the
// columns the evaluation reads, and returns its rows (algorithm, metric, value).
// (evaluate_anomaly_detector scores a trained model against labels: it takes a model name,
// not options, and stays a C function of its own.)
#pragma once

#include <string>
#include <vector>

#include "pg/source.hpp"
#include "pg/task_registry.hpp"
#include "pg/values.hpp"

namespace insight::pg {

// One task's evaluation, its options parsed and validated.
class TaskEvaluation {
 public:
  virtual ~TaskEvaluation() = default;
  // The source columns it reads: the caller needs SELECT on them (checked before reading).
  virtual std::vector<std::string> columns() const = 0;
  // Reads the source (as the caller), evaluates, and puts (algorithm, metric, value) rows.
  virtual void evaluate(const SourceRelation& source, RowSink& sink) = 0;
};

// A TaskEvaluation whose options are its task's evaluation options type (from_json validates):
// parsed once, before any row is read.
template <typename Options>
class EvaluationWith : public TaskEvaluation {
 public:
  explicit EvaluationWith(const nlohmann::json& options) : o_(Options::from_json(options)) {}

 protected:
  const Options o_;
};

template <typename Evaluation>
using EvaluationRegistrationOf = Registration<TaskEvaluation, Evaluation>;

// The evaluation path: insight._evaluate and the entry points of released SQL
// (src/pg/training_compat.cpp) both end here.
Datum evaluate(FunctionCallInfo fcinfo, const std::string& task, int source_arg,
               const nlohmann::json& options);

}  // namespace insight::pg
