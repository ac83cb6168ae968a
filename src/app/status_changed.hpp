#pragma once

// `statusChanged`: the event of the MERN tutorial Brigade grew out of, for the clients written
// for it (docs/FROM-THE-TUTORIAL.md). After order changes, admin sockets (only they: the
// payload holds every customer's orders; not those that connected with
// auth.statusChanged = false, as the panels do) receive the restaurant's open orders of its local
// day, each the REST order document with `status` replaced by its label in the restaurant's
// language and the machine value in `status_code`.
//
// Coalesced: a change marks the list stale; it is read from the database and sent at most
// once per kStatusChangedIntervalMs, always once more after the last change (the reader sees
// every commit the stream announced). The list is read once and encoded once for all admins,
// and not at all while no such admin is connected. It carries no offset: it is a snapshot, never
// replayed; a reconnecting admin gets the current one.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "app/app.hpp"
#include "app/live.hpp"
#include "protocol/socketio/server.hpp"
#include "store/store.hpp"

namespace brigade::app {

inline constexpr std::string_view kStatusChangedEvent = "statusChanged";
// At most one statusChanged per this interval (to every admin socket alike).
inline constexpr int64_t kStatusChangedIntervalMs = 100;
// The open orders one statusChanged carries at most: the newest. A restaurant has far fewer
// open at once; the bound keeps each event no costlier than this many order:changed.
inline constexpr int64_t kStatusChangedMaxOrders = 200;

// The label of a status in a restaurant language ("en" or "ko"; English for any other).
std::string_view statusLabel(store::OrderStatus status, std::string_view language);
// The statuses an order is open in: pending through picked_up.
const std::vector<store::OrderStatus>& openStatuses();
// The event ["statusChanged", [...]] for open orders, labelled in `language`.
std::string statusChangedEvent(const std::vector<store::Order>& orders, std::string_view language);

class StatusChanged {
 public:
  StatusChanged(App& app, sio::Server& io);
  ~StatusChanged();

  // Before the loops start: counts the admins' room, subscribes to the change stream and to
  // admins connecting, starts the timer.
  void start();
  void stop();

 private:
  void onChange(const store::Change& change);
  // Marks the list stale; sends it now if the interval allows, else the timer will.
  void request(bool settingsChanged = false);
  void tick();
  // Under mutex_: whether a pass may start now (the list is stale, none is running, the
  // interval has passed); if so the pass is marked running and takes the stale marks.
  bool claim(int64_t nowMs, bool& readSettings);
  void run(bool readSettings);
  void send(const RestaurantSettings& settings);
  void sent();

  App& app_;
  sio::Server& io_;
  store::SubscriptionId subscription_ = 0;
  sio::Periodic timer_;
  std::mutex mutex_;
  bool stale_ = false;
  bool settingsStale_ = false;  // the language may have changed: read the settings first
  bool running_ = false;
  bool failing_ = false;  // the last read failed (said once in the log)
  int64_t lastStartMs_ = INT64_MIN / 2;
  std::atomic<uint64_t> emitted_{0};
};

}  // namespace brigade::app
