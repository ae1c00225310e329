// Micro-benchmarks of the catalog's hot paths: payload checksum, decode (what a cache miss
// costs per model), the per-backend cache lookup (what every scored row costs) and the
// Isolation Forest's score of one row (100 trees, sample size 256, 5 features: the anomaly
// speed benchmark's model), rows taken in turn from a million so that the walks miss as
// they do in a scan.
#include <benchmark/benchmark.h>

#include <vector>

#include "core/anomaly/isolation_forest.hpp"
#include "core/common/binary_io.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/random.hpp"
#include "core/model/model_cache.hpp"
#include "core/model/payload.hpp"

namespace {

std::vector<uint8_t> payload_of(size_t body_bytes) {
  insight::Payload p;
  p.meta = {{"features", {"throughput_mbps", "utilization", "errors", "discards", "uptime_pct"}},
            {"threshold", 0.61}};
  p.body.assign(body_bytes, 0x5A);
  return insight::encode_payload(p);
}

void BM_Crc32c(benchmark::State& state) {
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0xA5);
  for (auto _ : state) benchmark::DoNotOptimize(insight::crc32c(data.data(), data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(4096)->Arg(1 << 20);

void BM_DecodePayload(benchmark::State& state) {
  const auto bytes = payload_of(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto p = insight::decode_payload(bytes.data(), bytes.size());
    benchmark::DoNotOptimize(p.body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_DecodePayload)->Arg(1 << 10)->Arg(1 << 20)->Arg(16 << 20);

void BM_ModelCacheHit(benchmark::State& state) {
  insight::ModelCache cache(1u << 30, 1024);
  for (int64_t id = 1; id <= 100; ++id) {
    const auto b = payload_of(1024);
    cache.put(id, insight::load_model(b.data(), b.size()));
  }
  int64_t id = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.get(id));
    id = id % 100 + 1;
  }
}
BENCHMARK(BM_ModelCacheHit);

void BM_IsolationForestScore(benchmark::State& state) {
  constexpr size_t kFeatures = 5, kRows = 1000000;
  insight::Rng rng(7);
  std::vector<double> rows(kRows * kFeatures);
  for (size_t i = 0; i < kRows; ++i)
    for (size_t j = 0; j < kFeatures; ++j)
      rows[i * kFeatures + j] = (j + 1) * 10.0 * rng.uniform() + (i % 100 == 0 ? 50.0 : 0.0);
  const auto forest = insight::anomaly::IsolationForest::fit(
      rows.data(), kRows, kFeatures, {100, static_cast<int>(state.range(0)), 42});
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        forest.score(&rows[i * kFeatures],
                     static_cast<insight::anomaly::IsolationForest::Walk>(state.range(1))));
    i = i + 1 == kRows ? 0 : i + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
// Args: sample size, walk (1 the nodes — tree by tree where the forest has the ranked form —,
// 2 ranked, 3 ranked with AVX2 only: see IsolationForest::Walk).
BENCHMARK(BM_IsolationForestScore)->ArgsProduct({{256}, {1, 2, 3}});

}  // namespace
