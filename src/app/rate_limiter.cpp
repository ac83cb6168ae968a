#include "app/rate_limiter.hpp"

#include <algorithm>

namespace brigade::app {

// Keys kept at most; past it the oldest-looking entries are dropped wholesale so an
// attacker cycling through addresses cannot grow memory without bound.
constexpr size_t kMaxKeys = 100000;
// Keys whose window has emptied are dropped whenever the map has doubled since the
// last pass, so it holds about the keys of one window (a soak showed every user who
// ever connected kept, about 700 bytes each, until kMaxKeys).
constexpr size_t kFirstPrune = 1024;

void RateLimiter::prune(std::deque<int64_t>& times, int64_t nowMs) const {
  while (!times.empty() && times.front() <= nowMs - windowMs_) times.pop_front();
}

int64_t RateLimiter::retryAfterMs(const std::string& key, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto it = events_.find(key);
  if (it == events_.end()) return 0;
  prune(it->second, nowMs);
  if (it->second.size() < limit_) return 0;
  return it->second.front() + windowMs_ - nowMs;
}

std::deque<int64_t>& RateLimiter::timesOf(const std::string& key, int64_t nowMs) {
  if (events_.size() >= std::min(pruneAt_, kMaxKeys)) {
    for (auto it = events_.begin(); it != events_.end();) {
      prune(it->second, nowMs);
      it = it->second.empty() ? events_.erase(it) : std::next(it);
    }
    if (events_.size() >= kMaxKeys) events_.clear();
    pruneAt_ = std::max(kFirstPrune, 2 * events_.size());
  }
  auto& times = events_[key];
  prune(times, nowMs);
  return times;
}

void RateLimiter::record(const std::string& key, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  timesOf(key, nowMs).push_back(nowMs);
}

int64_t RateLimiter::acquire(const std::string& key, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto& times = timesOf(key, nowMs);
  if (times.size() >= limit_) return times.empty() ? windowMs_ : times.front() + windowMs_ - nowMs;
  times.push_back(nowMs);
  return 0;
}

size_t RateLimiter::size() {
  std::lock_guard lock(mutex_);
  return events_.size();
}

void RateLimiter::reset(const std::string& key) {
  std::lock_guard lock(mutex_);
  events_.erase(key);
}

}  // namespace brigade::app
