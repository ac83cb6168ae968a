#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace brigade::app {

// Failed attempts per key with exponential backoff; thread-safe, time passed in
// (tests move it forward). The first `freeFailures` failures cost nothing; after
// that each further attempt must wait twice as long as the one before, from
// `baseMs` up to `maxMs`. A success (reset) forgets the key, and so does a quiet
// spell of `forgetMs` without failures.
class Backoff {
 public:
  struct Policy {
    size_t freeFailures = 5;
    int64_t baseMs = 1000;
    int64_t maxMs = 15 * 60 * 1000;
    int64_t forgetMs = 60 * 60 * 1000;
  };
  explicit Backoff(Policy policy) : policy_(policy) {}

  // 0 when the key may try now, else the milliseconds until it may.
  int64_t retryAfterMs(const std::string& key, int64_t nowMs);
  void recordFailure(const std::string& key, int64_t nowMs);
  void reset(const std::string& key);

 private:
  struct Entry {
    size_t failures = 0;
    int64_t lastMs = 0;
  };
  int64_t waitAfter(size_t failures) const;

  Policy policy_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace brigade::app
