#include "app/rate_limiter.hpp"

namespace brigade::app {

// Keys kept at most; past it the oldest-looking entries are dropped wholesale so an
// attacker cycling through addresses cannot grow memory without bound.
constexpr size_t kMaxKeys = 100000;

void RateLimiter::prune(std::deque<int64_t>& times, int64_t nowMs) const {
  while (!times.empty() && times.front() <= nowMs - windowMs_) times.pop_front();
}

int64_t RateLimiter::retryAfterMs(const std::string& key, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  prune(it->second, nowMs);
  if (it->second.size() < limit_) return 0;
  return it->second.front() + windowMs_ - nowMs;
}

void RateLimiter::recordFailure(const std::string& key, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  if (failures_.size() >= kMaxKeys) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      prune(it->second, nowMs);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
    if (failures_.size() >= kMaxKeys) failures_.clear();
  }
  auto& times = failures_[key];
  prune(times, nowMs);
  times.push_back(nowMs);
}

void RateLimiter::reset(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

}  // namespace brigade::app
