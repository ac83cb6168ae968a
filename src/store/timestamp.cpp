#include "store/timestamp.hpp"

#include <cstdio>
#include <ctime>

namespace brigade::store {

std::string formatTimestamp(SystemClock::time_point tp) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch());
  auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  const int millis = static_cast<int>((ms - secs).count());
  const std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::optional<SystemClock::time_point> parseTimestamp(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  char z = 0;
  if (text.size() != 24 ||
      std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &z) != 8 ||
      z != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return SystemClock::time_point(std::chrono::seconds(timegm(&tm))) +
         std::chrono::milliseconds(millis);
}

}  // namespace brigade::store
