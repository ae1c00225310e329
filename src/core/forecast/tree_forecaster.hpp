// random_forest and gradient_boosting: regression trees on the shared daily features
// (features.hpp), forecasting recursively like linear. The forest is grown by grow_forest()
// (core/common/regression_forest.hpp) straight into a TreeEnsemble, the validated form payloads
// store; the boosted trees by XGBoost's C API (reg:squarederror), then copied into one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/common/regression_forest.hpp"
#include "core/common/tree_ensemble.hpp"
#include "core/forecast/frequency.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {

struct BoostingOptions {
  int rounds = 40;
  int max_depth = 3;
  double eta = 0.15;
  double subsample = 0.8;
  double colsample = 0.8;
  double min_child_weight = 3;
};

// Boosted trees (XGBoost) on a row-major design matrix X (rows × features), copied into a
// TreeEnsemble. `library_predictions`, if given, receives XGBoost's own predictions for every
// row of X, so tests can check the copy predicts exactly what XGBoost predicts. (Random forests:
// grow_forest(), core/common/regression_forest.hpp; ForestOptions' defaults are sized for
// 'auto' over many series, where every candidate is fitted folds + 1 times per series.)
TreeEnsemble grow_boosted_trees(const std::vector<double>& X, const std::vector<double>& y,
                                size_t features, const BoostingOptions& options,
                                const InterruptCheck& check = {},
                                std::vector<double>* library_predictions = nullptr);

class TreeForecaster {
 public:
  // Both need feature_warmup() + kMinTrainingRows periods.
  static constexpr size_t kMinTrainingRows = 14;
  // Trees learn from the most recent training_window() rows only (200 days; two long seasons of
  // a sub-daily series, 336 hours): older periods cost time and, for trees that cannot
  // extrapolate a level, mostly describe a level the series has left.
  static constexpr size_t kTrainingWindow = 200;
  static size_t training_window(const Frequency& f) noexcept;
  enum class Kind : uint8_t { RandomForest = 0, GradientBoosting = 1 };

  // The InterruptCheck runs between boosting rounds; it must be callable from this thread.
  void fit_random_forest(const SeriesStart& first, const std::vector<double>& series,
                         const ForestOptions& options = {});
  void fit_gradient_boosting(const SeriesStart& first, const std::vector<double>& series,
                             const BoostingOptions& options = {}, const InterruptCheck& check = {});
  std::vector<double> forecast(int horizon) const;
  Explanation explain(int horizon) const;  // explain_recursive(): level, calendar, lags, rolling
  Kind kind() const noexcept { return kind_; }
  const TreeEnsemble& ensemble() const noexcept { return ensemble_; }

  void write(BinaryWriter& w) const;
  static TreeForecaster read(BinaryReader& r, const Frequency& frequency);

 private:
  void keep_history(const SeriesStart& first, const std::vector<double>& series);
  Kind kind_ = Kind::RandomForest;
  TreeEnsemble ensemble_;
  SeriesStart next_{0};
  std::vector<double> history_;  // the last feature_warmup() periods
};

}  // namespace insight::forecast
