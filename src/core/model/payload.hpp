// The model payload: the bytes stored in insight.models.payload.
//
//   offset  size  field
//        0     8  magic "PGINSGHT"
//        8     2  format version (little endian), currently 1
//       10     2  algorithm tag (see algorithm.hpp)
//       12     1  task tag
//       13     3  reserved, zero
//       16     4  metadata length M (JSON text, UTF-8)
//       20     8  body length B
//       28     4  CRC-32C of bytes 0..27, the metadata and the body
//       32     M  metadata: a JSON object (feature names, scaler, threshold, training metrics)
//     32+M     B  body: the learner's numeric state, written with BinaryWriter
//
// decode_payload() checks the size, the magic, the version, the tags, both lengths against
// the real size, the checksum and the JSON (an object, nested at most 64 deep) before it
// returns anything: every truncated, flipped or foreign payload raises CorruptPayload (XX001).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model/algorithm.hpp"

namespace insight {

struct Payload {
  Algorithm algorithm = Algorithm::External;
  Task task = Task::Anomaly;
  nlohmann::json meta = nlohmann::json::object();
  std::vector<uint8_t> body;
};

constexpr size_t kPayloadHeaderSize = 32;
constexpr uint16_t kPayloadFormatVersion = 1;
constexpr size_t kMaxPayloadMetaBytes = 16u << 20;    // 16 MiB of JSON metadata
constexpr size_t kMaxPayloadBodyBytes = 1000u << 20;  // below PostgreSQL's 1 GB bytea limit
constexpr int kMaxPayloadJsonDepth = 64;

// Throws InvalidParameter for metadata the decoder would refuse (not an object, nested more
// than kMaxPayloadJsonDepth deep, too large) and for an oversized body.
std::vector<uint8_t> encode_payload(const Payload& payload);
Payload decode_payload(const uint8_t* data, size_t size);
// The CRC-32C a payload's header records (bytes 28..31; 0 for fewer than 32 bytes): what
// identifies a payload scored as bytes in insight.model_usage.
uint32_t payload_header_crc(const uint8_t* data, size_t size);

// Parses user-supplied metadata text for a new payload: InvalidParameter (22023) unless it is a
// JSON object nested at most kMaxPayloadJsonDepth deep.
nlohmann::json parse_metadata(const std::string& text);
// Depth of the deepest nesting (a scalar is 0, {} or [] is 1), computed without recursion;
// stops counting once `limit` is exceeded.
int json_depth(const nlohmann::json& j, int limit);

}  // namespace insight
