#include "app/backoff.hpp"

#include <algorithm>

namespace brigade::app {

namespace {
// Keys kept at most; past it the forgotten ones are dropped, then all (an attacker
// cycling through keys must not grow memory without bound).
constexpr size_t kMaxKeys = 100000;
}  // namespace

int64_t Backoff::waitAfter(size_t failures) const {
  if (failures < policy_.freeFailures) return 0;
  size_t doublings = std::min<size_t>(failures - policy_.freeFailures, 40);
  int64_t wait = policy_.baseMs;
  for (size_t i = 0; i < doublings && wait < policy_.maxMs; ++i) wait *= 2;
  return std::min(wait, policy_.maxMs);
}

int64_t Backoff::retryAfterMs(const std::string& key, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  if (nowMs - it->second.lastMs >= policy_.forgetMs) {
    entries_.erase(it);
    return 0;
  }
  return std::max<int64_t>(0, it->second.lastMs + waitAfter(it->second.failures) - nowMs);
}

void Backoff::recordFailure(const std::string& key, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= kMaxKeys && !entries_.contains(key)) {
    std::erase_if(entries_,
                  [&](const auto& e) { return nowMs - e.second.lastMs >= policy_.forgetMs; });
    if (entries_.size() >= kMaxKeys) entries_.clear();
  }
  Entry& entry = entries_[key];
  if (entry.failures > 0 && nowMs - entry.lastMs >= policy_.forgetMs) entry.failures = 0;
  ++entry.failures;
  entry.lastMs = nowMs;
}

void Backoff::reset(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

}  // namespace brigade::app
