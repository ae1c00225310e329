#include "core/forecast/learners.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/common/name_table.hpp"
#include "core/forecast/features.hpp"
#include "core/forecast/ridge.hpp"
#include "core/forecast/smoothing.hpp"
#include "core/forecast/tree_forecaster.hpp"

namespace insight::forecast {
namespace {

// Each learner's algorithm tag; its name (SQL's algorithm => '...') is the algorithm's.
constexpr PairTable<Learner, Algorithm, 7> kLearners{{
    {Learner::SeasonalNaive, Algorithm::SeasonalNaive},
    {Learner::HoltWinters, Algorithm::HoltWinters},
    {Learner::Linear, Algorithm::LinearForecast},
    {Learner::RandomForest, Algorithm::RandomForestForecast},
    {Learner::GradientBoosting, Algorithm::GradientBoostingForecast},
    // Before the combination: 'auto' backtests a combination's members first.
    {Learner::Theta, Algorithm::ThetaForecast},
    {Learner::Combination, Algorithm::CombinationForecast},
}};
// What every learner but seasonal naive (the baseline, kept pure) does to its raw forecast on a
// series that was never negative (sales, units, counts):
//  - it never forecasts below zero;
//  - on a period of the season (a weekday of a daily series, an hour of the day of an hourly
//    one) that was zero in most of its last kZeroLookbackSeasons seasons (a shop closed on
//    Saturdays or at night, a slow product), it forecasts exactly zero. Zero is then the median
//    of that period's recent values, and the median, not the mean a learner fits, is the
//    forecast that minimises absolute error (MAE, MASE) — and sMAPE, which punishes any
//    non-zero forecast of a zero period with its maximum of 200.
// zero_steps bit j: forecast steps s (0-based) with s % season == j are zero. Seasons longer
// than kMaxZeroRuleSeason (weeks of a year, steps of a day finer than 45 minutes) have no zero
// rule. In payloads the mask is a u8 for daily series (as 0.2.0 wrote it), a u32 otherwise.
constexpr int kMaxZeroRuleSeason = 32;

struct OutputRule {
  bool non_negative = false;
  uint32_t zero_steps = 0;
  int season = 7;

  void apply(std::vector<double>& f) const {
    if (!non_negative) return;
    for (size_t s = 0; s < f.size(); ++s) {
      f[s] = std::max(f[s], 0.0);
      // A mask is non-zero only for seasons of at most kMaxZeroRuleSeason: the shift stays
      // within its 32 bits.
      if (zero_steps != 0 && (zero_steps >> (s % static_cast<size_t>(season))) & 1u) f[s] = 0;
    }
  }
  void write(BinaryWriter& w) const {
    w.u8(non_negative ? 1 : 0);
    if (season == 7)  // a daily series: 0.2.0's byte
      w.u8(static_cast<uint8_t>(zero_steps));
    else
      w.u32(zero_steps);
  }
  static OutputRule read(BinaryReader& r, const Frequency& frequency) {
    OutputRule rule;
    rule.season = frequency.season();
    const uint8_t flag = r.u8();
    rule.zero_steps = rule.season == 7 ? r.u8() : r.u32();
    const uint64_t limit = rule.season <= kMaxZeroRuleSeason ? (uint64_t{1} << rule.season) : 1;
    if (flag > 1 || rule.zero_steps >= limit || (flag == 0 && rule.zero_steps != 0))
      throw CorruptPayload("invalid learner output rule");
    rule.non_negative = flag == 1;
    return rule;
  }
};

constexpr size_t kZeroLookbackSeasons = 8;

OutputRule output_rule(Learner learner, const Frequency& frequency,
                       const std::vector<double>& series) {
  OutputRule rule;
  rule.season = frequency.season();
  rule.non_negative = std::all_of(series.begin(), series.end(), [](double v) { return v >= 0; });
  if (!rule.non_negative || learner == Learner::SeasonalNaive) return rule;
  if (rule.season > kMaxZeroRuleSeason) return rule;
  const size_t n = series.size(), season = static_cast<size_t>(rule.season);
  if (n < kZeroLookbackSeasons * season) return rule;
  for (size_t j = 0; j < season; ++j) {
    // Step j falls on the period of the season of n + j - season·k, k = 1..kZeroLookbackSeasons.
    size_t zeros = 0;
    for (size_t k = 1; k <= kZeroLookbackSeasons; ++k)
      if (series[n + j - k * season] == 0) ++zeros;
    if (2 * zeros > kZeroLookbackSeasons) rule.zero_steps |= 1u << j;
  }
  return rule;
}

// The members of a combination or a best pair, each fitted (with its own output rule) on the
// same series.
class CombinationModel {
 public:
  std::vector<std::unique_ptr<FittedLearner>> members;

  std::vector<double> forecast(int horizon) const {
    std::vector<std::vector<double>> each;
    for (const auto& m : members) each.push_back(m->forecast(horizon));
    return mean_forecast(each);
  }
  Explanation explain(int horizon) const {
    Explanation e;
    for (const auto& m : members)
      for (const Component& c : m->explain(horizon))
        add_component(e, c.name, c.values, 1.0 / static_cast<double>(members.size()));
    return e;
  }
  void write(BinaryWriter& w) const {
    w.u8(static_cast<uint8_t>(members.size()));
    for (const auto& m : members) {
      w.u8(static_cast<uint8_t>(m->learner()));
      m->write(w);
    }
  }
  // A combination's members are combination_members(); a pair's, two distinct single learners.
  static CombinationModel read(BinaryReader& r, const Frequency& frequency, bool pair);
};

template <class M, Learner L>
class Fitted final : public FittedLearner {
 public:
  Fitted(M m, OutputRule rule) : m_(std::move(m)), rule_(rule) {}
  Learner learner() const noexcept override { return L; }
  std::vector<double> forecast(int horizon) const override {
    std::vector<double> f = m_.forecast(horizon);
    rule_.apply(f);
    return f;
  }
  Explanation explain(int horizon) const override {
    Explanation e = m_.explain(horizon);
    add_adjustment(e, forecast(horizon));
    return e;
  }
  void write(BinaryWriter& w) const override {
    rule_.write(w);
    m_.write(w);
  }

 private:
  M m_;
  OutputRule rule_;
};

template <Learner L, class M>
std::unique_ptr<FittedLearner> wrap(M m, OutputRule rule) {
  return std::make_unique<Fitted<M, L>>(std::move(m), rule);
}

}  // namespace

void add_component(Explanation& e, const std::string& name, const std::vector<double>& values,
                   double weight) {
  auto it = std::find_if(e.begin(), e.end(), [&](const Component& c) { return c.name == name; });
  if (it == e.end()) {
    e.push_back(Component{name, std::vector<double>(values.size(), 0.0)});
    it = e.end() - 1;
  }
  for (size_t s = 0; s < values.size() && s < it->values.size(); ++s)
    it->values[s] += weight * values[s];
}

void add_adjustment(Explanation& e, const std::vector<double>& forecast) {
  std::vector<double> adjustment(forecast.size(), 0.0);
  bool any = false;
  for (size_t s = 0; s < forecast.size(); ++s) {
    double sum = 0;
    for (const Component& c : e) sum += c.values[s];
    adjustment[s] = forecast[s] - sum;
    any = any || std::abs(adjustment[s]) > 1e-9 * std::max(1.0, std::abs(forecast[s]));
  }
  if (any) add_component(e, "adjustment", adjustment);
}

void require_history(const std::vector<double>& series, size_t needed, const char* learner) {
  if (series.size() < needed)
    throw InvalidParameter(std::string("the series is too short for ") + learner,
                           std::to_string(series.size()) + " periods found, " + learner + " needs " +
                               std::to_string(needed));
  for (double v : series)
    if (!std::isfinite(v)) throw InvalidParameter("series values must be finite numbers");
}

Algorithm learner_algorithm(Learner l) noexcept {
  return name_in(kLearners, l, Algorithm::ForecastAuto);
}

std::string_view learner_name(Learner l) noexcept {
  if (l == Learner::BestPair) return "best_pair";
  return algorithm_name(learner_algorithm(l));
}

std::optional<Learner> learner_from_name(std::string_view name) noexcept {
  const auto algorithm = algorithm_from_name(name);
  return algorithm ? value_named(kLearners, *algorithm) : std::nullopt;
}

std::optional<Learner> learner_from_tag(uint8_t tag) noexcept {
  if (tag == static_cast<uint8_t>(Learner::BestPair)) return Learner::BestPair;
  return value_tagged(kLearners, tag);
}

const std::vector<Learner>& all_learners() {
  static const std::vector<Learner> all = [] {
    std::vector<Learner> learners;
    for (const auto& [learner, algorithm] : kLearners) learners.push_back(learner);
    return learners;
  }();
  return all;
}

std::string learner_names() { return joined_names(kLearners, algorithm_name); }

size_t min_history(Learner l, const Frequency& f) noexcept {
  const auto season = static_cast<size_t>(f.season());
  switch (l) {
    case Learner::SeasonalNaive:
      return season;
    case Learner::HoltWinters:
      return 2 * season;
    case Learner::Theta:
      return Theta::kMinHistory;
    case Learner::Linear:
      return feature_warmup(f) + RidgeForecaster::kMinTrainingRows;
    case Learner::RandomForest:
    case Learner::GradientBoosting:
      return feature_warmup(f) + TreeForecaster::kMinTrainingRows;
    case Learner::Combination: {
      size_t most = 0;
      for (Learner member : combination_members()) most = std::max(most, min_history(member, f));
      return most;
    }
    case Learner::BestPair:  // its members had theirs
      return std::min(min_history(Learner::SeasonalNaive, f), min_history(Learner::Theta, f));
  }
  return 0;
}

std::unique_ptr<FittedLearner> fit_learner(Learner learner, const SeriesStart& first,
                                           const std::vector<double>& series,
                                           const InterruptCheck& check) {
  const OutputRule nn = output_rule(learner, first.frequency, series);
  const int season = first.frequency.season();
  switch (learner) {
    case Learner::SeasonalNaive: {
      SeasonalNaive m;
      m.fit(series, season);
      return wrap<Learner::SeasonalNaive>(std::move(m), nn);
    }
    case Learner::HoltWinters: {
      HoltWinters m;
      m.fit(series, season);
      return wrap<Learner::HoltWinters>(std::move(m), nn);
    }
    case Learner::Theta: {
      Theta m;
      m.fit(series, season);
      return wrap<Learner::Theta>(std::move(m), nn);
    }
    case Learner::Linear: {
      RidgeForecaster m;
      m.fit(first, series);
      return wrap<Learner::Linear>(std::move(m), nn);
    }
    case Learner::RandomForest: {
      TreeForecaster m;
      m.fit_random_forest(first, series);
      return wrap<Learner::RandomForest>(std::move(m), nn);
    }
    case Learner::GradientBoosting: {
      TreeForecaster m;
      m.fit_gradient_boosting(first, series, {}, check);
      return wrap<Learner::GradientBoosting>(std::move(m), nn);
    }
    case Learner::Combination: {
      CombinationModel m;
      for (Learner member : combination_members())
        m.members.push_back(fit_learner(member, first, series, check));
      return wrap<Learner::Combination>(std::move(m), nn);
    }
    case Learner::BestPair:
      throw InternalError("a best pair is fitted by fit_pair");
  }
  throw InternalError("unknown learner");
}

std::unique_ptr<FittedLearner> fit_pair(Learner a, Learner b, const SeriesStart& first,
                                        const std::vector<double>& series,
                                        const InterruptCheck& check) {
  if (a == b || is_average(a) || is_average(b))
    throw InternalError("a best pair is two distinct single learners");
  CombinationModel m;
  m.members.push_back(fit_learner(a, first, series, check));
  m.members.push_back(fit_learner(b, first, series, check));
  return wrap<Learner::BestPair>(std::move(m),
                                 output_rule(Learner::BestPair, first.frequency, series));
}

std::unique_ptr<FittedLearner> read_learner(Learner learner, BinaryReader& r,
                                            const Frequency& frequency) {
  const OutputRule nn = OutputRule::read(r, frequency);
  if (learner == Learner::SeasonalNaive && nn.zero_steps != 0)
    throw CorruptPayload("seasonal naive with a zero-weekday rule");
  const int season = frequency.season();
  switch (learner) {
    case Learner::SeasonalNaive:
      return wrap<Learner::SeasonalNaive>(SeasonalNaive::read(r, season), nn);
    case Learner::HoltWinters:
      return wrap<Learner::HoltWinters>(HoltWinters::read(r, season), nn);
    case Learner::Theta:
      return wrap<Learner::Theta>(Theta::read(r, season), nn);
    case Learner::Linear:
      return wrap<Learner::Linear>(RidgeForecaster::read(r, frequency), nn);
    case Learner::RandomForest:
    case Learner::GradientBoosting: {
      TreeForecaster m = TreeForecaster::read(r, frequency);
      const bool forest = m.kind() == TreeForecaster::Kind::RandomForest;
      if (forest != (learner == Learner::RandomForest))
        throw CorruptPayload("tree forecaster kind does not match its learner");
      if (forest) return wrap<Learner::RandomForest>(std::move(m), nn);
      return wrap<Learner::GradientBoosting>(std::move(m), nn);
    }
    case Learner::Combination:
      return wrap<Learner::Combination>(CombinationModel::read(r, frequency, false), nn);
    case Learner::BestPair:
      return wrap<Learner::BestPair>(CombinationModel::read(r, frequency, true), nn);
  }
  throw CorruptPayload("unknown learner");
}

namespace {
CombinationModel CombinationModel::read(BinaryReader& r, const Frequency& frequency, bool pair) {
  CombinationModel m;
  const std::vector<Learner>& expected = combination_members();
  const size_t count = pair ? 2 : expected.size();
  if (r.u8() != count) throw CorruptPayload("combination has the wrong member count");
  std::vector<Learner> seen;
  for (size_t i = 0; i < count; ++i) {
    const auto tag = learner_from_tag(r.u8());
    const bool ok = tag && (pair ? !is_average(*tag) && (seen.empty() || seen[0] != *tag)
                                 : *tag == expected[i]);
    if (!ok) throw CorruptPayload("combination has an unexpected member");
    seen.push_back(*tag);
    m.members.push_back(read_learner(*tag, r, frequency));
  }
  return m;
}
}  // namespace

const std::vector<Learner>& combination_members() {
  static const std::vector<Learner> members{Learner::HoltWinters, Learner::Linear,
                                            Learner::RandomForest, Learner::GradientBoosting};
  return members;
}

std::vector<double> mean_forecast(const std::vector<std::vector<double>>& forecasts) {
  if (forecasts.empty()) throw InternalError("a combination needs members");
  std::vector<double> mean(forecasts.front().size(), 0.0);
  for (const auto& f : forecasts)
    for (size_t s = 0; s < mean.size(); ++s) mean[s] += f[s];
  for (double& v : mean) v /= static_cast<double>(forecasts.size());
  return mean;
}

void apply_output_rule(Learner learner, const Frequency& frequency,
                       const std::vector<double>& train, std::vector<double>& forecast) {
  output_rule(learner, frequency, train).apply(forecast);
}

}  // namespace insight::forecast
