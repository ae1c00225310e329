// Writes a few valid payloads into the directory given, as the fuzzer's starting corpus.
#include <cstdio>
#include <fstream>
#include <string>

#include "core/anomaly/anomaly_model.hpp"
#include "core/common/binary_io.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/model/payload.hpp"
#include "core/recommend/recommender.hpp"
#include "core/rootcause/classifier.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: payload_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  int n = 0;
  auto write = [&](const insight::Payload& p) {
    const auto bytes = insight::encode_payload(p);
    std::ofstream out(dir + "/seed" + std::to_string(n++), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  };
  insight::Payload p;
  write(p);
  p.task = insight::Task::Forecast;
  p.meta = {{"features", {"throughput_mbps", "utilization"}},
            {"threshold", 0.61},
            {"scaler", {{"median", {1.0, 2.0}}, {"iqr", {0.5, 0.25}}}}};
  insight::BinaryWriter w;
  w.f64_array({1.0, 2.0, 3.5});
  w.str("node");
  w.u32_array({1, 2, 3});
  p.body = w.take();
  write(p);
  p.task = insight::Task::RootCause;
  p.meta = {{"nested", {{"a", {{"b", {1, 2, {{"c", nullptr}}}}}}}}};
  write(p);
  // A small isolation forest, so the fuzzer starts inside the forest loader's checks.
  insight::anomaly::Reservoir sample(64, 1);
  for (int i = 0; i < 64; ++i) {
    const double row[2] = {static_cast<double>(i % 7), static_cast<double>(i % 5)};
    sample.add(row, 2);
  }
  insight::anomaly::TrainOptions options;
  options.forest.n_trees = 3;
  options.forest.sample_size = 8;
  write(insight::anomaly::train_anomaly_payload(sample, options, {"a", "b"}));
  // Forecasters: 'auto' over two groups (one short: the seasonal-naive fallback), and each
  // tree learner alone, so the fuzzer starts inside every learner's state reader.
  auto series = [](const char* key, size_t n) {
    insight::forecast::SeriesData s;
    s.key = key;
    s.first_period = 15000;
    for (size_t t = 0; t < n; ++t) s.values.push_back(10.0 + static_cast<double>(t % 7));
    return s;
  };
  insight::forecast::TrainSummary summary;
  insight::forecast::TrainOptions fo;
  fo.horizon = 3;
  fo.folds = 1;
  write(insight::forecast::train_forecast_payload({series("a", 20), series("b", 60)}, true, fo, {},
                                                  summary));
  for (auto l :
       {insight::forecast::Learner::RandomForest, insight::forecast::Learner::GradientBoosting,
        insight::forecast::Learner::Combination, insight::forecast::Learner::Theta}) {
    fo.learner = l;
    write(insight::forecast::train_forecast_payload({series("", 50)}, false, fo, {}, summary));
  }
  // An hourly and a monthly combination: the frequency in the metadata, the learners' states of
  // another season and feature warm-up, and the u32 zero-step mask of the output rule.
  fo.frequency = insight::forecast::Frequency::hour();
  write(insight::forecast::train_forecast_payload({series("", 400)}, false, fo, {}, summary));
  fo.frequency = insight::forecast::Frequency::month();
  write(insight::forecast::train_forecast_payload({series("", 50)}, false, fo, {}, summary));
  // Recommenders: a factor model and a neighbourhood model with both neighbour lists.
  for (auto m : {insight::recommend::Method::Als, insight::recommend::Method::UserKnn}) {
    insight::recommend::InteractionBuilder b;
    for (int u = 0; u < 6; ++u)
      for (int i = 0; i < 5; ++i)
        if ((u + i) % 3 != 0) b.add("u" + std::to_string(u), "i" + std::to_string(i), 1 + i % 2);
    insight::recommend::TrainOptions ro;
    ro.method = m;
    ro.factors = 2;
    ro.iterations = 2;
    write(
        insight::recommend::recommend_payload(*insight::recommend::fit_recommender(b.build(), ro)));
  }
  // A root-cause classifier: a few synthetic episodes of two root causes and none.
  std::vector<insight::rootcause::TrainingRow> rows(12);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].label = static_cast<insight::rootcause::Pattern>(i % 3 == 0 ? 0 : i % 3 == 1 ? 3 : 4);
    for (size_t k = 0; k < insight::rootcause::kFeatureCount; ++k)
      rows[i].features[k] = static_cast<double>((i * 7 + k * 3) % 11) + (i % 3 == 1 ? 5.0 : 0.0);
  }
  insight::rootcause::ClassifierOptions co;
  co.rounds = 3;
  write(
      insight::rootcause::RootCauseModel::train(rows, co, nlohmann::json::object())->to_payload());
  return 0;
}
