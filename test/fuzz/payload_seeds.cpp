// Writes a few valid payloads into the directory given, as the fuzzer's starting corpus.
#include <cstdio>
#include <fstream>
#include <string>

#include "core/anomaly/anomaly_model.hpp"
#include "core/model/binary_io.hpp"
#include "core/model/payload.hpp"

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
  return 0;
}
