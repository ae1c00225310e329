#include "core/common/binary_io.hpp"

#include <cmath>
#include <cstring>

#include "core/common/error.hpp"

namespace insight {

void BinaryWriter::put_le(uint64_t v, int n) {
  for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void BinaryWriter::f64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}

void BinaryWriter::str(const std::string& s) {
  u64(s.size());
  raw(s.data(), s.size());
}

void BinaryWriter::f64_array(const std::vector<double>& v) {
  u64(v.size());
  for (double d : v) f64(d);
}

void BinaryWriter::u32_array(const std::vector<uint32_t>& v) {
  u64(v.size());
  for (uint32_t x : v) u32(x);
}

void BinaryWriter::f32_array(const float* v, size_t n) {
  u64(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], sizeof bits);
    u32(bits);
  }
}

void BinaryWriter::raw(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  bytes_.insert(bytes_.end(), p, p + size);
}

void BinaryReader::need(size_t n) const {
  if (n > remaining())
    throw CorruptPayload(
        "model payload is corrupt: body ends early",
        "needed " + std::to_string(n) + " more bytes, " + std::to_string(remaining()) + " left");
}

uint64_t BinaryReader::get_le(int n) {
  need(static_cast<size_t>(n));
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p_[i]) << (8 * i);
  p_ += n;
  return v;
}

uint8_t BinaryReader::u8() {
  need(1);
  return *p_++;
}

double BinaryReader::f64() {
  uint64_t bits = u64();
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

double BinaryReader::finite_f64() {
  double v = f64();
  if (!std::isfinite(v))
    throw CorruptPayload("model payload is corrupt: non-finite number in body");
  return v;
}

uint64_t BinaryReader::count(size_t max_count, size_t elem_size) {
  uint64_t n = u64();
  if (n > max_count)
    throw CorruptPayload(
        "model payload is corrupt: element count out of range",
        "count " + std::to_string(n) + " exceeds the limit " + std::to_string(max_count));
  if (elem_size > 0 && n > remaining() / elem_size)
    throw CorruptPayload("model payload is corrupt: element count exceeds the body",
                         "count " + std::to_string(n) + " of " + std::to_string(elem_size) +
                             "-byte elements, " + std::to_string(remaining()) + " bytes left");
  return n;
}

std::string BinaryReader::str(size_t max_len) {
  uint64_t n = count(max_len, 1);
  std::string s(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
  p_ += n;
  return s;
}

std::vector<double> BinaryReader::f64_array(size_t max_count) {
  uint64_t n = count(max_count, 8);
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& d : v) d = f64();
  return v;
}

std::vector<uint32_t> BinaryReader::u32_array(size_t max_count) {
  uint64_t n = count(max_count, 4);
  std::vector<uint32_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = u32();
  return v;
}

std::vector<float> BinaryReader::finite_f32_array(size_t max_count) {
  uint64_t n = count(max_count, 4);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const uint32_t bits = u32();
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x))
      throw CorruptPayload("model payload is corrupt: non-finite number in body");
  }
  return v;
}

void BinaryReader::expect_end() const {
  if (remaining() != 0)
    throw CorruptPayload("model payload is corrupt: trailing bytes after the body",
                         std::to_string(remaining()) + " unexpected bytes");
}

}  // namespace insight
