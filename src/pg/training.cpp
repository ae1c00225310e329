// See training.hpp.
#include "pg/training.hpp"

#include <chrono>
#include <string>
#include <utility>

#include "core/common/error.hpp"
#include "pg/catalog_writer.hpp"
#include "pg/values.hpp"

namespace insight::pg {

Datum train(FunctionCallInfo fcinfo, const std::string& task, int name_arg, int source_arg,
            const nlohmann::json& options, bool deploy) {
  const auto started = std::chrono::steady_clock::now();
  const TimestampTz started_at = guard([] { return GetCurrentTimestamp(); });
  const std::string name = text_arg(fcinfo, name_arg, "name");
  check_model_name(name);
  const SourceRelation source = source_relation(fcinfo, source_arg);
  const std::unique_ptr<TaskTraining> training =
      TaskRegistry<TaskTraining>::make(task, options, "training");
  check_select(source, training->columns());
  TrainedVersion trained = training->train(source, name);

  StoreRequest request;
  request.name = name;
  request.task = task_name(trained.task);
  request.algorithm = algorithm_name(trained.algorithm);
  request.payload = std::move(trained.payload);
  request.features = std::move(trained.features);
  request.source = source.qualified;
  request.params_json = training->params().dump();
  request.metrics_json = trained.metrics.dump();
  request.rows_used = trained.rows_used;
  request.rows_skipped = trained.rows_skipped;
  request.started_at = started_at;
  request.deploy = deploy;
  request.training_ms = static_cast<double>(elapsed_us(started)) / 1000.0;
  return store_model(request);
}

}  // namespace insight::pg

// _train(task text, name text, source regclass, options jsonb, deploy bool)
//   → insight.training_result
INSIGHT_FUNCTION(insight_train) {
  const std::string task = insight::pg::text_arg(fcinfo, 0, "task");
  const nlohmann::json options = insight::pg::options_arg(fcinfo, 3);
  const bool deploy = insight::pg::arg_is_null(fcinfo, 4) || PG_GETARG_BOOL(4);
  return insight::pg::train(fcinfo, task, 1, 2, options, deploy);
}
