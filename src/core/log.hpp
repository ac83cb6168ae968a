#pragma once

// Logging glue: the project logs through spdlog's default logger, as text (the default) or
// as one JSON object per line (`--log-format json`: time, level, msg, and the fields of
// log::event). Structured lines go through log::event so that both formats carry the
// fields: `msg k=v k=v` in text, members of the object in JSON.

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brigade::log {

inline void setLevel(const char* level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

// From now on every line of the default logger is a JSON object:
// {"time":"2026-12-02T05:01:02.123456Z","level":"info","msg":"...", ...fields}.
void useJsonFormat();
bool jsonFormat();

// A value of a field: a string, or a number written as is.
struct Field {
  std::string_view name;
  std::string value;
  bool quoted = true;
};
inline Field field(std::string_view name, std::string_view value) {
  return {name, std::string(value), true};
}
inline Field field(std::string_view name, long long value) {
  return {name, std::to_string(value), false};
}
Field field(std::string_view name, double value);

// One line with fields (a request's id, route, status, duration; a client's address).
void event(spdlog::level::level_enum level, std::string_view msg, const std::vector<Field>& fields);

// JSON string escaping of `text` (without the quotes), for the formatter and for tests.
void appendEscaped(std::string& out, std::string_view text);

}  // namespace brigade::log
