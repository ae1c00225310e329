// Micro-benchmarks of the catalog's hot paths: payload checksum, decode (what a cache miss
// costs per model) and the per-backend cache lookup (what every scored row costs).
#include <benchmark/benchmark.h>

#include <vector>

#include "core/common/binary_io.hpp"
#include "core/common/crc32c.hpp"
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

}  // namespace
