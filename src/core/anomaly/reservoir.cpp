#include "core/anomaly/reservoir.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/error.hpp"

namespace insight::anomaly {
namespace {
constexpr size_t kMaxDimension = 10000;
constexpr size_t kMaxCapacity = 1u << 24;
}  // namespace

Reservoir::Reservoir(size_t capacity, uint64_t seed) : capacity_(capacity), rng_(seed) {
  if (capacity_ < 1 || capacity_ > kMaxCapacity)
    throw InvalidParameter("reservoir capacity must be between 1 and " +
                           std::to_string(kMaxCapacity));
}

void Reservoir::set_dimension(size_t dimension) {
  if (dimension == 0) throw InvalidParameter("features must not be empty");
  if (dimension > kMaxDimension)
    throw InvalidParameter("too many features", std::to_string(dimension) + " given, at most " +
                                                    std::to_string(kMaxDimension));
  dimension_ = dimension;
}

void Reservoir::add(const double* row, size_t dimension) {
  if (dimension_ == 0) set_dimension(dimension);
  if (dimension != dimension_)
    throw InvalidParameter("a row has " + std::to_string(dimension) + " features, expected " +
                           std::to_string(dimension_));
  for (size_t j = 0; j < dimension; ++j)
    if (!std::isfinite(row[j]))
      throw InvalidParameter(
          "features must be finite numbers (NaN and infinity are rejected)",
          "feature " + std::to_string(j + 1) + " is " + (std::isnan(row[j]) ? "NaN" : "infinite"));
  ++seen_;
  if (size() < capacity_) {
    rows_.insert(rows_.end(), row, row + dimension);
    return;
  }
  // Algorithm R: the seen_-th row replaces a random slot with probability capacity/seen.
  const uint64_t slot = rng_.below(seen_);
  if (slot < capacity_) std::copy(row, row + dimension, rows_.begin() + slot * dimension_);
}

void Reservoir::merge(const Reservoir& other) {
  if (other.capacity_ != capacity_)
    throw InvalidParameter("cannot merge samples of different sizes",
                           std::to_string(capacity_) + " and " + std::to_string(other.capacity_) +
                               " rows; n_trees and sample_size must be the same for every row");
  skipped_ += other.skipped_;
  if (other.seen_ == 0) return;
  if (seen_ == 0) {
    const uint64_t skipped = skipped_;
    const Rng rng = rng_;
    *this = other;
    skipped_ = skipped;
    rng_ = rng;
    return;
  }
  if (other.dimension_ != dimension_)
    throw InvalidParameter("rows have " + std::to_string(other.dimension_) +
                           " features in one part of the table and " + std::to_string(dimension_) +
                           " in another");
  // How many of the merged sample's k rows come from each stream is hypergeometric: k draws
  // without replacement from seen_ + other.seen_ rows. Each reservoir is a uniform sample of
  // its own stream, so a uniform subset of the right size of each is exact.
  const uint64_t total = seen_ + other.seen_;
  const size_t k = static_cast<size_t>(std::min<uint64_t>(capacity_, total));
  uint64_t rem_a = seen_, rem_b = other.seen_;
  size_t from_a = 0;
  for (size_t i = 0; i < k; ++i) {
    if (rng_.below(rem_a + rem_b) < rem_a) {
      ++from_a;
      --rem_a;
    } else {
      --rem_b;
    }
  }
  const size_t from_b = k - from_a;
  auto pick = [this](const std::vector<double>& src, size_t available, size_t count,
                     std::vector<double>& dst) {
    std::vector<size_t> idx(available);
    for (size_t i = 0; i < available; ++i) idx[i] = i;
    for (size_t i = 0; i < count; ++i) {  // partial Fisher-Yates
      const size_t j = i + static_cast<size_t>(rng_.below(available - i));
      std::swap(idx[i], idx[j]);
      dst.insert(dst.end(), src.begin() + idx[i] * dimension_,
                 src.begin() + (idx[i] + 1) * dimension_);
    }
  };
  std::vector<double> merged;
  merged.reserve(k * dimension_);
  pick(rows_, size(), from_a, merged);
  pick(other.rows_, other.size(), from_b, merged);
  rows_ = std::move(merged);
  seen_ = total;
}

void Reservoir::serialize(BinaryWriter& w) const {
  w.u64(capacity_);
  w.u64(dimension_);
  w.u64(seen_);
  w.u64(skipped_);
  w.f64_array(rows_);
  // The generator state travels too, so a deserialized reservoir continues the same stream.
  Rng copy = rng_;
  w.u64(copy.next());
}

Reservoir Reservoir::deserialize(BinaryReader& r) {
  const uint64_t capacity = r.u64();
  const uint64_t dimension = r.u64();
  if (capacity < 1 || capacity > kMaxCapacity || dimension > kMaxDimension)
    throw CorruptPayload("isolation forest state is corrupt: bad capacity or dimension");
  const uint64_t seen = r.u64();
  const uint64_t skipped = r.u64();
  std::vector<double> rows = r.f64_array(capacity * std::max<uint64_t>(dimension, 1));
  const uint64_t seed = r.u64();
  if ((dimension == 0 && !rows.empty()) || (dimension > 0 && rows.size() % dimension != 0) ||
      (dimension > 0 && rows.size() / dimension > std::min<uint64_t>(capacity, seen)))
    throw CorruptPayload("isolation forest state is corrupt: row count does not match");
  Reservoir out(static_cast<size_t>(capacity), seed);
  out.dimension_ = static_cast<size_t>(dimension);
  out.seen_ = seen;
  out.skipped_ = skipped;
  out.rows_ = std::move(rows);
  return out;
}

}  // namespace insight::anomaly
