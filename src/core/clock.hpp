#pragma once

#include <atomic>
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

// The application's time source: monotonic milliseconds for windows and intervals,
// and the wall clock for the timestamps the store writes (token expiry, retention).
// Both are the real clocks plus an offset that only advance() moves, and only a
// server started with --test-clock calls it (tests move time instead of sleeping).
// Thread-safe: read from every loop, the store's writer and the hashing workers.
class Clock {
 public:
  int64_t nowMs() const { return brigade::nowMs() + offsetMs_.load(std::memory_order_relaxed); }
  std::chrono::system_clock::time_point wallNow() const {
    return std::chrono::system_clock::now() + Millis(offsetMs_.load(std::memory_order_relaxed));
  }
  int64_t offsetMs() const { return offsetMs_.load(std::memory_order_relaxed); }
  void advance(int64_t ms) { offsetMs_.fetch_add(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> offsetMs_{0};
};

}  // namespace brigade
