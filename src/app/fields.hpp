#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/api.hpp"

namespace brigade::app {

// One '@' with something either side, no spaces: the rest is the mail server's business.
bool plausibleEmail(const std::string& email);
std::string lowerAscii(std::string text);

// Reads fields of a JSON object with their checks; the first problem is kept
// with the field's full path (e.g. "items[2].quantity") for a 422 answer.
class Fields {
 public:
  Fields(const json::object& object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  std::optional<std::string> text(std::string_view name, bool required, size_t minLength,
                                  size_t maxLength);
  std::optional<int64_t> integer(std::string_view name, bool required, int64_t min, int64_t max);
  std::optional<double> number(std::string_view name, bool required, double min, double max);
  std::optional<bool> boolean(std::string_view name, bool required);
  // A field that is present with the value null.
  bool isNull(std::string_view name) const;
  bool has(std::string_view name) const { return object_.contains(name); }

  const std::optional<ApiError>& error() const { return error_; }
  bool ok() const { return !error_; }
  void fail(std::string_view name, std::string message);
  std::string path(std::string_view name) const;

 private:
  const json::value* find(std::string_view name, bool required);

  const json::object& object_;
  std::string prefix_;
  std::optional<ApiError> error_;
};

}  // namespace brigade::app
