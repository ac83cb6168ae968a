#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "app/api.hpp"

namespace brigade::app {

// Who a token (by its hash) belongs to, remembered for a few seconds so that a signed-in
// request does not read the database each time; thread-safe, time passed in (tests move
// it forward). A revocation leaves a tombstone: a lookup that began before it cannot put
// the caller back, however late it answers.
class CallerCache {
 public:
  struct Found {
    bool hit = false;
    std::optional<Caller> caller;  // with hit: nullopt when the token was revoked
  };

  CallerCache(int64_t keepMs, size_t maxEntries) : keepMs_(keepMs), maxEntries_(maxEntries) {}

  Found find(const std::string& hash, int64_t nowMs);
  // The database's answer to a lookup begun at `askedAtMs`, kept for `keepMs` at most (no
  // longer than the token lives).
  void remember(const std::string& hash, Caller caller, int64_t askedAtMs, int64_t keepMs,
                int64_t nowMs);
  void revoke(const std::string& hash, int64_t nowMs);
  size_t size();

 private:
  struct Entry {
    std::optional<Caller> caller;  // nullopt: revoked
    int64_t sinceMs = 0;
    int64_t untilMs = 0;
  };

  const int64_t keepMs_;
  const size_t maxEntries_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace brigade::app
