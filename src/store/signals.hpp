#pragma once

#include <functional>
#include <mutex>
#include <string>

namespace brigade::store {

// A signal is a small message for the live layer of every other node sharing the database
// that is not a database change: a rider's position (ephemeral: never worth replaying),
// a revoked token (its revocation is in the database; the signal only makes other nodes
// act at once instead of at their next recheck). Delivery is at most once: a backend
// that loses its link says so through `missed`, and the live layer then checks every
// socket again (docs/STORE.md, "Signals between nodes").
inline constexpr size_t kMaxSignalBytes = 7000;  // PostgreSQL NOTIFY payloads stop at 8000

// Where a backend hands the signals it receives; thread-safe.
class SignalBus {
 public:
  using Handler = std::function<void(const std::string& payload)>;

  void subscribe(Handler on_signal, std::function<void()> on_missed) {
    std::lock_guard lock(mutex_);
    on_signal_ = std::move(on_signal);
    on_missed_ = std::move(on_missed);
  }
  void deliver(const std::string& payload) const {
    std::lock_guard lock(mutex_);
    if (on_signal_) on_signal_(payload);
  }
  void missed() const {
    std::lock_guard lock(mutex_);
    if (on_missed_) on_missed_();
  }

 private:
  mutable std::mutex mutex_;
  Handler on_signal_;
  std::function<void()> on_missed_;
};

}  // namespace brigade::store
