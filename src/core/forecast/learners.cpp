#include "core/forecast/learners.hpp"

#include <algorithm>
#include <array>

#include "core/common/error.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/ridge.hpp"
#include "core/forecast/smoothing.hpp"
#include "core/forecast/tree_forecaster.hpp"
#include "core/model/binary_io.hpp"

namespace insight::forecast {
namespace {

constexpr std::array<std::pair<Learner, std::string_view>, 5> kLearners{{
    {Learner::SeasonalNaive, "seasonal_naive"},
    {Learner::HoltWinters, "holt_winters"},
    {Learner::Linear, "linear"},
    {Learner::RandomForest, "random_forest"},
    {Learner::GradientBoosting, "gradient_boosting"},
}};

// A learner's fitted state plus one rule they share: a series that was never negative (sales,
// units, counts) is never forecast below zero.
template <class M, Learner L>
class Fitted final : public FittedLearner {
 public:
  Fitted(M m, bool non_negative) : m_(std::move(m)), non_negative_(non_negative) {}
  Learner learner() const noexcept override { return L; }
  std::vector<double> forecast(int horizon) const override {
    std::vector<double> f = m_.forecast(horizon);
    if (non_negative_)
      for (double& v : f) v = std::max(v, 0.0);
    return f;
  }
  void write(BinaryWriter& w) const override {
    w.u8(non_negative_ ? 1 : 0);
    m_.write(w);
  }

 private:
  M m_;
  bool non_negative_;
};

template <Learner L, class M>
std::unique_ptr<FittedLearner> wrap(M m, bool non_negative) {
  return std::make_unique<Fitted<M, L>>(std::move(m), non_negative);
}

bool never_negative(const std::vector<double>& series) {
  return std::all_of(series.begin(), series.end(), [](double v) { return v >= 0; });
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
  const bool nn = never_negative(series);
  switch (learner) {
    case Learner::SeasonalNaive: {
      SeasonalNaive m;
      m.fit(series);
      return wrap<Learner::SeasonalNaive>(std::move(m), nn);
    }
    case Learner::HoltWinters: {
      HoltWinters m;
      m.fit(series);
      return wrap<Learner::HoltWinters>(std::move(m), nn);
    }
    case Learner::Linear: {
      RidgeForecaster m;
      m.fit(first_day, series);
      return wrap<Learner::Linear>(std::move(m), nn);
    }
    case Learner::RandomForest: {
      TreeForecaster m;
      m.fit_random_forest(first_day, series);
      return wrap<Learner::RandomForest>(std::move(m), nn);
    }
    case Learner::GradientBoosting: {
      TreeForecaster m;
      m.fit_gradient_boosting(first_day, series, {}, check);
      return wrap<Learner::GradientBoosting>(std::move(m), nn);
    }
  }
  throw InternalError("unknown learner");
}

std::unique_ptr<FittedLearner> read_learner(Learner learner, BinaryReader& r) {
  const uint8_t flag = r.u8();
  if (flag > 1) throw CorruptPayload("invalid learner flag");
  const bool nn = flag == 1;
  switch (learner) {
    case Learner::SeasonalNaive:
      return wrap<Learner::SeasonalNaive>(SeasonalNaive::read(r), nn);
    case Learner::HoltWinters:
      return wrap<Learner::HoltWinters>(HoltWinters::read(r), nn);
    case Learner::Linear:
      return wrap<Learner::Linear>(RidgeForecaster::read(r), nn);
    case Learner::RandomForest:
    case Learner::GradientBoosting: {
      TreeForecaster m = TreeForecaster::read(r);
      const bool forest = m.kind() == TreeForecaster::Kind::RandomForest;
      if (forest != (learner == Learner::RandomForest))
        throw CorruptPayload("tree forecaster kind does not match its learner");
      if (forest) return wrap<Learner::RandomForest>(std::move(m), nn);
      return wrap<Learner::GradientBoosting>(std::move(m), nn);
    }
  }
  throw CorruptPayload("unknown learner");
}

}  // namespace insight::forecast
