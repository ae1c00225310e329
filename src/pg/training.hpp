// The one training path (docs/architecture.md, "Training"). Every train_* SQL function is a
// thin wrapper that builds its options as jsonb and calls insight._train(task, name, source,
// options, deploy); retrain replays a stored version's params through the same call. The
// entry does the shared work once — the name check, the source and its privileges, timing,
// the catalog write with the training's own figures — and hands the rest to the task:
//
//   options JSON --(the task's options type, src/core/<area>/options.hpp)--> TaskTraining
//   TaskTraining::train(source) --(its reader: aggregate, series grid, interactions,
//                                  incidents; then the core's learner)--> TrainedVersion
//
// A task registers itself (TaskRegistrationOf, task_registry.hpp) in its area's file in src/pg.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/model/algorithm.hpp"
#include "core/model/payload.hpp"
#include "pg/source.hpp"
#include "pg/task_registry.hpp"

namespace insight::pg {

// What a training hands to the catalog.
struct TrainedVersion {
  // The payload encoded, with its task and algorithm.
  TrainedVersion(const Payload& p, std::vector<std::string> features_, int64_t used,
                 int64_t skipped, nlohmann::json metrics_ = nlohmann::json::object())
      : payload(encode_payload(p)),
        task(p.task),
        algorithm(p.algorithm),
        metrics(std::move(metrics_)),
        features(std::move(features_)),
        rows_used(used),
        rows_skipped(skipped) {}

  std::vector<uint8_t> payload;  // encoded, metadata complete
  Task task = Task::Anomaly;
  Algorithm algorithm = Algorithm::External;
  nlohmann::json metrics;
  std::vector<std::string> features;  // models.features
  int64_t rows_used = 0, rows_skipped = 0;
};

// One task's training, its options parsed and validated.
class TaskTraining {
 public:
  virtual ~TaskTraining() = default;
  // The source columns it reads: the caller needs SELECT on them (checked before reading).
  virtual std::vector<std::string> columns() const = 0;
  // The options as written back, stored in models.params: what retrain replays.
  virtual nlohmann::json params() const = 0;
  // Reads the source (as the caller) and trains the version of model `name` (which the
  // anomaly task needs for its earlier versions' labels).
  virtual TrainedVersion train(const SourceRelation& source, const std::string& name) = 0;
};

// A TaskTraining whose options are its task's options type (src/core/<area>/options.hpp:
// Options::from_json validates, to_json writes back): parsed once, before any row is read, and
// stored as the version's params. The tasks derive from it and add their reader and learner.
template <typename Options>
class TrainingWith : public TaskTraining {
 public:
  explicit TrainingWith(const nlohmann::json& options) : o_(Options::from_json(options)) {}
  nlohmann::json params() const final { return o_.to_json(); }

 protected:
  // train() may pin what it resolved (a relation named by text, schema-qualified), so that
  // retrain replays the same.
  Options o_;
};

// Registers Training, a TaskTraining constructed from its task's options (JSON), for `task`:
// `const TaskRegistrationOf<ForecastTraining> kForecastTask("forecast");`.
template <typename Training>
using TaskRegistrationOf = Registration<TaskTraining, Training>;

// The training path itself: insight._train and the entry points of released SQL
// (src/pg/training_compat.cpp) both end here. NULL options mean '{}'.
Datum train(FunctionCallInfo fcinfo, const std::string& task, int name_arg, int source_arg,
            const nlohmann::json& options, bool deploy);

}  // namespace insight::pg
