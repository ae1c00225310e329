// Little-endian binary writer and bounds-checked reader for model payload bodies.
// The reader validates every length against the bytes that remain before it allocates or
// copies anything, so a corrupt or hostile body raises CorruptPayload instead of reading out
// of bounds or allocating more memory than the payload itself holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace insight {

class BinaryWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u16(uint16_t v) { put_le(v, 2); }
  void u32(uint32_t v) { put_le(v, 4); }
  void u64(uint64_t v) { put_le(v, 8); }
  void i64(int64_t v) { put_le(static_cast<uint64_t>(v), 8); }
  void f64(double v);
  void str(const std::string& s);
  void f64_array(const std::vector<double>& v);
  void u32_array(const std::vector<uint32_t>& v);
  void f32_array(const float* v, size_t n);
  void raw(const void* data, size_t size);

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  void put_le(uint64_t v, int n);
  std::vector<uint8_t> bytes_;
};

class BinaryReader {
 public:
  BinaryReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  uint8_t u8();
  uint16_t u16() { return static_cast<uint16_t>(get_le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get_le(4)); }
  uint64_t u64() { return get_le(8); }
  int64_t i64() { return static_cast<int64_t>(get_le(8)); }
  double f64();
  // A finite double: NaN or infinity in a payload means corruption.
  double finite_f64();
  std::string str(size_t max_len = 1u << 20);
  std::vector<double> f64_array(size_t max_count);
  std::vector<uint32_t> u32_array(size_t max_count);
  // Finite floats only (NaN or infinity means corruption).
  std::vector<float> finite_f32_array(size_t max_count);
  // A count that must not exceed max_count, and whose elements of elem_size bytes each must
  // still fit in the bytes left.
  uint64_t count(size_t max_count, size_t elem_size);

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // Throws unless every byte was consumed: trailing garbage is corruption too.
  void expect_end() const;

 private:
  uint64_t get_le(int n);
  void need(size_t n) const;
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace insight
