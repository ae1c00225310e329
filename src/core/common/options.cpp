#include "core/common/options.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "core/common/error.hpp"

namespace insight {

namespace {

// The DETAIL of a mistyped option: the value given, as JSON, echoed at most kEchoChars long.
std::string got(const nlohmann::json& v) {
  return "got " + echo(v.dump(), false);
}

}  // namespace

OptionReader::OptionReader(const nlohmann::json& options, std::string what)
    : options_(options), what_(std::move(what)) {
  if (!options_.is_object()) throw InvalidParameter(what_ + " must be a JSON object");
}

const nlohmann::json* OptionReader::find(const char* key) {
  read_.insert(key);
  const auto it = options_.find(key);
  if (it == options_.end() || it->is_null()) return nullptr;
  return &*it;
}

const nlohmann::json& OptionReader::required(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) throw InvalidParameter(std::string(key) + " must not be NULL");
  return *v;
}

int64_t OptionReader::integer(const char* key, const nlohmann::json& v) const {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v.get<uint64_t>());
  throw InvalidParameter(std::string(key) + " must be an integer", got(v));
}

double OptionReader::number(const char* key, const nlohmann::json& v) const {
  if (v.is_number()) return v.get<double>();
  // to_jsonb() of a float8 NaN or infinity is a string: the value as SQL passed it, for the
  // option's own range check to reject with its usual message.
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  throw InvalidParameter(std::string(key) + " must be a number", got(v));
}

std::string OptionReader::text(const char* key) {
  const nlohmann::json& v = required(key);
  if (!v.is_string()) throw InvalidParameter(std::string(key) + " must be text", got(v));
  return v.get<std::string>();
}

std::string OptionReader::text(const char* key, const std::string& missing) {
  return options_.contains(key) ? text(key) : (read_.insert(key), missing);
}

int32_t OptionReader::int4(const char* key) {
  const int64_t v = integer(key, required(key));
  if (v < INT32_MIN || v > INT32_MAX)
    throw InvalidParameter(std::string(key) + " is out of range for an integer",
                           "got " + std::to_string(v));
  return static_cast<int32_t>(v);
}

int32_t OptionReader::int4(const char* key, int32_t missing) {
  return options_.contains(key) ? int4(key) : (read_.insert(key), missing);
}

double OptionReader::float8(const char* key) { return number(key, required(key)); }

double OptionReader::float8(const char* key, double missing) {
  return options_.contains(key) ? float8(key) : (read_.insert(key), missing);
}

std::optional<std::string> OptionReader::optional_text(const char* key) {
  if (find(key) == nullptr) return std::nullopt;
  return text(key);
}

std::optional<int32_t> OptionReader::optional_int4(const char* key) {
  if (find(key) == nullptr) return std::nullopt;
  return int4(key);
}

bool OptionReader::boolean(const char* key, bool when_null) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return when_null;
  if (!v->is_boolean())
    throw InvalidParameter(std::string(key) + " must be true or false", got(*v));
  return v->get<bool>();
}

uint32_t OptionReader::seed(const char* key, uint32_t missing) {
  if (!options_.contains(key)) {
    read_.insert(key);
    return missing;
  }
  const int64_t v = integer(key, required(key));
  if (v < INT32_MIN || v > static_cast<int64_t>(UINT32_MAX))
    throw InvalidParameter(std::string(key) + " is out of range for a seed",
                           "got " + std::to_string(v));
  return static_cast<uint32_t>(v);
}

std::vector<std::string> OptionReader::text_array(const char* key) {
  const nlohmann::json& v = required(key);
  if (!v.is_array())
    throw InvalidParameter(std::string(key) + " must be an array of text", got(v));
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (e.is_null()) throw InvalidParameter(std::string(key) + " must not contain NULL");
    if (!e.is_string())
      throw InvalidParameter(std::string(key) + " must be an array of text", got(v));
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<std::string> OptionReader::optional_text_array(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr || v->is_null()) return {};
  return text_array(key);
}

void OptionReader::finish() const {
  for (auto it = options_.begin(); it != options_.end(); ++it) {
    if (read_.count(it.key()) != 0) continue;
    std::string known;
    for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
    throw InvalidParameter("unknown option " + echo(it.key()) + " in the " + what_,
                           "The options are: " + known + ".");
  }
}

}  // namespace insight
