// Forecast error metrics for backtests and insight.evaluate_forecaster, with the usual
// definitions: MAE, RMSE, sMAPE (0..200, 0/0 counted as 0) and MASE (MAE over the in-sample
// MAE of the seasonal naive forecast of the training history, Hyndman & Koehler 2006).
#pragma once

#include <vector>

namespace insight::forecast {

double mae(const std::vector<double>& actual, const std::vector<double>& forecast);
double rmse(const std::vector<double>& actual, const std::vector<double>& forecast);
double smape(const std::vector<double>& actual, const std::vector<double>& forecast);
// The MASE denominator of a training history: mean |y_t - y_{t-season}|; falls back to the
// lag-1 naive scale when the seasonal one is 0, and to 1 when the series is constant.
double mase_scale(const std::vector<double>& history, int season = 7);
double mase(const std::vector<double>& actual, const std::vector<double>& forecast, double scale);

}  // namespace insight::forecast
