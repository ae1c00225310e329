// Enum ↔ name tables: an enum's names (as SQL shows them) in a constexpr array of (value,
// name) pairs, and the lookups every such table needs.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace insight {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

// The name of v, or `otherwise` when the table does not hold it.
template <typename E, size_t N>
constexpr std::string_view name_in(const NameTable<E, N>& table, E v,
                                   std::string_view otherwise) noexcept {
  for (const auto& [value, name] : table)
    if (value == v) return name;
  return otherwise;
}

template <typename E, size_t N>
constexpr std::optional<E> value_named(const NameTable<E, N>& table,
                                       std::string_view name) noexcept {
  for (const auto& [value, n] : table)
    if (n == name) return value;
  return std::nullopt;
}

// The value whose number (as stored in a payload) is tag.
template <typename E, size_t N>
constexpr std::optional<E> value_tagged(const NameTable<E, N>& table,
                                        std::underlying_type_t<E> tag) noexcept {
  for (const auto& [value, n] : table)
    if (static_cast<std::underlying_type_t<E>>(value) == tag) return value;
  return std::nullopt;
}

// Every name, comma separated, for error messages.
template <typename E, size_t N>
std::string joined_names(const NameTable<E, N>& table) {
  std::string out;
  for (const auto& [value, name] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace insight
