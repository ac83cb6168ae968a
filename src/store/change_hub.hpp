#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "store/change.hpp"

namespace brigade::store {

// The first retained seq and the newest seq ever assigned. With nothing retained, oldest is
// head + 1 (so "after head" is still a valid place to resume).
struct StreamBounds {
  int64_t oldest = 1;
  int64_t head = 0;
};

// What a backend gives the hub: reads on a connection owned by the hub thread alone.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  virtual Result<std::vector<ChangePtr>> fetch(int64_t after_seq, size_t limit) = 0;
  virtual Result<StreamBounds> bounds() = 0;
  // Cheap check run every poll interval: may another connection or process have committed
  // since the last call? (SQLite: PRAGMA data_version.)
  virtual bool maybeChanged() = 0;
  // Whether maybeChanged() must run also when the thread was woken to read anyway (a
  // commit here, a notification): SQLite's check is a local call that keeps its baseline;
  // a check that costs a round trip is skipped then, its baseline set by caughtUp().
  virtual bool checkWhenWoken() const { return true; }
  // The stream's position after a read: what the next maybeChanged() compares against.
  virtual void caughtUp(int64_t /*head*/) {}
  // Whether the last call reached the database (a source that cannot lose it: always).
  virtual bool reachable() const { return true; }
  // The database's epoch when it differs from the one last known (read after a reconnect:
  // the database was restored or replaced); nullopt otherwise.
  virtual std::optional<std::string> epochChange() { return std::nullopt; }
};

// Backend-neutral subscribe/replay/live delivery. One thread owns the stream position
// (`head_`): live delivery and replays both run on it, so a subscriber switches from
// replay to live at exactly the seq the live pump has reached: no gap, no duplicate,
// whatever the writers do meanwhile.
class ChangeHub {
 public:
  static constexpr size_t kFetchChunk = 500;  // changes read per query (replay and live)

  ChangeHub(std::unique_ptr<ChangeSource> source, std::string epoch,
            std::chrono::milliseconds poll_interval);
  ~ChangeHub();
  ChangeHub(const ChangeHub&) = delete;
  ChangeHub& operator=(const ChangeHub&) = delete;

  // Ends the stream thread (idempotent); no callback runs after it returns.
  void stop();

  // A commit by this process: pump at once instead of waiting for the next poll.
  void notify();

  SubscriptionId subscribe(SubscribeOptions options, StreamCallback callback);
  // After this returns, the callback is not running and will not be called again (when
  // called from inside the callback itself, no further call follows it).
  void unsubscribe(SubscriptionId id);

  int64_t head() const { return head_.load(); }
  bool reachable() const { return source_->reachable(); }
  std::string epoch() const {
    std::lock_guard lock(epoch_mutex_);
    return epoch_;
  }

 private:
  struct Subscription {
    SubscriptionId id = 0;
    SubscribeOptions options;
    StreamCallback callback;
    std::atomic<bool> active{true};
  };
  using SubPtr = std::shared_ptr<Subscription>;

  void run();
  void pump();  // delivery_mutex_ held
  void admit(const SubPtr& sub);
  void replay(const SubPtr& sub, int64_t after_seq);
  void deliver(const SubPtr& sub, const StreamEvent& event);
  void ready(const SubPtr& sub);
  void resync(const SubPtr& sub, std::string_view reason);
  // Another database behind the same URL: everyone resyncs, the stream restarts at its head.
  void switchEpoch(std::string epoch);

  std::unique_ptr<ChangeSource> source_;
  mutable std::mutex epoch_mutex_;
  std::string epoch_;  // written by the hub thread only (switchEpoch)
  const std::chrono::milliseconds poll_interval_;
  std::atomic<int64_t> head_{0};

  std::mutex mutex_;  // guards the fields below
  std::condition_variable cv_;
  bool stop_ = false;
  bool notified_ = false;
  SubscriptionId next_id_ = 1;
  std::vector<SubPtr> pending_;
  std::map<SubscriptionId, SubPtr> live_;
  std::map<SubscriptionId, SubPtr> all_;  // pending, replaying and live

  std::mutex delivery_mutex_;  // held by the hub thread while it runs callbacks
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace brigade::store
