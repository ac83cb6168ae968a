#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "net/loop.hpp"

namespace brigade::net {

// An intrusive hook for FifoTimer: embedded in the object it times, so arming a
// timeout allocates nothing.
struct FifoHook {
  FifoHook* prev = nullptr;
  FifoHook* next = nullptr;
  int64_t deadline = 0;
  bool linked = false;
};

// Timeouts that all have the same duration expire in the order they were armed,
// so a linked list kept in arming order is already sorted by deadline: arming and
// cancelling are O(1), and one system timer per loop serves every connection.
// This replaces a timer object per socket for heartbeats and connect timeouts.
class FifoTimer {
 public:
  using Callback = std::function<void(FifoHook&)>;
  FifoTimer(Loop& loop, int64_t durationMs, Callback onExpire);
  ~FifoTimer();

  void arm(FifoHook& hook);  // (re)arms for now + duration
  void cancel(FifoHook& hook);
  int64_t durationMs() const { return durationMs_; }

 private:
  struct Impl;
  void schedule();
  void fire();

  Loop& loop_;
  int64_t durationMs_;
  Callback onExpire_;
  FifoHook head_;  // sentinel
  std::unique_ptr<Impl> impl_;
  int64_t scheduledFor_ = 0;
};

}  // namespace brigade::net
