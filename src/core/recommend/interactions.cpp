#include "core/recommend/interactions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/common/error.hpp"

namespace insight::recommend {

bool Csr::contains(uint32_t r, uint32_t c) const noexcept {
  const auto first = indices.begin() + indptr[r], last = indices.begin() + indptr[r + 1];
  return std::binary_search(first, last, c);
}

Csr Csr::transpose() const {
  Csr t;
  t.rows = cols;
  t.cols = rows;
  t.indptr.assign(static_cast<size_t>(cols) + 1, 0);
  for (uint32_t c : indices) ++t.indptr[c + 1];
  std::partial_sum(t.indptr.begin(), t.indptr.end(), t.indptr.begin());
  t.indices.resize(nnz());
  if (!values.empty()) t.values.resize(nnz());
  std::vector<uint32_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t k = indptr[r]; k < indptr[r + 1]; ++k) {
      const uint32_t pos = next[indices[k]]++;
      t.indices[pos] = r;  // rows ascend, so each column's list comes out sorted
      if (!values.empty()) t.values[pos] = values[k];
    }
  return t;
}

size_t Csr::memory_bytes() const noexcept {
  return sizeof(*this) + indptr.capacity() * 4 + indices.capacity() * 4 + values.capacity() * 4;
}

uint32_t IdTable::intern(std::string_view id) {
  auto [it, inserted] = index.try_emplace(std::string(id), static_cast<uint32_t>(ids.size()));
  if (inserted) {
    if (ids.size() >= std::numeric_limits<uint32_t>::max() - 1)
      throw InvalidParameter("too many distinct users or items (at most 4294967294)");
    ids.emplace_back(id);
  }
  return it->second;
}

void check_weight(std::string_view user, std::string_view item, double weight) {
  if (!std::isfinite(weight) || weight < 0 || weight > kMaxWeight)
    throw InvalidParameter("weights must be finite, not negative and at most 1e15",
                           "user \"" + std::string(user) + "\", item \"" + std::string(item) +
                               "\" has weight " + format_number(weight));
}

void InteractionBuilder::add(std::string_view user, std::string_view item, double weight,
                             size_t rows) {
  check_weight(user, item, weight);
  entries_.push_back({users_.intern(user), items_.intern(item), weight, rows});
}

namespace {
// Old index → new index for ids sorted ascending, keeping only ids with keep[old].
std::vector<uint32_t> sorted_order(std::vector<std::string>& ids, const std::vector<bool>& keep,
                                   std::vector<std::string>& out_ids) {
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < ids.size(); ++i)
    if (keep[i]) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> remap(ids.size(), kNone);
  out_ids.clear();
  out_ids.reserve(order.size());
  for (uint32_t k = 0; k < order.size(); ++k) {
    remap[order[k]] = k;
    out_ids.push_back(std::move(ids[order[k]]));
  }
  return remap;
}
}  // namespace

Interactions InteractionBuilder::build(uint32_t min_user_items, uint32_t min_item_users) {
  constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  // Sum duplicates first (pairs, in old indices), so "distinct" counts are right.
  // Weights of a pair are summed in ascending order: the same rows in any order give the same
  // sums, bit for bit.
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.user, a.item, a.weight) < std::tie(b.user, b.item, b.weight);
  });
  struct Pair {
    uint32_t user, item;
    double weight;
    size_t rows;
  };
  std::vector<Pair> pairs;
  size_t total_rows = 0;
  for (const Entry& e : entries_) {
    total_rows += e.rows;
    if (!pairs.empty() && pairs.back().user == e.user && pairs.back().item == e.item) {
      pairs.back().weight += e.weight;
      pairs.back().rows += e.rows;
    } else {
      pairs.push_back({e.user, e.item, e.weight, e.rows});
    }
  }
  entries_.clear();
  entries_.shrink_to_fit();

  // A pair counts when its summed weight is positive as the float the matrix stores (a sum
  // of subnormal weights rounds to 0 there and is dropped like a zero weight).
  for (Pair& p : pairs)
    if (!(static_cast<float>(p.weight) > 0)) p.weight = 0;
  std::vector<uint32_t> item_users(items_.ids.size(), 0), user_items(users_.ids.size(), 0);
  for (const Pair& p : pairs)
    if (p.weight > 0) ++item_users[p.item];
  std::vector<bool> keep_item(items_.ids.size());
  for (size_t i = 0; i < items_.ids.size(); ++i) keep_item[i] = item_users[i] >= min_item_users;
  for (const Pair& p : pairs)
    if (p.weight > 0 && keep_item[p.item]) ++user_items[p.user];
  std::vector<bool> keep_user(users_.ids.size());
  for (size_t u = 0; u < users_.ids.size(); ++u) keep_user[u] = user_items[u] >= min_user_items;
  // An item may have lost every user with the users dropped: keep only items still used.
  std::vector<bool> item_used(items_.ids.size(), false);
  for (const Pair& p : pairs)
    if (p.weight > 0 && keep_item[p.item] && keep_user[p.user]) item_used[p.item] = true;

  Interactions out;
  const std::vector<uint32_t> user_map = sorted_order(users_.ids, keep_user, out.users);
  const std::vector<uint32_t> item_map = sorted_order(items_.ids, item_used, out.items);
  users_ = {};
  items_ = {};

  std::vector<std::tuple<uint32_t, uint32_t, float>> kept;
  for (const Pair& p : pairs) {
    const uint32_t u = user_map[p.user], i = item_map[p.item];
    if (u == kNone || i == kNone || !(p.weight > 0)) continue;
    kept.emplace_back(u, i, static_cast<float>(p.weight));
    out.rows_used += p.rows;
  }
  out.rows_dropped = total_rows - out.rows_used;
  std::sort(kept.begin(), kept.end());
  Csr& m = out.by_user;
  m.rows = static_cast<uint32_t>(out.users.size());
  m.cols = static_cast<uint32_t>(out.items.size());
  m.indptr.assign(static_cast<size_t>(m.rows) + 1, 0);
  m.indices.reserve(kept.size());
  m.values.reserve(kept.size());
  for (const auto& [u, i, w] : kept) {
    ++m.indptr[u + 1];
    m.indices.push_back(i);
    m.values.push_back(w);
  }
  std::partial_sum(m.indptr.begin(), m.indptr.end(), m.indptr.begin());
  return out;
}

uint32_t find_id(const std::vector<std::string>& ids, std::string_view id) noexcept {
  auto it = std::lower_bound(ids.begin(), ids.end(), id,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it == ids.end() || *it != id) return static_cast<uint32_t>(ids.size());
  return static_cast<uint32_t>(it - ids.begin());
}

}  // namespace insight::recommend
