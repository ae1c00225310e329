// Tags stored in a payload header, and their names in SQL (insight.models.task / algorithm).
// A tag's number is part of the on-disk format: never renumber, only append.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace insight {

enum class Task : uint8_t { Anomaly = 0, Forecast = 1, Recommend = 2, RootCause = 3 };

enum class Algorithm : uint16_t {
  // A model trained outside pg_insight and registered as an opaque, versioned artifact.
  External = 1,
  // src/core/anomaly: insight.isolation_forest_fit, insight.train_anomaly_detector
  IsolationForest = 10,
  // src/core/forecast: insight.train_forecaster, by the algorithm asked for (one body format)
  ForecastAuto = 20,
  SeasonalNaive = 21,
  HoltWinters = 22,
  LinearForecast = 23,
  RandomForestForecast = 24,
  GradientBoostingForecast = 25,
  // src/core/recommend: insight.train_recommender, by algorithm (one body format)
  Als = 30,
  ItemKnn = 31,
  UserKnn = 32,
  Svd = 33,
  Popularity = 34,
  // src/core/forecast again (appended after the recommenders: tags are never renumbered)
  CombinationForecast = 26,
  ThetaForecast = 27,
  // src/core/rootcause: insight.train_root_cause_classifier
  RootCauseBoosting = 40,
};

std::string_view task_name(Task t) noexcept;
std::optional<Task> task_from_name(std::string_view name) noexcept;
std::optional<Task> task_from_tag(uint8_t tag) noexcept;
// Every valid task name, comma separated, for error messages.
std::string task_names();

std::string_view algorithm_name(Algorithm a) noexcept;
std::optional<Algorithm> algorithm_from_name(std::string_view name) noexcept;
std::optional<Algorithm> algorithm_from_tag(uint16_t tag) noexcept;

}  // namespace insight
