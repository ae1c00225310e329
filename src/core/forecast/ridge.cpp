#include "core/forecast/ridge.hpp"

#include <cmath>
#include <string>

#include "core/common/binary_io.hpp"
#include "core/common/eigen.hpp"
#include "core/common/error.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {

void RidgeForecaster::fit(const SeriesStart& first, const std::vector<double>& series,
                          double lambda) {
  const size_t warmup = feature_warmup(first.frequency);
  require_history(series, warmup + kMinTrainingRows, "linear");
  if (!(lambda >= 0)) throw InvalidParameter("lambda must be non-negative");
  std::vector<double> Xv, yv;
  build_training_rows(first, series, Xv, yv);
  const auto n = static_cast<Eigen::Index>(yv.size());
  const auto d = static_cast<Eigen::Index>(kFeatureCount);
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> Xraw(
      Xv.data(), n, d);
  Eigen::Map<const Eigen::VectorXd> y(yv.data(), n);
  const Eigen::RowVectorXd mean = Xraw.colwise().mean();
  Eigen::MatrixXd X = Xraw.rowwise() - mean;
  Eigen::RowVectorXd scale = (X.array().square().colwise().sum() / static_cast<double>(n)).sqrt();
  for (Eigen::Index j = 0; j < d; ++j)
    if (!(scale(j) > 1e-12)) scale(j) = 1.0;  // constant feature: contributes nothing
  X.array().rowwise() /= scale.array();
  const double y_mean = y.mean();
  Eigen::MatrixXd A = X.transpose() * X;
  A.diagonal().array() += lambda * static_cast<double>(n);
  const Eigen::VectorXd w = A.ldlt().solve(X.transpose() * (y.array() - y_mean).matrix());
  weights_.assign(w.data(), w.data() + d);
  mean_.assign(mean.data(), mean.data() + d);
  scale_.assign(scale.data(), scale.data() + d);
  intercept_ = y_mean;
  history_.assign(series.end() - static_cast<long>(warmup), series.end());
  next_ = first.after(series.size());
}

double RidgeForecaster::predict(const double* x) const {
  double yhat = intercept_;
  for (size_t j = 0; j < kFeatureCount; ++j) yhat += weights_[j] * (x[j] - mean_[j]) / scale_[j];
  return yhat;
}

std::vector<double> RidgeForecaster::forecast(int horizon) const {
  return forecast_recursive(next_, history_, horizon,
                            [&](const double* x) { return predict(x); });
}

Explanation RidgeForecaster::explain(int horizon) const {
  return explain_recursive(next_, history_, horizon, [&](const double* x) { return predict(x); });
}

void RidgeForecaster::write(BinaryWriter& w) const {
  w.f64_array(weights_);
  w.f64_array(mean_);
  w.f64_array(scale_);
  w.f64(intercept_);
  w.i64(next_.period);
  w.f64_array(history_);
}

RidgeForecaster RidgeForecaster::read(BinaryReader& r, const Frequency& frequency) {
  const size_t warmup = feature_warmup(frequency);
  RidgeForecaster m;
  m.weights_ = r.f64_array(kFeatureCount);
  m.mean_ = r.f64_array(kFeatureCount);
  m.scale_ = r.f64_array(kFeatureCount);
  m.intercept_ = r.finite_f64();
  m.next_ = SeriesStart(frequency, r.i64());
  m.history_ = r.f64_array(warmup);
  if (m.weights_.size() != kFeatureCount || m.mean_.size() != kFeatureCount ||
      m.scale_.size() != kFeatureCount || m.history_.size() != warmup)
    throw CorruptPayload("linear forecaster state has the wrong size");
  for (size_t j = 0; j < kFeatureCount; ++j)
    if (!std::isfinite(m.weights_[j]) || !std::isfinite(m.mean_[j]) || !(m.scale_[j] > 0) ||
        !std::isfinite(m.scale_[j]))
      throw CorruptPayload("linear forecaster state is not finite");
  for (double v : m.history_)
    if (!std::isfinite(v)) throw CorruptPayload("linear forecaster history is not finite");
  if (!frequency.valid_period(m.next_.period)) throw CorruptPayload("linear forecaster day out of range");
  return m;
}

}  // namespace insight::forecast
