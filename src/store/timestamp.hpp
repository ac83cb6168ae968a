#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace brigade::store {

using SystemClock = std::chrono::system_clock;
using WallClock = std::function<SystemClock::time_point()>;

// RFC 3339 UTC with milliseconds, fixed width ("2024-05-01T12:00:00.123Z"), so that
// timestamps compare correctly as strings in SQL. The change triggers produce the same
// shape with strftime('%Y-%m-%dT%H:%M:%fZ').
std::string formatTimestamp(SystemClock::time_point tp);
// The inverse, for that exact shape only; nullopt otherwise.
std::optional<SystemClock::time_point> parseTimestamp(const std::string& text);

}  // namespace brigade::store
