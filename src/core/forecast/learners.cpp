#include "core/forecast/learners.hpp"

#include <array>

#include "core/common/error.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/ridge.hpp"
#include "core/forecast/smoothing.hpp"
#include "core/forecast/tree_forecaster.hpp"

namespace insight::forecast {
namespace {

constexpr std::array<std::pair<Learner, std::string_view>, 5> kLearners{{
    {Learner::SeasonalNaive, "seasonal_naive"},
    {Learner::HoltWinters, "holt_winters"},
    {Learner::Linear, "linear"},
    {Learner::RandomForest, "random_forest"},
    {Learner::GradientBoosting, "gradient_boosting"},
}};

template <class M, Learner L>
class Fitted final : public FittedLearner {
 public:
  explicit Fitted(M m) : m_(std::move(m)) {}
  Learner learner() const noexcept override { return L; }
  std::vector<double> forecast(int horizon) const override { return m_.forecast(horizon); }
  void write(BinaryWriter& w) const override { m_.write(w); }

 private:
  M m_;
};

template <Learner L, class M>
std::unique_ptr<FittedLearner> wrap(M m) {
  return std::make_unique<Fitted<M, L>>(std::move(m));
}

}  // namespace

std::string_view learner_name(Learner l) noexcept {
  for (const auto& [learner, name] : kLearners)
    if (learner == l) return name;
  return "unknown";
}

std::optional<Learner> learner_from_name(std::string_view name) noexcept {
  for (const auto& [learner, n] : kLearners)
    if (n == name) return learner;
  return std::nullopt;
}

std::optional<Learner> learner_from_tag(uint8_t tag) noexcept {
  for (const auto& [learner, n] : kLearners)
    if (static_cast<uint8_t>(learner) == tag) return learner;
  return std::nullopt;
}

const std::vector<Learner>& all_learners() {
  static const std::vector<Learner> all{Learner::SeasonalNaive, Learner::HoltWinters,
                                        Learner::Linear, Learner::RandomForest,
                                        Learner::GradientBoosting};
  return all;
}

std::string learner_names() {
  std::string out;
  for (const auto& [learner, name] : kLearners) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

size_t min_history(Learner l) noexcept {
  switch (l) {
    case Learner::SeasonalNaive:
      return kWeek;
    case Learner::HoltWinters:
      return 2 * kWeek;
    case Learner::Linear:
      return kFeatureWarmup + RidgeForecaster::kMinTrainingRows;
    case Learner::RandomForest:
    case Learner::GradientBoosting:
      return kFeatureWarmup + TreeForecaster::kMinTrainingRows;
  }
  return 0;
}

std::unique_ptr<FittedLearner> fit_learner(Learner learner, int64_t first_day,
                                           const std::vector<double>& series,
                                           const InterruptCheck& check) {
  switch (learner) {
    case Learner::SeasonalNaive: {
      SeasonalNaive m;
      m.fit(series);
      return wrap<Learner::SeasonalNaive>(std::move(m));
    }
    case Learner::HoltWinters: {
      HoltWinters m;
      m.fit(series);
      return wrap<Learner::HoltWinters>(std::move(m));
    }
    case Learner::Linear: {
      RidgeForecaster m;
      m.fit(first_day, series);
      return wrap<Learner::Linear>(std::move(m));
    }
    case Learner::RandomForest: {
      TreeForecaster m;
      m.fit_random_forest(first_day, series);
      return wrap<Learner::RandomForest>(std::move(m));
    }
    case Learner::GradientBoosting: {
      TreeForecaster m;
      m.fit_gradient_boosting(first_day, series, {}, check);
      return wrap<Learner::GradientBoosting>(std::move(m));
    }
  }
  throw InternalError("unknown learner");
}

std::unique_ptr<FittedLearner> read_learner(Learner learner, BinaryReader& r) {
  switch (learner) {
    case Learner::SeasonalNaive:
      return wrap<Learner::SeasonalNaive>(SeasonalNaive::read(r));
    case Learner::HoltWinters:
      return wrap<Learner::HoltWinters>(HoltWinters::read(r));
    case Learner::Linear:
      return wrap<Learner::Linear>(RidgeForecaster::read(r));
    case Learner::RandomForest:
    case Learner::GradientBoosting: {
      TreeForecaster m = TreeForecaster::read(r);
      const bool forest = m.kind() == TreeForecaster::Kind::RandomForest;
      if (forest != (learner == Learner::RandomForest))
        throw CorruptPayload("tree forecaster kind does not match its learner");
      if (forest) return wrap<Learner::RandomForest>(std::move(m));
      return wrap<Learner::GradientBoosting>(std::move(m));
    }
  }
  throw CorruptPayload("unknown learner");
}

}  // namespace insight::forecast
