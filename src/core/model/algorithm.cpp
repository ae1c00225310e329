#include "core/model/algorithm.hpp"

#include "core/common/name_table.hpp"

namespace insight {
namespace {

constexpr NameTable<Task, 4> kTasks{{
    {Task::Anomaly, "anomaly"},
    {Task::Forecast, "forecast"},
    {Task::Recommend, "recommend"},
    {Task::RootCause, "root_cause"},
}};

constexpr NameTable<Algorithm, 16> kAlgorithms{{
    {Algorithm::External, "external"},
    {Algorithm::IsolationForest, "isolation_forest"},
    {Algorithm::ForecastAuto, "auto"},
    {Algorithm::SeasonalNaive, "seasonal_naive"},
    {Algorithm::HoltWinters, "holt_winters"},
    {Algorithm::LinearForecast, "linear"},
    {Algorithm::RandomForestForecast, "random_forest"},
    {Algorithm::GradientBoostingForecast, "gradient_boosting"},
    {Algorithm::CombinationForecast, "combination"},
    {Algorithm::ThetaForecast, "theta"},
    {Algorithm::Als, "als"},
    {Algorithm::ItemKnn, "item_knn"},
    {Algorithm::UserKnn, "user_knn"},
    {Algorithm::Svd, "svd"},
    {Algorithm::Popularity, "popularity"},
    {Algorithm::RootCauseBoosting, "gradient_boosting_classifier"},
}};

}  // namespace

std::string_view task_name(Task t) noexcept { return name_in(kTasks, t, "unknown"); }

std::optional<Task> task_from_name(std::string_view name) noexcept {
  return value_named(kTasks, name);
}

std::optional<Task> task_from_tag(uint8_t tag) noexcept { return value_tagged(kTasks, tag); }

std::string task_names() { return joined_names(kTasks); }

std::string_view algorithm_name(Algorithm a) noexcept { return name_in(kAlgorithms, a, "unknown"); }

std::optional<Algorithm> algorithm_from_name(std::string_view name) noexcept {
  return value_named(kAlgorithms, name);
}

std::optional<Algorithm> algorithm_from_tag(uint16_t tag) noexcept {
  return value_tagged(kAlgorithms, tag);
}

}  // namespace insight
