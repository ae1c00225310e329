// linear: ridge regression (Eigen) on the shared daily features (features.hpp), standardized,
// with an L2 penalty; multi-step forecasts are recursive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/binary_io_fwd.hpp"
#include "core/forecast/frequency.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {

class RidgeForecaster {
 public:
  // Needs feature_warmup() + kMinTrainingRows periods. lambda is per training row.
  static constexpr size_t kMinTrainingRows = 14;
  void fit(const SeriesStart& first, const std::vector<double>& series, double lambda = 1.0);
  std::vector<double> forecast(int horizon) const;
  Explanation explain(int horizon) const;  // explain_recursive(): level, calendar, lags, rolling
  void write(BinaryWriter& w) const;
  // CorruptPayload if the state is inconsistent.
  static RidgeForecaster read(BinaryReader& r, const Frequency& frequency);

 private:
  double predict(const double* x) const;
  std::vector<double> weights_, mean_, scale_;
  double intercept_ = 0;
  SeriesStart next_{0};          // the first period after the training series
  std::vector<double> history_;  // the last feature_warmup() periods, to continue recursively
};

}  // namespace insight::forecast
