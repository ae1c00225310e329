// libFuzzer target for the model payload reader (scripts/run-fuzz runs it in `make test`).
// Contract under test: any byte string given to load_model() either loads or raises
// CorruptPayload — never another exception, a crash, an out-of-bounds read (ASan) or
// undefined behaviour (UBSan). An escaping exception aborts, which libFuzzer reports.
#include <cstdint>
#include <vector>

#include "core/common/binary_io.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/model/model.hpp"
#include "core/recommend/recommender.hpp"

namespace {

void load(const uint8_t* data, size_t size) {
  try {
    insight::ModelPtr m = insight::load_model(data, size);
    (void)m->memory_bytes();
    (void)m->meta().dump();
    // A forecaster that loads must also forecast: walks every learner's validated state.
    if (const auto* f = dynamic_cast<const insight::forecast::ForecastModel*>(m.get())) {
      size_t n = 0;
      for (const auto& s : f->series()) {
        if (n++ == 4) break;
        (void)f->forecast(s, 3, 0.9);
      }
    }
    // A recommender that loads must also recommend and find similar items.
    if (const auto* r = dynamic_cast<const insight::recommend::RecommendModel*>(m.get())) {
      for (uint32_t u = 0; u < r->users().size() && u < 4; ++u) (void)r->recommend(u, 3, true);
      (void)r->recommend(std::nullopt, 3, true);
      for (uint32_t i = 0; i < r->items().size() && i < 4; ++i) (void)r->similar(i, 3);
    }
  } catch (const insight::CorruptPayload&) {
  }
}

// The same bytes with consistent lengths and a valid checksum, so the fuzzer also reaches the
// tag, JSON and body checks behind the CRC.
std::vector<uint8_t> repaired(const uint8_t* data, size_t size) {
  std::vector<uint8_t> b(data, data + size);
  const size_t rest = size - 32;
  uint32_t meta_len = 0;
  for (int i = 0; i < 4; ++i) meta_len |= static_cast<uint32_t>(b[16 + i]) << (8 * i);
  if (meta_len > rest) meta_len = static_cast<uint32_t>(rest);
  const uint64_t body_len = rest - meta_len;
  for (int i = 0; i < 4; ++i) b[16 + i] = static_cast<uint8_t>(meta_len >> (8 * i));
  for (int i = 0; i < 8; ++i) b[20 + i] = static_cast<uint8_t>(body_len >> (8 * i));
  uint32_t crc = insight::crc32c(b.data(), 28);
  crc = insight::crc32c(b.data() + 32, rest, crc);
  for (int i = 0; i < 4; ++i) b[28 + i] = static_cast<uint8_t>(crc >> (8 * i));
  return b;
}

// Drives the bounds-checked body reader with reads chosen by the input itself.
void read_body(const uint8_t* data, size_t size) {
  if (size < 1) return;
  insight::BinaryReader r(data + 1, size - 1);
  try {
    for (int step = 0; step < 64 && r.remaining() > 0; ++step) {
      switch ((data[0] >> (step % 8)) & 3) {
        case 0:
          (void)r.f64_array(1u << 20);
          break;
        case 1:
          (void)r.str(1u << 16);
          break;
        case 2:
          (void)r.u32_array(1u << 20);
          break;
        default:
          (void)r.finite_f64();
          break;
      }
    }
    r.expect_end();
  } catch (const insight::CorruptPayload&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  load(data, size);
  if (size >= 32) {
    const auto fixed = repaired(data, size);
    load(fixed.data(), fixed.size());
  }
  read_body(data, size);
  return 0;
}
