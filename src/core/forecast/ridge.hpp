// linear: ridge regression (Eigen) on the shared daily features (features.hpp), standardized,
// with an L2 penalty; multi-step forecasts are recursive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/binary_io_fwd.hpp"

namespace insight::forecast {

class RidgeForecaster {
 public:
  // Needs kFeatureWarmup + min_training_rows days. lambda is per training row.
  static constexpr size_t kMinTrainingRows = 14;
  void fit(int64_t first_day, const std::vector<double>& series, double lambda = 1.0);
  std::vector<double> forecast(int horizon) const;
  void write(BinaryWriter& w) const;
  // CorruptPayload if the state is inconsistent.
  static RidgeForecaster read(BinaryReader& r);

 private:
  std::vector<double> weights_, mean_, scale_;
  double intercept_ = 0;
  int64_t next_day_ = 0;
  std::vector<double> history_;  // the last kFeatureWarmup days, to continue recursively
};

}  // namespace insight::forecast
