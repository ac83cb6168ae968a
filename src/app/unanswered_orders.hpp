#pragma once

// The safety net for orders nobody answers: the server (not a browser tab) rejects an order
// still pending after the restaurant's auto_reject_after_s, with the reason not_answered,
// and pauses ordering when pause_on_auto_reject says so. It also ends a pause whose
// paused_until has passed, so that every panel hears ordering resume.
//
// Exactly once, on one node or many, across restarts: the work is found in the database
// (pending orders older than the limit), and each rejection is a compare-and-set on the
// order's version that also requires it to be pending still; a node that loses the race,
// or a person who accepted the order meanwhile, wins and nothing else happens.

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

#include "app/app.hpp"
#include "protocol/socketio/server.hpp"

namespace brigade::app {

inline constexpr int64_t kUnansweredSweepMs = 1000;  // how often pending orders are looked at
inline constexpr int64_t kUnansweredBatch = 100;     // orders rejected per pass at most

class UnansweredOrders {
 public:
  UnansweredOrders(App& app, sio::Server& io);
  ~UnansweredOrders();

  void start();
  void stop();
  // One pass now; `done` runs once its writes are answered. For a test clock that was just
  // moved forward. A pass already running is followed by another.
  void sweep(std::function<void()> done);

 private:
  void run();
  void finish();
  void rejectDue(const RestaurantSettings& settings, std::function<void(size_t rejected)> done);
  void resumeExpiredPause(const RestaurantSettings& settings, std::function<void()> done);

  App& app_;
  sio::Server& io_;
  sio::Periodic timer_;
  std::mutex mutex_;
  bool running_ = false;
  bool again_ = false;
  std::vector<std::function<void()>> waiting_;  // run when the current pass ends
  std::atomic<uint64_t> rejected_{0};
};

}  // namespace brigade::app
