#include "app/caller_cache.hpp"

#include <algorithm>

namespace brigade::app {

CallerCache::Found CallerCache::find(const std::string& hash, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(hash);
  if (it == entries_.end() || it->second.untilMs <= nowMs) return {};
  return {true, it->second.caller};
}

void CallerCache::remember(const std::string& hash, Caller caller, int64_t askedAtMs,
                           int64_t keepMs, int64_t nowMs) {
  keepMs = std::min(keepMs, keepMs_);
  if (keepMs <= 0) return;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(hash);
  if (it != entries_.end()) {
    const Entry& old = it->second;
    // A revocation still in force, or one recorded after this lookup began, stands.
    if (!old.caller && (old.untilMs > nowMs || old.sinceMs >= askedAtMs)) return;
    // Anything else (an expired entry above all) is replaced: keeping an expired entry
    // would make every later request read the database.
    it->second = Entry{std::move(caller), nowMs, nowMs + keepMs};
    return;
  }
  if (entries_.size() >= maxEntries_) {
    std::erase_if(entries_, [nowMs](const auto& e) { return e.second.untilMs <= nowMs; });
    if (entries_.size() >= maxEntries_) entries_.clear();
  }
  entries_.emplace(hash, Entry{std::move(caller), nowMs, nowMs + keepMs});
}

void CallerCache::revoke(const std::string& hash, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  // As long as a lookup begun before the revocation could still answer.
  entries_[hash] = Entry{std::nullopt, nowMs, nowMs + keepMs_};
}

size_t CallerCache::size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace brigade::app
