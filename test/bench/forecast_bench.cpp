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
    std::vector<insight::forecast::SeriesData> s{{"", 19000, y, {}}};
    insight::forecast::TrainSummary summary;
    benchmark::DoNotOptimize(
        insight::forecast::train_forecast_payload(std::move(s), false, o, {}, summary));
  }
}
BENCHMARK(BM_AutoOneSeries)->Unit(benchmark::kMillisecond);

// 90 days of hours (issue 16's speed goal: 1,000 of them trained in 60 s on 2 cores): each
// learner's fit and 24-hour forecast, and the whole 'auto' training of one series.
std::vector<double> ninety_days_of_hours() {
  insight::Rng rng(12);
  std::vector<double> y;
  for (int t = 0; t < 90 * 24; ++t)
    y.push_back(100 + 60 * std::sin(2 * M_PI * ((t % 24) - 6) / 24.0) -
                25 * (((t / 24) % 7) >= 5) + 8 * (rng.uniform() - 0.5));
  return y;
}

const insight::forecast::SeriesStart kHourly(insight::forecast::Frequency::hour(), 19000 * 24);

void BM_FitAndForecastHourly(benchmark::State& state) {
  const auto learner = static_cast<Learner>(state.range(0));
  const auto y = ninety_days_of_hours();
  for (auto _ : state) {
    auto m = insight::forecast::fit_learner(learner, kHourly, y);
    benchmark::DoNotOptimize(m->forecast(24));
  }
  state.SetLabel(std::string(insight::forecast::learner_name(learner)));
}
BENCHMARK(BM_FitAndForecastHourly)->DenseRange(0, 4)->Arg(6)->Unit(benchmark::kMillisecond);

void BM_AutoOneHourlySeries(benchmark::State& state) {
  const auto y = ninety_days_of_hours();
  insight::forecast::TrainOptions o;
  o.threads = 1;
  o.horizon = 24;
  o.frequency = insight::forecast::Frequency::hour();
  for (auto _ : state) {
    std::vector<insight::forecast::SeriesData> s{{"", kHourly.period, y, {}}};
    insight::forecast::TrainSummary summary;
    benchmark::DoNotOptimize(
        insight::forecast::train_forecast_payload(std::move(s), false, o, {}, summary));
  }
}
BENCHMARK(BM_AutoOneHourlySeries)->Unit(benchmark::kMillisecond);

}  // namespace
