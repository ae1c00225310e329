#include "core/model/payload.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

#include "core/common/binary_io.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"
#include "core/model/loader_registry.hpp"
#include "core/model/model.hpp"

namespace insight {
namespace {

Payload sample_payload() {
  Payload p;
  p.algorithm = Algorithm::External;
  p.task = Task::Forecast;
  p.meta = {{"features", {"a", "b"}}, {"threshold", 0.625}, {"note", "hello"}};
  BinaryWriter w;
  w.f64_array({1.5, -2.25, 3.0});
  w.str("tree");
  p.body = w.take();
  return p;
}

TEST(Crc32c, KnownVector) {
  // RFC 3720 test vector: CRC-32C of "123456789" is 0xE3069283.
  const char* s = "123456789";
  EXPECT_EQ(crc32c(s, 9), 0xE3069283u);
  EXPECT_EQ(crc32c(s, 0), 0u);
  // Chaining gives the same result as one pass.
  EXPECT_EQ(crc32c(s + 4, 5, crc32c(s, 4)), 0xE3069283u);
}

TEST(Crc32c, HardwareAndPortableAgree) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 999u, 1000u}) {
    for (size_t off : {0u, 1u, 3u}) {
      if (off + len > data.size()) continue;
      EXPECT_EQ(crc32c(data.data() + off, len, 0x1234u),
                crc32c_portable(data.data() + off, len, 0x1234u))
          << "len " << len << " offset " << off;
    }
  }
  EXPECT_EQ(crc32c_portable("123456789", 9), 0xE3069283u);
}

TEST(Payload, RoundTrip) {
  const Payload p = sample_payload();
  const auto bytes = encode_payload(p);
  ASSERT_EQ(bytes.size(), kPayloadHeaderSize + p.meta.dump().size() + p.body.size());
  const Payload q = decode_payload(bytes.data(), bytes.size());
  EXPECT_EQ(q.algorithm, Algorithm::External);
  EXPECT_EQ(q.task, Task::Forecast);
  EXPECT_EQ(q.meta, p.meta);
  EXPECT_EQ(q.body, p.body);
  BinaryReader r(q.body.data(), q.body.size());
  EXPECT_EQ(r.f64_array(10), (std::vector<double>{1.5, -2.25, 3.0}));
  EXPECT_EQ(r.str(), "tree");
  EXPECT_NO_THROW(r.expect_end());
}

// The header's CRC is the checksum of the rest: a payload with a different body has another.
TEST(Payload, HeaderCrcIsTheRecordedChecksum) {
  Payload p = sample_payload();
  const auto bytes = encode_payload(p);
  const uint32_t crc = payload_header_crc(bytes.data(), bytes.size());
  uint32_t expected = crc32c(bytes.data(), 28);
  expected = crc32c(bytes.data() + kPayloadHeaderSize, bytes.size() - kPayloadHeaderSize, expected);
  EXPECT_EQ(crc, expected);
  p.body.push_back(1);
  const auto other = encode_payload(p);
  EXPECT_NE(payload_header_crc(other.data(), other.size()), crc);
  EXPECT_EQ(payload_header_crc(bytes.data(), 31), 0u);
}

TEST(Payload, EveryTruncationIsRejected) {
  const auto bytes = encode_payload(sample_payload());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(decode_payload(bytes.data(), n), CorruptPayload) << "length " << n;
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(decode_payload(longer.data(), longer.size()), CorruptPayload);
}

TEST(Payload, EveryFlippedByteIsRejected) {
  const auto bytes = encode_payload(sample_payload());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF, 0x5A}) {
      auto bad = bytes;
      bad[i] ^= mask;
      EXPECT_THROW(decode_payload(bad.data(), bad.size()), CorruptPayload)
          << "byte " << i << " mask " << int(mask);
    }
  }
}

TEST(Payload, NullAndEmptyInputAreRejected) {
  EXPECT_THROW(decode_payload(nullptr, 0), CorruptPayload);
  const uint8_t zeros[64] = {};
  EXPECT_THROW(decode_payload(zeros, sizeof zeros), CorruptPayload);
}

// Rewrites a field and recomputes the checksum, so the check under test is not the CRC.
std::vector<uint8_t> with_valid_crc(std::vector<uint8_t> b) {
  uint32_t crc = crc32c(b.data(), 28);
  crc = crc32c(b.data() + 32, b.size() - 32, crc);
  for (int i = 0; i < 4; ++i) b[28 + i] = static_cast<uint8_t>(crc >> (8 * i));
  return b;
}

TEST(Payload, ForeignButWellFormedPayloadsAreRejected) {
  const auto good = encode_payload(sample_payload());
  // Format version 9, an unknown algorithm tag, an unknown task tag, the reserved byte set.
  const std::pair<size_t, uint8_t> changes[] = {{8, 9}, {10, 0xEE}, {12, 77}, {13, 1}};
  for (const auto& [offset, value] : changes) {
    SCOPED_TRACE("byte " + std::to_string(offset));
    auto v = good;
    v[offset] = value;
    v = with_valid_crc(v);
    EXPECT_THROW(decode_payload(v.data(), v.size()), CorruptPayload);
  }
}

TEST(Payload, MetadataMustBeAShallowJsonObject) {
  Payload p = sample_payload();
  // Deep nesting inside a valid object: refused without recursion trouble.
  std::string deep(200, '[');
  deep += std::string(200, ']');
  auto bytes = encode_payload(p);
  // Build by hand: header from a real payload, metadata replaced.
  auto make = [&](const std::string& meta) {
    std::vector<uint8_t> b(bytes.begin(), bytes.begin() + 32);
    for (int i = 0; i < 4; ++i) b[16 + i] = static_cast<uint8_t>(meta.size() >> (8 * i));
    for (int i = 0; i < 8; ++i) b[20 + i] = 0;
    b.insert(b.end(), meta.begin(), meta.end());
    return with_valid_crc(b);
  };
  auto nested = make("{\"a\":" + deep + "}");
  EXPECT_THROW(decode_payload(nested.data(), nested.size()), CorruptPayload);
  auto array = make("[1,2,3]");
  EXPECT_THROW(decode_payload(array.data(), array.size()), CorruptPayload);
  auto broken = make("{\"a\":");
  EXPECT_THROW(decode_payload(broken.data(), broken.size()), CorruptPayload);
  auto ok = make("{\"a\":[[1]]}");
  EXPECT_NO_THROW(decode_payload(ok.data(), ok.size()));
}

// Metadata {"deep": [[...[1]...]]} nested `depth` levels in all (the object is one).
std::string nested_metadata(int depth) {
  return "{\"deep\":" + std::string(static_cast<size_t>(depth - 1), '[') + "1" +
         std::string(static_cast<size_t>(depth - 1), ']') + "}";
}

// A payload with the given metadata text, built by hand (valid header and checksum), so the
// decoder can be asked about metadata the encoder would refuse.
std::vector<uint8_t> raw_payload_with_metadata(const std::string& meta) {
  Payload p;
  auto b = encode_payload(p);
  b.resize(32);
  for (int i = 0; i < 4; ++i) b[16 + i] = static_cast<uint8_t>(meta.size() >> (8 * i));
  for (int i = 0; i < 8; ++i) b[20 + i] = 0;
  b.insert(b.end(), meta.begin(), meta.end());
  uint32_t crc = crc32c(b.data(), 28);
  crc = crc32c(b.data() + 32, b.size() - 32, crc);
  for (int i = 0; i < 4; ++i) b[28 + i] = static_cast<uint8_t>(crc >> (8 * i));
  return b;
}

// Whether f returns rather than throwing E (any other exception fails the test).
template <typename E, typename F>
bool succeeds(F f) {
  try {
    f();
  } catch (const E&) {
    return false;
  }
  return true;
}

TEST(Payload, EncodeAcceptsExactlyWhatDecodeAccepts) {
  Payload p = sample_payload();
  p.meta = nlohmann::json::array({1, 2});
  EXPECT_THROW(encode_payload(p), InvalidParameter);
  for (int depth = kMaxPayloadJsonDepth - 2; depth <= kMaxPayloadJsonDepth + 2; ++depth) {
    const std::string text = nested_metadata(depth);
    p.meta = nlohmann::json::parse(text);
    ASSERT_EQ(json_depth(p.meta, 1000), depth);
    const auto raw = raw_payload_with_metadata(text);
    const bool decodes = succeeds<CorruptPayload>([&] { decode_payload(raw.data(), raw.size()); });
    const bool encodes = succeeds<InvalidParameter>([&] { encode_payload(p); });
    EXPECT_EQ(encodes, decodes) << "depth " << depth;
    EXPECT_EQ(encodes, depth <= kMaxPayloadJsonDepth) << "depth " << depth;
    const bool parses = succeeds<InvalidParameter>([&] { parse_metadata(text); });
    EXPECT_EQ(parses, encodes) << "depth " << depth;
  }
}

TEST(Payload, ParseMetadata) {
  EXPECT_EQ(parse_metadata("{\"a\": [1, {\"b\": 2}]}").at("a").size(), 2u);
  EXPECT_THROW(parse_metadata("[1]"), InvalidParameter);
  EXPECT_THROW(parse_metadata("{\"a\":"), InvalidParameter);
  EXPECT_THROW(parse_metadata("{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}"),
               InvalidParameter);
  EXPECT_EQ(json_depth(nlohmann::json(3), 10), 0);
  EXPECT_EQ(json_depth(nlohmann::json::object(), 10), 1);
}

TEST(BinaryReader, LengthsAreCheckedBeforeAllocation) {
  BinaryWriter w;
  w.u64(1ull << 60);  // claims 2^60 doubles
  w.f64(1.0);
  const auto b = w.take();
  BinaryReader r(b.data(), b.size());
  EXPECT_THROW(r.f64_array(1ull << 62), CorruptPayload);
  BinaryReader r2(b.data(), b.size());
  EXPECT_THROW(r2.f64_array(10), CorruptPayload);  // over the caller's limit
  BinaryReader r3(b.data(), 3);
  EXPECT_THROW(r3.u64(), CorruptPayload);
}

TEST(BinaryReader, NonFiniteAndTrailingBytes) {
  BinaryWriter w;
  w.f64(std::numeric_limits<double>::quiet_NaN());
  w.u8(1);
  const auto b = w.take();
  BinaryReader r(b.data(), b.size());
  EXPECT_THROW(r.finite_f64(), CorruptPayload);
  EXPECT_THROW(r.expect_end(), CorruptPayload);
}

TEST(LoadModel, ExternalModelKeepsItsBody) {
  const Payload p = sample_payload();
  const auto bytes = encode_payload(p);
  ModelPtr m = load_model(bytes.data(), bytes.size());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->algorithm(), Algorithm::External);
  EXPECT_EQ(m->task(), Task::Forecast);
  EXPECT_FALSE(m->scorable());
  EXPECT_EQ(m->meta().at("threshold").get<double>(), 0.625);
  const auto* ext = dynamic_cast<const ExternalModel*>(m.get());
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(ext->body(), p.body);
  EXPECT_GE(m->memory_bytes(), p.body.size());
}

// Each learner area registers its own tags: a tag nobody registered (or registered twice)
// fails here, not on a user's payload.
TEST(LoadModel, EveryAlgorithmTagButExternalHasExactlyOneLoader) {
  size_t tags = 0;
  for (uint32_t tag = 0; tag <= UINT16_MAX; ++tag) {
    const auto a = algorithm_from_tag(static_cast<uint16_t>(tag));
    if (!a) continue;
    ++tags;
    EXPECT_EQ(payload_loader_count(*a), *a == Algorithm::External ? 0u : 1u) << algorithm_name(*a);
  }
  EXPECT_EQ(tags, 16u);
}

TEST(LoadModel, WrongTaskIsCorrupt) {
  auto message = [](Algorithm a, Task t) -> std::string {
    Payload p = sample_payload();
    p.algorithm = a;
    p.task = t;
    const auto bytes = encode_payload(p);
    try {
      load_model(bytes.data(), bytes.size());
    } catch (const CorruptPayload& e) {
      return e.what();
    }
    return "loaded";
  };
  EXPECT_EQ(message(Algorithm::IsolationForest, Task::Forecast),
            "isolation forest payload with a wrong task");
  EXPECT_EQ(message(Algorithm::HoltWinters, Task::Anomaly), "forecast payload with a wrong task");
  EXPECT_EQ(message(Algorithm::CombinationForecast, Task::RootCause),
            "forecast payload with a wrong task");
}

TEST(Algorithm, NamesRoundTrip) {
  for (Task t : {Task::Anomaly, Task::Forecast, Task::Recommend, Task::RootCause}) {
    auto back = task_from_name(task_name(t));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, t);
  }
  EXPECT_FALSE(task_from_name("regression").has_value());
  EXPECT_EQ(algorithm_from_name("external"), Algorithm::External);
  EXPECT_FALSE(algorithm_from_name("magic").has_value());
  EXPECT_NE(task_names().find("root_cause"), std::string::npos);
}

}  // namespace
}  // namespace insight
