// A bounded uniform sample of the rows of a table: the state of the isolation_forest_fit
// aggregate. Memory is capacity × dimension doubles whatever the table size; two reservoirs
// built over disjoint parts of a table merge into a uniform sample of their union (exact in
// distribution), which is what lets parallel workers share the scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/binary_io.hpp"
#include "core/common/random.hpp"

namespace insight::anomaly {

class Reservoir {
 public:
  Reservoir(size_t capacity, uint64_t seed);

  // Adds one row; the first row fixes the dimension. Throws InvalidParameter for a row of
  // another length and for NaN or infinity.
  void add(const double* row, size_t dimension);
  // A row with a NULL feature: counted, not sampled.
  void skip() { ++skipped_; }
  // Replaces this reservoir by a uniform sample of both streams.
  void merge(const Reservoir& other);

  size_t capacity() const { return capacity_; }
  size_t dimension() const { return dimension_; }
  uint64_t seen() const { return seen_; }
  uint64_t skipped() const { return skipped_; }
  size_t size() const { return dimension_ == 0 ? 0 : rows_.size() / dimension_; }
  const double* row(size_t i) const { return rows_.data() + i * dimension_; }
  size_t memory_bytes() const { return sizeof(*this) + rows_.capacity() * sizeof(double); }

  void serialize(BinaryWriter& w) const;
  static Reservoir deserialize(BinaryReader& r);

 private:
  void set_dimension(size_t dimension);

  size_t capacity_;
  size_t dimension_ = 0;
  uint64_t seen_ = 0;
  uint64_t skipped_ = 0;
  std::vector<double> rows_;  // row-major, size() rows
  Rng rng_;
};

}  // namespace insight::anomaly
