#include "core/model/model.hpp"

#include "core/anomaly/anomaly_model.hpp"
#include "core/common/error.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/recommend/recommender.hpp"
#include "core/rootcause/classifier.hpp"

namespace insight {

size_t json_memory_bytes(const nlohmann::json& j) {
  size_t total = sizeof(nlohmann::json);
  if (j.is_string()) total += j.get_ref<const std::string&>().size();
  if (j.is_structured()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (j.is_object()) total += it.key().size() + 32;
      total += json_memory_bytes(*it);
    }
  }
  return total;
}

size_t ExternalModel::memory_bytes() const {
  return sizeof(*this) + body_.capacity() + json_memory_bytes(meta());
}

ModelPtr load_model(const uint8_t* data, size_t size) {
  Payload p = decode_payload(data, size);
  switch (p.algorithm) {
    case Algorithm::External:
      return std::make_shared<ExternalModel>(p.task, std::move(p.meta), std::move(p.body));
    case Algorithm::IsolationForest:
      if (p.task != Task::Anomaly) throw CorruptPayload("isolation forest payload with a wrong task");
      return anomaly::load_anomaly_model(std::move(p));
    case Algorithm::ForecastAuto:
    case Algorithm::SeasonalNaive:
    case Algorithm::HoltWinters:
    case Algorithm::LinearForecast:
    case Algorithm::RandomForestForecast:
    case Algorithm::GradientBoostingForecast:
    case Algorithm::CombinationForecast:
      if (p.task != Task::Forecast) throw CorruptPayload("forecast payload with a wrong task");
      return forecast::load_forecast_model(std::move(p));
    case Algorithm::Als:
    case Algorithm::ItemKnn:
    case Algorithm::UserKnn:
    case Algorithm::Svd:
    case Algorithm::Popularity:
      return recommend::load_recommend_model(std::move(p));
    case Algorithm::RootCauseBoosting:
      return rootcause::load_root_cause_model(std::move(p));
  }
  throw CorruptPayload("model payload is corrupt: no loader for algorithm " +
                       std::string(algorithm_name(p.algorithm)));
}

}  // namespace insight
