#pragma once

#include <chrono>
#include <cstdint>

namespace brigade {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

// Monotonic milliseconds; heartbeats and timeouts are expressed against it.
inline int64_t nowMs() {
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace brigade
