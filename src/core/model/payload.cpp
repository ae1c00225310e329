#include "core/model/payload.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "core/common/binary_io.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"

namespace insight {
namespace {

constexpr char kMagic[8] = {'P', 'G', 'I', 'N', 'S', 'G', 'H', 'T'};
constexpr size_t kChecksumOffset = 28;

[[noreturn]] void corrupt(const std::string& what, const std::string& detail = {}) {
  throw CorruptPayload("model payload is corrupt: " + what, detail,
                       "Retrain the model, or restore insight.models from a backup.");
}

uint32_t checksum(const uint8_t* data, size_t size) {
  // The checksum covers the header up to its own field, then everything after it.
  uint32_t crc = crc32c(data, kChecksumOffset);
  return crc32c(data + kPayloadHeaderSize, size - kPayloadHeaderSize, crc);
}

}  // namespace

int json_depth(const nlohmann::json& j, int limit) {
  int deepest = 0;
  std::vector<std::pair<const nlohmann::json*, int>> stack{{&j, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

nlohmann::json parse_metadata(const std::string& text) {
  nlohmann::json meta;
  try {
    nlohmann::json::parser_callback_t limit_depth = [](int depth, nlohmann::json::parse_event_t,
                                                       nlohmann::json&) {
      if (depth > kMaxPayloadJsonDepth)
        throw InvalidParameter("metadata is nested more than " +
                               std::to_string(kMaxPayloadJsonDepth) + " levels deep");
      return true;
    };
    meta = nlohmann::json::parse(text, limit_depth);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidParameter("metadata is not valid JSON", e.what());
  }
  if (!meta.is_object()) throw InvalidParameter("metadata must be a JSON object");
  return meta;
}

std::vector<uint8_t> encode_payload(const Payload& payload) {
  if (!payload.meta.is_object()) throw InvalidParameter("model metadata must be a JSON object");
  if (json_depth(payload.meta, kMaxPayloadJsonDepth) > kMaxPayloadJsonDepth)
    throw InvalidParameter("model metadata is nested more than " +
                           std::to_string(kMaxPayloadJsonDepth) + " levels deep");
  const std::string meta = payload.meta.dump();
  if (meta.size() > kMaxPayloadMetaBytes)
    throw InvalidParameter(
        "model metadata is too large",
        std::to_string(meta.size()) + " bytes, at most " + std::to_string(kMaxPayloadMetaBytes));
  if (payload.body.size() > kMaxPayloadBodyBytes)
    throw InvalidParameter("model body is too large", std::to_string(payload.body.size()) +
                                                          " bytes, at most " +
                                                          std::to_string(kMaxPayloadBodyBytes));
  BinaryWriter w;
  w.raw(kMagic, sizeof kMagic);
  w.u16(kPayloadFormatVersion);
  w.u16(static_cast<uint16_t>(payload.algorithm));
  w.u8(static_cast<uint8_t>(payload.task));
  w.u8(0);
  w.u8(0);
  w.u8(0);
  w.u32(static_cast<uint32_t>(meta.size()));
  w.u64(payload.body.size());
  w.u32(0);  // checksum, filled in below
  w.raw(meta.data(), meta.size());
  w.raw(payload.body.data(), payload.body.size());
  std::vector<uint8_t> out = w.take();
  const uint32_t crc = checksum(out.data(), out.size());
  for (int i = 0; i < 4; ++i) out[kChecksumOffset + i] = static_cast<uint8_t>(crc >> (8 * i));
  return out;
}

uint32_t payload_header_crc(const uint8_t* data, size_t size) {
  if (size < kPayloadHeaderSize) return 0;
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= static_cast<uint32_t>(data[kChecksumOffset + i]) << (8 * i);
  return crc;
}

Payload decode_payload(const uint8_t* data, size_t size) {
  if (data == nullptr || size < kPayloadHeaderSize)
    corrupt("too short", std::to_string(size) + " bytes, a payload has at least " +
                             std::to_string(kPayloadHeaderSize));
  if (std::memcmp(data, kMagic, sizeof kMagic) != 0) corrupt("not a pg_insight model (bad magic)");

  BinaryReader header(data + sizeof kMagic, kPayloadHeaderSize - sizeof kMagic);
  const uint16_t version = header.u16();
  const uint16_t algorithm_tag = header.u16();
  const uint8_t task_tag = header.u8();
  const uint8_t r0 = header.u8(), r1 = header.u8(), r2 = header.u8();
  const uint32_t meta_len = header.u32();
  const uint64_t body_len = header.u64();
  const uint32_t stored_crc = header.u32();

  if (version != kPayloadFormatVersion)
    corrupt("unsupported format version " + std::to_string(version),
            "this build reads format version " + std::to_string(kPayloadFormatVersion));
  if ((r0 | r1 | r2) != 0) corrupt("reserved header bytes are not zero");
  if (meta_len > kMaxPayloadMetaBytes) corrupt("metadata length out of range");
  if (body_len > kMaxPayloadBodyBytes) corrupt("body length out of range");
  if (kPayloadHeaderSize + meta_len + body_len != size)
    corrupt("lengths do not match the payload size",
            "header says " + std::to_string(kPayloadHeaderSize + meta_len + body_len) +
                " bytes, the payload has " + std::to_string(size));
  const uint32_t crc = checksum(data, size);
  if (crc != stored_crc) corrupt("checksum mismatch");

  // Only a payload with a valid checksum reaches here; the tags and the JSON are still
  // checked, because a payload written by a newer build or crafted by hand can be well-formed
  // but foreign.
  Payload out;
  auto algorithm = algorithm_from_tag(algorithm_tag);
  if (!algorithm) corrupt("unknown algorithm tag " + std::to_string(algorithm_tag));
  auto task = task_from_tag(task_tag);
  if (!task) corrupt("unknown task tag " + std::to_string(task_tag));
  out.algorithm = *algorithm;
  out.task = *task;

  const char* meta_begin = reinterpret_cast<const char*>(data + kPayloadHeaderSize);
  try {
    nlohmann::json::parser_callback_t limit_depth = [](int depth, nlohmann::json::parse_event_t,
                                                       nlohmann::json&) {
      if (depth > kMaxPayloadJsonDepth) throw CorruptPayload("metadata nested too deeply");
      return true;
    };
    out.meta = nlohmann::json::parse(meta_begin, meta_begin + meta_len, limit_depth);
  } catch (const nlohmann::json::exception& e) {
    corrupt("metadata is not valid JSON", e.what());
  } catch (const CorruptPayload&) {
    corrupt("metadata nested deeper than " + std::to_string(kMaxPayloadJsonDepth) + " levels");
  }
  if (!out.meta.is_object()) corrupt("metadata is not a JSON object");

  const uint8_t* body = data + kPayloadHeaderSize + meta_len;
  out.body.assign(body, body + body_len);
  return out;
}

}  // namespace insight
