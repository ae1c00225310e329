#include "core/common/error.hpp"

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

}  // namespace insight
