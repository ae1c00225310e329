#include "core/model/algorithm.hpp"

#include <array>
#include <utility>

namespace insight {
namespace {

constexpr std::array<std::pair<Task, std::string_view>, 4> kTasks{{
    {Task::Anomaly, "anomaly"},
    {Task::Forecast, "forecast"},
    {Task::Recommend, "recommend"},
    {Task::RootCause, "root_cause"},
}};

constexpr std::array<std::pair<Algorithm, std::string_view>, 15> kAlgorithms{{
    {Algorithm::External, "external"},
    {Algorithm::IsolationForest, "isolation_forest"},
    {Algorithm::ForecastAuto, "auto"},
    {Algorithm::SeasonalNaive, "seasonal_naive"},
    {Algorithm::HoltWinters, "holt_winters"},
    {Algorithm::LinearForecast, "linear"},
    {Algorithm::RandomForestForecast, "random_forest"},
    {Algorithm::GradientBoostingForecast, "gradient_boosting"},
    {Algorithm::CombinationForecast, "combination"},
    {Algorithm::Als, "als"},
    {Algorithm::ItemKnn, "item_knn"},
    {Algorithm::UserKnn, "user_knn"},
    {Algorithm::Svd, "svd"},
    {Algorithm::Popularity, "popularity"},
    {Algorithm::RootCauseBoosting, "gradient_boosting_classifier"},
}};

template <typename Table>
std::string join_names(const Table& table) {
  std::string out;
  for (const auto& [value, name] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

std::string_view task_name(Task t) noexcept {
  for (const auto& [task, name] : kTasks)
    if (task == t) return name;
  return "unknown";
}

std::optional<Task> task_from_name(std::string_view name) noexcept {
  for (const auto& [task, n] : kTasks)
    if (n == name) return task;
  return std::nullopt;
}

std::optional<Task> task_from_tag(uint8_t tag) noexcept {
  for (const auto& [task, n] : kTasks)
    if (static_cast<uint8_t>(task) == tag) return task;
  return std::nullopt;
}

std::string task_names() { return join_names(kTasks); }

std::string_view algorithm_name(Algorithm a) noexcept {
  for (const auto& [alg, name] : kAlgorithms)
    if (alg == a) return name;
  return "unknown";
}

std::optional<Algorithm> algorithm_from_name(std::string_view name) noexcept {
  for (const auto& [alg, n] : kAlgorithms)
    if (n == name) return alg;
  return std::nullopt;
}

std::optional<Algorithm> algorithm_from_tag(uint16_t tag) noexcept {
  for (const auto& [alg, n] : kAlgorithms)
    if (static_cast<uint16_t>(alg) == tag) return alg;
  return std::nullopt;
}

}  // namespace insight
