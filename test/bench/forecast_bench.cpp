// Micro-benchmarks of the forecasting learners: one fit + 14-day forecast of a two-year daily
// series (what 'auto' does folds + 1 times per learner and series), and the whole 'auto'
// training of one series. Shows where train_forecaster's time goes.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "core/common/random.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/forecast/learners.hpp"

namespace {

using insight::forecast::Learner;

std::vector<double> two_years() {
  insight::Rng rng(11);
  std::vector<double> y;
  for (int t = 0; t < 730; ++t)
    y.push_back(std::max(
        0.0, 50 + 10 * ((t % 7) >= 5) + 5 * std::sin(t / 58.0) + 8 * (rng.uniform() - 0.5)));
  return y;
}

void BM_FitAndForecast(benchmark::State& state) {
  const auto learner = static_cast<Learner>(state.range(0));
  const auto y = two_years();
  for (auto _ : state) {
    auto m = insight::forecast::fit_learner(learner, 19000, y);
    benchmark::DoNotOptimize(m->forecast(14));
  }
  state.SetLabel(std::string(insight::forecast::learner_name(learner)));
}
BENCHMARK(BM_FitAndForecast)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

void BM_AutoOneSeries(benchmark::State& state) {
  const auto y = two_years();
  insight::forecast::TrainOptions o;
  o.threads = 1;
  for (auto _ : state) {
    std::vector<insight::forecast::SeriesData> s{{"", 19000, y}};
    insight::forecast::TrainSummary summary;
    benchmark::DoNotOptimize(
        insight::forecast::train_forecast_payload(std::move(s), false, o, {}, summary));
  }
}
BENCHMARK(BM_AutoOneSeries)->Unit(benchmark::kMillisecond);

}  // namespace
