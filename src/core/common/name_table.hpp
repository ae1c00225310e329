// Enum ↔ name tables: an enum's names (as SQL shows them) in a constexpr array of (value,
// name) pairs, and the lookups every such table needs. The same for a table that maps one
// enum onto another (an area's learners onto the payload's algorithm tags).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace insight {

template <typename E, typename T, size_t N>
using PairTable = std::array<std::pair<E, T>, N>;

template <typename E, size_t N>
using NameTable = PairTable<E, std::string_view, N>;

// T as a parameter type that does not take part in deduction (C++20's std::type_identity_t):
// name_in(table, v, "unknown") deduces T from the table alone.
template <typename T>
struct NotDeduced {
  using type = T;
};

// What the table maps v onto, or `otherwise` when the table does not hold it.
template <typename E, typename T, size_t N>
constexpr T name_in(const PairTable<E, T, N>& table, E v,
                    typename NotDeduced<T>::type otherwise) noexcept {
  for (const auto& [value, name] : table)
    if (value == v) return name;
  return otherwise;
}

// The value the table maps onto name, if any.
template <typename E, typename T, size_t N>
constexpr std::optional<E> value_named(const PairTable<E, T, N>& table,
                                       typename NotDeduced<T>::type name) noexcept {
  for (const auto& [value, n] : table)
    if (n == name) return value;
  return std::nullopt;
}

// The value whose number (as stored in a payload) is tag.
template <typename E, typename T, size_t N>
constexpr std::optional<E> value_tagged(const PairTable<E, T, N>& table,
                                        std::underlying_type_t<E> tag) noexcept {
  for (const auto& [value, n] : table)
    if (static_cast<std::underlying_type_t<E>>(value) == tag) return value;
  return std::nullopt;
}

// Every name, comma separated, for error messages; name_of gives the name of what a value maps
// onto (by default the table holds the names).
template <typename E, typename T, size_t N, typename NameOf>
std::string joined_names(const PairTable<E, T, N>& table, NameOf name_of) {
  std::string out;
  for (const auto& [value, mapped] : table) {
    if (!out.empty()) out += ", ";
    out += name_of(mapped);
  }
  return out;
}

template <typename E, size_t N>
std::string joined_names(const NameTable<E, N>& table) {
  return joined_names(table, [](std::string_view name) { return name; });
}

}  // namespace insight
