#pragma once

// Live events: the change stream fanned out to Socket.IO rooms by role, with
// authorised, gap-free recovery (../shared/docs/PRODUCT.md, "Real-time channel").

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "app/app.hpp"
#include "app/rate_limiter.hpp"
#include "protocol/socketio/server.hpp"
#include "store/store.hpp"

namespace brigade::app {

// The room every admin socket is in (and only they).
inline constexpr std::string_view kAdminsRoom = "admins";
// The admin sockets that receive the tutorial's statusChanged (app/status_changed.hpp):
// all of them, but those that connected with auth.statusChanged = false (the panels,
// which follow the stream events instead).
inline constexpr std::string_view kStatusChangedRoom = "admins:statusChanged";

// Riders may have a location relayed at most once per this interval.
inline constexpr int64_t kLocationIntervalMs = 1000;
// How long the private id of a dropped connection stays valid for the stock
// client's connection state recovery.
inline constexpr int64_t kRecoveryWindowMs = 2 * 60 * 1000;
// Private ids remembered at most. Past it (every one still within its window) a new
// one is not remembered: that client recovers with its offset instead.
inline constexpr size_t kMaxRememberedPids = 100000;
inline constexpr size_t kPidsFirstPrune = 1024;

// How often every connected socket's token and user are checked again, so that a
// token that expired or was revoked elsewhere, a deleted user or a changed role
// (also when another program wrote the database) takes effect on live connections.
inline constexpr int64_t kSocketRecheckMs = 30000;

// A replay that would send more events than this sends resync {reason: too_far_behind}
// instead: reloading over REST costs the server less than thousands of events, and the
// replay's reads stop there, so one connection's work is bounded.
inline constexpr size_t kMaxReplayEvents = 5000;
inline constexpr std::string_view kResyncTooFarBehind = "too_far_behind";

// Socket.IO connections one user may open per minute; more are refused with
// CONNECT_ERROR "rate_limited" before any replay work (a looping client cannot make the
// server replay over and over).
inline constexpr size_t kDefaultConnectsPerMinute = 30;
inline constexpr int64_t kConnectWindowMs = 60000;

struct LiveOptions {
  int64_t recheckMs = kSocketRecheckMs;
  size_t maxReplayEvents = kMaxReplayEvents;
  size_t connectsPerMinute = kDefaultConnectsPerMinute;
};

class Live {
 public:
  Live(App& app, sio::Server& io, LiveOptions options = {});
  ~Live();

  // Installs the middleware and handlers and subscribes to the change stream.
  void start();
  void stop();
  // Runs the periodic work that is due by the app's clock now (the sockets' recheck),
  // then `done`, once that work has finished. For a test clock that was just moved
  // forward: the same work would otherwise wait for its real-time timer.
  void runDue(std::function<void()> done);

  // The event an API client receives for a change: ["name", payload, "<seq>"].
  // As a socket of `viewer`'s role may see it (a rider never sees the delivery code).
  static std::string orderEvent(const store::Change& change,
                                store::Role viewer = store::Role::kAdmin);
  static std::string menuEvent(const store::Change& change);
  static std::string alertEvent(const store::Change& change);
  std::string restaurantEvent(const store::Change& change) const;

 private:
  struct Replay;
  void authorize(sio::Socket& socket, sio::Next next);
  void onConnection(const sio::SocketPtr& socket);
  void onChange(const store::ChangePtr& change);
  void onLocation(sio::Event& event);
  // Sends a rider's position to the admins and to the customers whose order the rider is
  // carrying; `done` gets how many orders (nullopt: the read failed).
  void relayLocation(int64_t riderId, const store::Location& at,
                     std::function<void(std::optional<size_t>)> done);
  // Signals from other nodes (app/signals.hpp): a rider's position, a revoked token.
  void onLocationSignal(const boost::json::object& signal);
  void onRevokedSignal(const boost::json::object& signal);
  // Runs fn once every change up to `seq` has been handed to the sockets' loops, so
  // that a release posted by fn comes after those broadcasts (no duplicate).
  void whenDispatched(int64_t seq, std::function<void()> fn);
  void dispatched(int64_t seq);
  // Its part of /metrics: sockets, sessions by transport, disconnects, what was sent, the
  // change stream's lag and the replays.
  void scrape(Metrics& m);
  void rememberPid(const std::string& pid, int64_t userId);
  // Checks every socket's token and user again; `done` runs once all are applied.
  void recheck(std::function<void()> done);
  bool pidBelongsTo(const std::string& pid, int64_t userId);

  App& app_;
  sio::Server& io_;
  store::Store& store_;
  store::SubscriptionId subscription_ = 0;
  LiveOptions options_;
  RateLimiter connects_;   // per user id
  sio::Periodic recheck_;  // cancelled by stop(): no recheck runs into a stopped Live
  std::atomic<int64_t> nextRecheckMs_{0};  // by the app's clock
  std::mutex mutex_;
  std::unordered_map<int64_t, int64_t> lastLocationMs_;                // rider id → time relayed
  std::unordered_map<std::string, std::pair<int64_t, int64_t>> pids_;  // pid → (user, expiry)
  size_t pidsPruneAt_ = kPidsFirstPrune;
  std::mutex dispatchMutex_;
  int64_t dispatched_ = 0;  // every change up to here was broadcast (or predates the subscription)
  std::vector<std::pair<int64_t, std::function<void()>>> waiting_;  // seq → release
  std::atomic<uint64_t> replays_{0};
  std::atomic<uint64_t> replayedEvents_{0};
};

}  // namespace brigade::app
