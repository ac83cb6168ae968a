#include "app/fields.hpp"

#include <cctype>
#include <cmath>

#include "core/utf8.hpp"

namespace brigade::app {

bool plausibleEmail(const std::string& email) {
  size_t at = email.find('@');
  return at != std::string::npos && at > 0 && at + 1 < email.size() &&
         email.find('@', at + 1) == std::string::npos &&
         email.find_first_of(" \t\r\n") == std::string::npos;
}

std::string lowerAscii(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Fields::path(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

void Fields::fail(std::string_view name, std::string message) {
  if (!error_) error_ = invalid(path(name), std::move(message));
}

const json::value* Fields::find(std::string_view name, bool required) {
  if (error_) return nullptr;
  auto* value = object_.if_contains(name);
  if (!value || value->is_null()) {
    if (required) fail(name, "is required");
    return nullptr;
  }
  return value;
}

bool Fields::isNull(std::string_view name) const {
  auto* value = object_.if_contains(name);
  return value && value->is_null();
}

std::optional<std::string> Fields::text(std::string_view name, bool required, size_t minLength,
                                        size_t maxLength) {
  const json::value* value = find(name, required);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    fail(name, "must be a string");
    return std::nullopt;
  }
  std::string s(value->get_string());
  // Surrounding whitespace is not part of a name or an address.
  size_t begin = s.find_first_not_of(" \t\r\n");
  size_t end = s.find_last_not_of(" \t\r\n");
  s = begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
  if (s.size() < minLength) {
    fail(name, minLength == 1 ? "must not be empty"
                              : "must be at least " + std::to_string(minLength) + " characters");
    return std::nullopt;
  }
  if (s.size() > maxLength) {
    fail(name, "must be at most " + std::to_string(maxLength) + " bytes");
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> Fields::integer(std::string_view name, bool required, int64_t min,
                                       int64_t max) {
  const json::value* value = find(name, required);
  if (!value) return std::nullopt;
  int64_t n = 0;
  if (value->is_int64()) {
    n = value->get_int64();
  } else if (value->is_uint64()) {
    fail(name, "is out of range");
    return std::nullopt;
  } else if (value->is_double() && std::trunc(value->get_double()) == value->get_double() &&
             std::abs(value->get_double()) < 9e15) {
    n = static_cast<int64_t>(value->get_double());
  } else {
    fail(name, "must be an integer");
    return std::nullopt;
  }
  if (n < min || n > max) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<double> Fields::number(std::string_view name, bool required, double min, double max) {
  const json::value* value = find(name, required);
  if (!value) return std::nullopt;
  if (!value->is_number()) {
    fail(name, "must be a number");
    return std::nullopt;
  }
  double d = value->to_number<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return d;
}

std::optional<bool> Fields::boolean(std::string_view name, bool required) {
  const json::value* value = find(name, required);
  if (!value) return std::nullopt;
  if (!value->is_bool()) {
    fail(name, "must be true or false");
    return std::nullopt;
  }
  return value->get_bool();
}

}  // namespace brigade::app
