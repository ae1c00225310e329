// Reading a task's training (and evaluation) options from JSON: the one form in which they
// travel, from the SQL wrappers (jsonb_build_object of their arguments) and from a stored
// version's params (retrain). Each task's options type reads its keys with an OptionReader, validates them,
// and writes itself back with to_json(); what it writes is what retrain replays.
//
// JSON null is SQL NULL: a required option that is null or missing is an error naming it
// ("n_trees must not be NULL"), an optional one takes its default. Keys the task does not
// know are an error, so a misspelt option is never silently ignored.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace insight {

class OptionReader {
 public:
  // `what` names the options in messages ("anomaly detector options"). Throws
  // InvalidParameter unless `options` is a JSON object.
  OptionReader(const nlohmann::json& options, std::string what);

  // Required: InvalidParameter "<key> must not be NULL" when null or missing.
  std::string text(const char* key);
  int32_t int4(const char* key);
  double float8(const char* key);
  // With a default for a missing key; null is still an error (the SQL argument was NULL).
  std::string text(const char* key, const std::string& missing);
  int32_t int4(const char* key, int32_t missing);
  double float8(const char* key, double missing);
  // Optional: nullopt when null or missing.
  std::optional<std::string> optional_text(const char* key);
  std::optional<int32_t> optional_int4(const char* key);
  // A boolean whose NULL means `when_null` (and a missing key too).
  bool boolean(const char* key, bool when_null);
  // A seed: any int4, or a stored unsigned 32-bit value; returned as its 32 bits.
  uint32_t seed(const char* key, uint32_t missing);
  // An array of text: InvalidParameter "<key> must not be NULL" for null or missing.
  std::vector<std::string> text_array(const char* key);
  // An optional array of text: empty when null or missing.
  std::vector<std::string> optional_text_array(const char* key);

  // InvalidParameter for any key that was not read.
  void finish() const;

 private:
  const nlohmann::json* find(const char* key);
  const nlohmann::json& required(const char* key);
  int64_t integer(const char* key, const nlohmann::json& v) const;
  double number(const char* key, const nlohmann::json& v) const;

  const nlohmann::json& options_;
  std::string what_;
  std::set<std::string> read_;
};

}  // namespace insight
