#include "core/forecast/tree_forecaster.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/common/xgboost.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {
namespace {

void check_series(const SeriesStart& first, const std::vector<double>& series,
                  const char* learner) {
  require_history(series, feature_warmup(first.frequency) + TreeForecaster::kMinTrainingRows,
                  learner);
}

}  // namespace

size_t TreeForecaster::training_window(const Frequency& f) noexcept {
  return std::max(kTrainingWindow, 2 * static_cast<size_t>(f.long_season()));
}

// Rows of the most recent training_window() periods (after the feature warm-up).
static void training_rows(const SeriesStart& first, const std::vector<double>& series,
                          std::vector<double>& X, std::vector<double>& y) {
  const size_t keep =
      TreeForecaster::training_window(first.frequency) + feature_warmup(first.frequency);
  if (series.size() <= keep) return build_training_rows(first, series, X, y);
  const size_t skip = series.size() - keep;
  const std::vector<double> recent(series.begin() + static_cast<long>(skip), series.end());
  build_training_rows(first.after(skip), recent, X, y);
}

void TreeForecaster::keep_history(const SeriesStart& first, const std::vector<double>& series) {
  history_.assign(series.end() - static_cast<long>(feature_warmup(first.frequency)), series.end());
  next_ = first.after(series.size());
}

TreeEnsemble grow_boosted_trees(const std::vector<double>& X, const std::vector<double>& y,
                                size_t features, const BoostingOptions& options,
                                const InterruptCheck& check,
                                std::vector<double>* library_predictions) {
  if (y.empty() || X.size() != y.size() * features || features == 0)
    throw InvalidParameter("boosting needs a non-empty design matrix");
  std::vector<float> Xf(X.size()), yf(y.size());
  std::transform(X.begin(), X.end(), Xf.begin(), to_float);
  std::transform(y.begin(), y.end(), yf.begin(), to_float);
  double mean = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(y.size());
  // XGBoost reads base_score as a float: a mean below float's smallest normal is 0 to it.
  if (std::abs(mean) < static_cast<double>(std::numeric_limits<float>::min())) mean = 0;
  // One series per thread (nthread 1): parallelism comes from running series side by side.
  auto boosted = xgb::boost(Xf, yf, features,
                            {{"objective", "reg:squarederror"},
                             {"nthread", "1"},
                             {"seed", "0"},
                             {"verbosity", "0"},
                             {"tree_method", "hist"},
                             {"max_bin", "32"},
                             {"max_depth", std::to_string(options.max_depth)},
                             {"eta", format_number(options.eta)},
                             {"subsample", format_number(options.subsample)},
                             {"colsample_bytree", format_number(options.colsample)},
                             {"min_child_weight", format_number(options.min_child_weight)},
                             {"base_score", format_number(mean)}},
                            options.rounds, 16, check, library_predictions != nullptr);
  if (library_predictions)
    library_predictions->assign(boosted.predictions.begin(), boosted.predictions.end());
  return TreeEnsemble::from_xgboost_json(boosted.json, features);
}

void TreeForecaster::fit_random_forest(const SeriesStart& first, const std::vector<double>& series,
                                       const ForestOptions& options) {
  check_series(first, series, "random_forest");
  std::vector<double> X, y;
  training_rows(first, series, X, y);
  ensemble_ = grow_forest(X, y, kFeatureCount, options);
  kind_ = Kind::RandomForest;
  keep_history(first, series);
}

void TreeForecaster::fit_gradient_boosting(const SeriesStart& first, const std::vector<double>& series,
                                           const BoostingOptions& options,
                                           const InterruptCheck& check) {
  check_series(first, series, "gradient_boosting");
  std::vector<double> X, y;
  training_rows(first, series, X, y);
  ensemble_ = grow_boosted_trees(X, y, kFeatureCount, options, check);
  kind_ = Kind::GradientBoosting;
  keep_history(first, series);
}

std::vector<double> TreeForecaster::forecast(int horizon) const {
  return forecast_recursive(next_, history_, horizon,
                            [&](const double* x) { return ensemble_.predict(x); });
}

Explanation TreeForecaster::explain(int horizon) const {
  return explain_recursive(next_, history_, horizon,
                           [&](const double* x) { return ensemble_.predict(x); });
}

void TreeForecaster::write(BinaryWriter& w) const {
  w.u8(static_cast<uint8_t>(kind_));
  w.i64(next_.period);
  w.f64_array(history_);
  ensemble_.write(w);
}

TreeForecaster TreeForecaster::read(BinaryReader& r, const Frequency& frequency) {
  TreeForecaster m;
  const uint8_t kind = r.u8();
  if (kind > 1) throw CorruptPayload("unknown tree forecaster kind");
  m.kind_ = static_cast<Kind>(kind);
  m.next_ = SeriesStart(frequency, r.i64());
  if (!frequency.valid_period(m.next_.period))
    throw CorruptPayload("tree forecaster period out of range");
  const size_t warmup = feature_warmup(frequency);
  m.history_ = r.f64_array(warmup);
  if (m.history_.size() != warmup)
    throw CorruptPayload("tree forecaster history has the wrong size");
  for (double v : m.history_)
    if (!std::isfinite(v)) throw CorruptPayload("tree forecaster history is not finite");
  m.ensemble_ = TreeEnsemble::read(r, kFeatureCount);
  return m;
}

}  // namespace insight::forecast
