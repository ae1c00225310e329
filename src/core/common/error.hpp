// Exception types of the pure C++ core. The PostgreSQL layer (src/pg/boundary.cpp) turns
// each into an ereport with the SQLSTATE that sqlstate_of() names, after every C++ frame
// has been unwound. The core never sees PostgreSQL headers, so SQLSTATEs are plain text.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace insight {

// Base of every error the core raises on purpose: a message users read, plus the optional
// DETAIL and HINT lines PostgreSQL shows under it.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(message), detail_(std::move(detail)), hint_(std::move(hint)) {}
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }
  // Five-character SQLSTATE of API.md section 5.
  virtual const char* sqlstate() const noexcept = 0;

 private:
  std::string detail_;
  std::string hint_;
};

// One Error subclass per SQLSTATE the core raises.
#define INSIGHT_ERROR_CLASS(Name, state)                             \
  class Name : public Error {                                        \
   public:                                                           \
    using Error::Error;                                              \
    const char* sqlstate() const noexcept override { return state; } \
  };

// 22023 invalid_parameter_value: a bad option value, NaN/infinity, too little data.
INSIGHT_ERROR_CLASS(InvalidParameter, "22023")
// 42703 undefined_column.
INSIGHT_ERROR_CLASS(UndefinedColumn, "42703")
// 42P01 undefined_table: a relation named in a text argument (holidays) that does not exist.
INSIGHT_ERROR_CLASS(UndefinedTable, "42P01")
// 42704 undefined_object: unknown model name or version, unknown entity id.
INSIGHT_ERROR_CLASS(UndefinedObject, "42704")
// 42501 insufficient_privilege.
INSIGHT_ERROR_CLASS(InsufficientPrivilege, "42501")
// 0A000 feature_not_supported: a request this version does not serve yet.
INSIGHT_ERROR_CLASS(FeatureNotSupported, "0A000")
// 55000 object_not_in_prerequisite_state: a model that lacks what is asked of it (a profile).
INSIGHT_ERROR_CLASS(ObjectNotInPrerequisiteState, "55000")
// XX001 data_corrupted: a model payload that is truncated, flipped or foreign.
INSIGHT_ERROR_CLASS(CorruptPayload, "XX001")
// XX000 internal_error: a violated invariant (an Eigen or dlib assertion, a bug).
INSIGHT_ERROR_CLASS(InternalError, "XX000")

#undef INSIGHT_ERROR_CLASS

// The SQLSTATE an exception maps to: an insight::Error names its own; std::invalid_argument
// and std::out_of_range are bad input (22023); std::bad_alloc and std::length_error are out of
// memory (53200); anything else is an internal error (XX000).
const char* sqlstate_of(const std::exception& e) noexcept;

// A number for a message: shortest of %g form (0.6, 1e-07, 12345.5).
std::string format_number(double v);

// A value the user gave, double-quoted for a message: at most kEchoChars characters of it
// (whole UTF-8 sequences), then "..." and its length, so a long argument is not echoed back
// whole: "lk-nope", or "xxxx...xxxx..." (12000 characters).
// quoted = false leaves the quotes out (for text that quotes itself, such as JSON).
constexpr size_t kEchoChars = 100;
std::string echo(std::string_view value, bool quoted = true);

}  // namespace insight
