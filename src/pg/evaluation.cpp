// See evaluation.hpp.
#include "pg/evaluation.hpp"

#include <memory>
#include <string>

namespace insight::pg {

Datum evaluate(FunctionCallInfo fcinfo, const std::string& task, int source_arg,
               const nlohmann::json& options) {
  const SourceRelation source = source_relation(fcinfo, source_arg);
  const std::unique_ptr<TaskEvaluation> evaluation =
      TaskRegistry<TaskEvaluation>::make(task, options, "evaluation");
  check_select(source, evaluation->columns());
  RowSink sink(fcinfo);
  evaluation->evaluate(source, sink);
  return static_cast<Datum>(0);
}

}  // namespace insight::pg

// _evaluate(task text, source regclass, options jsonb)
//   → TABLE(algorithm text, metric text, value float8)
INSIGHT_FUNCTION(insight_evaluate) {
  const std::string task = insight::pg::text_arg(fcinfo, 0, "task");
  return insight::pg::evaluate(fcinfo, task, 1, insight::pg::options_arg(fcinfo, 2));
}
