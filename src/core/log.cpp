#include "core/log.hpp"

#include <spdlog/formatter.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace brigade::log {
namespace {

std::atomic<bool> json{false};

// Set by event() around its spdlog call (the default logger's sinks format on the calling
// thread): the payload's first `eventMsgLength` bytes are the message, the rest are the
// fields already written as members (,"k":v). Never taken from the text itself, so a logged
// value cannot forge fields.
thread_local size_t eventMsgLength = std::string_view::npos;

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"";
    const auto since = msg.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since - seconds);
    const std::time_t t = seconds.count();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[80];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros.count()));
    line += when;
    line += "\",\"level\":\"";
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"msg\":\"";
    std::string_view payload(msg.payload.data(), msg.payload.size());
    const size_t split = std::min(eventMsgLength, payload.size());
    appendEscaped(line, payload.substr(0, split));
    line += '"';
    line.append(payload.substr(split));  // event()'s fields: ,"k":v...
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void useJsonFormat() {
  json = true;
  spdlog::set_formatter(std::make_unique<JsonFormatter>());
}

bool jsonFormat() {
  return json.load();
}

Field field(std::string_view name, double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return {name, text, false};
}

void appendEscaped(std::string& out, std::string_view text) {
  static const char* hex = "0123456789abcdef";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;  // UTF-8 passes through
    }
  }
}

void event(spdlog::level::level_enum level, std::string_view msg,
           const std::vector<Field>& fields) {
  if (!spdlog::should_log(level)) return;
  std::string line(msg);
  if (json) {
    for (const auto& f : fields) {
      line += ",\"";
      appendEscaped(line, f.name);
      line += "\":";
      if (f.quoted) {
        line += '"';
        appendEscaped(line, f.value);
        line += '"';
      } else {
        line += f.value;
      }
    }
  } else {
    for (const auto& f : fields) {
      line += ' ';
      line.append(f.name);
      line += '=';
      line += f.value;
    }
  }
  if (json) eventMsgLength = msg.size();
  spdlog::log(level, "{}", line);
  eventMsgLength = std::string_view::npos;
}

}  // namespace brigade::log
