#include "core/forecast/options.hpp"

#include <string>

#include "core/common/error.hpp"
#include "core/common/options.hpp"
#include "core/forecast/backtest.hpp"
#include "core/forecast/covariates.hpp"
#include "core/forecast/frequency.hpp"

namespace insight::forecast {

std::optional<Learner> learner_option(const std::string& algorithm) {
  if (algorithm == "auto") return std::nullopt;
  if (auto l = learner_from_name(algorithm)) return l;
  throw InvalidParameter("unknown forecasting algorithm " + echo(algorithm),
                         "algorithm must be one of: auto, " + learner_names() + ".");
}

ForecasterOptions ForecasterOptions::from_json(const nlohmann::json& options) {
  OptionReader r(options, "forecaster options");
  ForecasterOptions o = read(r);
  r.finish();
  return o;
}

ForecasterOptions ForecasterOptions::read(OptionReader& r) {
  ForecasterOptions o;
  o.time_column = r.text("time_column");
  o.value_column = r.text("value_column");
  o.group_column = r.optional_text("group_column");
  o.frequency = r.text("frequency", "auto");
  if (o.frequency != "auto") Frequency::from_text(o.frequency);  // 22023 before any work
  o.model.learner = learner_option(r.text("algorithm", "auto"));
  o.model.horizon = r.int4("horizon", 14);
  check_horizon(o.model.horizon);
  o.model.folds = r.int4("folds", 3);
  check_folds(o.model.folds);
  o.regressors = r.optional_text_array("regressors");
  if (o.regressors.size() > kMaxRegressors)
    throw InvalidParameter("regressors names " + std::to_string(o.regressors.size()) + " columns",
                           "At most " + std::to_string(kMaxRegressors) + " are taken.");
  for (size_t i = 0; i < o.regressors.size(); ++i) {
    const std::string& c = o.regressors[i];
    if (c == o.time_column || c == o.value_column || (o.group_column && c == *o.group_column))
      throw InvalidParameter("regressors must not name the time, value or group column",
                             "got " + echo(c));
    for (size_t j = 0; j < i; ++j)
      if (o.regressors[j] == c)
        throw InvalidParameter("regressors names column " + echo(c) + " twice");
  }
  o.holidays = r.optional_text("holidays");
  return o;
}

ForecastEvaluationOptions ForecastEvaluationOptions::from_json(const nlohmann::json& options) {
  OptionReader r(options, "forecaster evaluation options");
  ForecastEvaluationOptions o;
  o.forecaster = ForecasterOptions::read(r);
  o.confidence = r.float8("confidence", 0.9);
  check_confidence(o.confidence);
  r.finish();
  return o;
}

nlohmann::json ForecasterOptions::to_json() const {
  return {{"time_column", time_column},
          {"value_column", value_column},
          {"group_column", group_column ? nlohmann::json(*group_column) : nlohmann::json()},
          {"algorithm",
           model.learner ? std::string(learner_name(*model.learner)) : std::string("auto")},
          {"horizon", model.horizon},
          {"folds", model.folds},
          {"frequency", frequency},
          {"regressors", regressors.empty() ? nlohmann::json() : nlohmann::json(regressors)},
          {"holidays", holidays ? nlohmann::json(*holidays) : nlohmann::json()}};
}

}  // namespace insight::forecast
