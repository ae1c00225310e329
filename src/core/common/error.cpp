#include "core/common/error.hpp"

#include <algorithm>
#include <cstdio>
#include <new>

namespace insight {

const char* sqlstate_of(const std::exception& e) noexcept {
  if (const auto* err = dynamic_cast<const Error*>(&e)) return err->sqlstate();
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) return "53200";
  if (dynamic_cast<const std::length_error*>(&e) != nullptr) return "53200";
  if (dynamic_cast<const std::invalid_argument*>(&e) != nullptr) return "22023";
  if (dynamic_cast<const std::out_of_range*>(&e) != nullptr) return "22023";
  if (dynamic_cast<const std::domain_error*>(&e) != nullptr) return "22023";
  return "XX000";
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string echo(std::string_view value, bool quoted) {
  const std::string q = quoted ? "\"" : "";
  // Characters are counted as UTF-8 sequences: bytes that are not continuation bytes.
  size_t chars = 0, cut = value.size();
  for (size_t i = 0; i < value.size(); ++i) {
    if ((static_cast<unsigned char>(value[i]) & 0xC0) == 0x80) continue;
    if (chars == kEchoChars) cut = std::min(cut, i);
    ++chars;
  }
  if (chars <= kEchoChars) return q + std::string(value) + q;
  return q + std::string(value.substr(0, cut)) + "..." + q + " (" + std::to_string(chars) +
         " characters)";
}

}  // namespace insight
