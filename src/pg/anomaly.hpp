// Shared by the anomaly files of src/pg: anomaly_aggregate.cpp (the isolation_forest_fit
// aggregate), anomaly_scoring.cpp (scoring a bytea or a named model, binding features by
// column name from a row) and anomaly_training.cpp (train_anomaly_detector's task,
// evaluate_anomaly_detector).
#pragma once

#include <cstddef>
#include <string>

#include "core/anomaly/anomaly_model.hpp"
#include "core/common/error.hpp"
#include "pg/model_store.hpp"
#include "pg/values.hpp"

namespace insight::pg::anomaly {

// The float8[] of one row: its values, or nullptr when the array or an element is NULL.
// Throws InvalidParameter for a multi-dimensional or empty array.
struct RowValues {
  const double* data = nullptr;
  size_t size = 0;
};
RowValues row_values(FunctionCallInfo fcinfo, int n);

// 22023 unless every value is finite.
void check_finite(const double* x, size_t n);

// The model as an anomaly detector, or the wrong-kind error (wrong_model_kind). describe()
// names it in the message; it is only called when the check fails (it converts the name
// argument, which the hot path must not), and the check compares two tags instead of a
// dynamic_cast per scored row.
template <typename Describe>
const insight::anomaly::AnomalyModel& as_anomaly_model(const Model& m, Describe describe) {
  if (m.task() != Task::Anomaly || m.algorithm() != Algorithm::IsolationForest)
    wrong_model_kind(m, describe(), "an anomaly detector",
                     "insight.train_anomaly_detector or insight.isolation_forest_fit");
  return static_cast<const insight::anomaly::AnomalyModel&>(m);
}

}  // namespace insight::pg::anomaly
