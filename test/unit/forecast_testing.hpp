// What the forecasting unit tests share.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/common/random.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"

namespace insight::forecast {

// A payload encoded and loaded back, as the catalog would: the model a SQL call would use.
inline std::shared_ptr<const ForecastModel> reload(const Payload& p) {
  const auto bytes = encode_payload(p);
  auto m = std::dynamic_pointer_cast<const ForecastModel>(load_model(bytes.data(), bytes.size()));
  if (!m) throw std::runtime_error("not a forecast model");
  return m;
}

// A daily series from period `first`: `level`, `weekend` more on the 6th and 7th day of each
// week, and uniform noise of width `noise` (seeded).
inline SeriesData weekly_series(const std::string& key, int64_t first, size_t n, uint64_t seed,
                                double level, double weekend, double noise) {
  Rng rng(seed);
  SeriesData s;
  s.key = key;
  s.first_period = first;
  for (size_t t = 0; t < n; ++t)
    s.values.push_back(level + weekend * ((t % 7) >= 5 ? 1 : 0) + noise * (rng.uniform() - 0.5));
  return s;
}

}  // namespace insight::forecast
