#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace brigade::app {

// Counts events per key (failed logins, sign-ups, socket connections) in a sliding window;
// thread-safe.
class RateLimiter {
 public:
  RateLimiter(size_t limit, int64_t windowMs) : limit_(limit), windowMs_(windowMs) {}

  // 0 when the key may try again now, else the milliseconds until it may.
  int64_t retryAfterMs(const std::string& key, int64_t nowMs);
  // Counts one event for the key, whatever its count.
  void record(const std::string& key, int64_t nowMs);
  // Counts one event for the key unless its limit is reached: 0 when counted, else the
  // milliseconds until one may be (and nothing is counted). Checking and counting are one
  // step, so two threads cannot both take the last place.
  int64_t acquire(const std::string& key, int64_t nowMs);
  void reset(const std::string& key);
  size_t size();  // keys held (tests)

 private:
  void prune(std::deque<int64_t>& times, int64_t nowMs) const;
  std::deque<int64_t>& timesOf(const std::string& key, int64_t nowMs);  // mutex_ held

  size_t limit_;
  int64_t windowMs_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<int64_t>> events_;
  size_t pruneAt_ = 1024;  // the map's size at which emptied windows are dropped next
};

}  // namespace brigade::app
