// Implicit feedback as a sparse users × items matrix: the (user, item, weight) rows of any
// relation, summed per pair, with the id ↔ index maps. Ids are sorted (byte order) before
// indices are given, so the same rows in any order build the same matrix — and the same model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace insight::recommend {

// Compressed sparse rows: row r's columns are indices[indptr[r] .. indptr[r+1]), ascending.
struct Csr {
  uint32_t rows = 0, cols = 0;
  std::vector<uint32_t> indptr{0};
  std::vector<uint32_t> indices;
  std::vector<float> values;  // empty for a pattern-only matrix

  size_t nnz() const noexcept { return indices.size(); }
  uint32_t row_size(uint32_t r) const noexcept { return indptr[r + 1] - indptr[r]; }
  bool contains(uint32_t r, uint32_t c) const noexcept;
  // The same matrix by columns (cols × rows), values kept.
  Csr transpose() const;
  size_t memory_bytes() const noexcept;
};

struct Interactions {
  std::vector<std::string> users, items;  // index → id, ascending
  Csr by_user;                            // users × items, summed weights (all > 0)
  size_t rows_used = 0;                   // source rows that went into by_user
  size_t rows_dropped = 0;  // source rows of dropped users/items or of zero-weight pairs
};

// Ids → indices in order of first appearance (at most 2^32 − 2 of them).
struct IdTable {
  std::unordered_map<std::string, uint32_t> index;
  std::vector<std::string> ids;
  uint32_t intern(std::string_view id);
};

// InvalidParameter naming the user and item unless weight is finite, ≥ 0 and ≤ kMaxWeight.
// The largest weight of one row: sums of such weights stay far inside float, where the
// matrix keeps them, and the learners' factors stay finite (weights near float's maximum
// once gave infinite factors).
constexpr double kMaxWeight = 1e15;
void check_weight(std::string_view user, std::string_view item, double weight);

class InteractionBuilder {
 public:
  // weight must be finite and ≥ 0 (InvalidParameter naming the row's user and item otherwise).
  // `rows`: how many source rows this entry stands for (a caller may pre-aggregate pairs).
  void add(std::string_view user, std::string_view item, double weight, size_t rows = 1);
  size_t entries() const noexcept { return entries_.size(); }

  // One pass: items with fewer than min_item_users distinct users go first, then users with
  // fewer than min_user_items distinct items among the rest; pairs whose weights sum to 0 go
  // too. Consumes the builder.
  Interactions build(uint32_t min_user_items = 1, uint32_t min_item_users = 1);

 private:
  IdTable users_, items_;
  struct Entry {
    uint32_t user, item;
    double weight;
    size_t rows;
  };
  std::vector<Entry> entries_;
};

// Binary search in sorted ids; returns ids.size() when absent.
uint32_t find_id(const std::vector<std::string>& ids, std::string_view id) noexcept;

}  // namespace insight::recommend
