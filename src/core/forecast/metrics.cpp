#include "core/forecast/metrics.hpp"

#include <cmath>
#include <string>

#include "core/common/error.hpp"

namespace insight::forecast {
namespace {

void check_sizes(const std::vector<double>& a, const std::vector<double>& f) {
  if (a.size() != f.size() || a.empty())
    throw InvalidParameter(
        "actual and forecast values must be non-empty and of equal length",
        std::to_string(a.size()) + " actual, " + std::to_string(f.size()) + " forecast");
}

}  // namespace

double mae(const std::vector<double>& actual, const std::vector<double>& forecast) {
  check_sizes(actual, forecast);
  double s = 0;
  for (size_t i = 0; i < actual.size(); ++i) s += std::abs(actual[i] - forecast[i]);
  return s / static_cast<double>(actual.size());
}

double rmse(const std::vector<double>& actual, const std::vector<double>& forecast) {
  check_sizes(actual, forecast);
  double s = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    s += (actual[i] - forecast[i]) * (actual[i] - forecast[i]);
  return std::sqrt(s / static_cast<double>(actual.size()));
}

double smape(const std::vector<double>& actual, const std::vector<double>& forecast) {
  check_sizes(actual, forecast);
  double s = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double denom = std::abs(actual[i]) + std::abs(forecast[i]);
    if (denom > 0) s += 2.0 * std::abs(forecast[i] - actual[i]) / denom;
  }
  return 100.0 * s / static_cast<double>(actual.size());
}

double mase_scale(const std::vector<double>& history, int season) {
  auto scale_at = [&](size_t lag) {
    if (history.size() <= lag) return 0.0;
    double s = 0;
    for (size_t t = lag; t < history.size(); ++t) s += std::abs(history[t] - history[t - lag]);
    return s / static_cast<double>(history.size() - lag);
  };
  double scale = scale_at(static_cast<size_t>(season));
  if (!(scale > 0)) scale = scale_at(1);
  return scale > 0 ? scale : 1.0;
}

double mase(const std::vector<double>& actual, const std::vector<double>& forecast, double scale) {
  return mae(actual, forecast) / scale;
}

}  // namespace insight::forecast
