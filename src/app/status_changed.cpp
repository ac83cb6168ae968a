#include "app/status_changed.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "app/hours.hpp"
#include "app/views.hpp"
#include "core/log.hpp"
#include "store/timestamp.hpp"

namespace brigade::app {

using store::OrderStatus;

namespace {

// The throttle is about the network, not the restaurant's time: it runs on the real clock
// also under --test-clock (whose time stands still between a test's moves).
int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view statusLabel(OrderStatus status, std::string_view language) {
  const bool ko = language == "ko";
  switch (status) {
    case OrderStatus::kPending:
      return ko ? "보류 중" : "New";
    case OrderStatus::kAccepted:
      return ko ? "접수됨" : "Accepted";
    case OrderStatus::kPreparing:
      return ko ? "준비 중" : "Preparing";
    case OrderStatus::kReady:
      return ko ? "준비 완료" : "Ready";
    case OrderStatus::kPickedUp:
      return ko ? "배달 중" : "On the way";
    case OrderStatus::kDelivered:
      return ko ? "배달 완료" : "Delivered";
    case OrderStatus::kRejected:
      return ko ? "거절됨" : "Rejected";
    case OrderStatus::kCancelled:
      return ko ? "취소됨" : "Cancelled";
  }
  return store::toString(status);
}

const std::vector<OrderStatus>& openStatuses() {
  static const std::vector<OrderStatus> open = {OrderStatus::kPending, OrderStatus::kAccepted,
                                                OrderStatus::kPreparing, OrderStatus::kReady,
                                                OrderStatus::kPickedUp};
  return open;
}

std::string statusChangedEvent(const std::vector<store::Order>& orders, std::string_view language) {
  json::array list;
  list.reserve(orders.size());
  for (const auto& order : orders) {
    json::object doc = toJson(order);
    doc["status_code"] = store::toString(order.status);
    doc["status"] = statusLabel(order.status, language);
    list.push_back(std::move(doc));
  }
  return json::serialize(json::array{kStatusChangedEvent, std::move(list)});
}

StatusChanged::StatusChanged(App& app, sio::Server& io) : app_(app), io_(io) {}

StatusChanged::~StatusChanged() {
  stop();
}

void StatusChanged::start() {
  auto& nsp = io_.of("/");
  nsp.countRoom(std::string(kStatusChangedRoom));
  // An admin who connects gets the list as it is (after Live's handler put it in the room);
  // a socket made admin later by a role change gets the next one.
  nsp.onConnection([this](const sio::SocketPtr& socket) {
    const auto& rooms = socket->rooms();
    if (std::find(rooms.begin(), rooms.end(), kStatusChangedRoom) != rooms.end()) request();
  });
  app_.metrics().onScrape([this](Metrics& m) {
    m.setTotal("brigade_status_changed_total", "statusChanged lists sent to the admins", {},
               static_cast<double>(emitted_.load()));
  });
  // From the head on: a snapshot needs no history.
  subscription_ =
      app_.store().subscribe(store::SubscribeOptions{}, [this](const store::StreamEvent& event) {
        if (event.kind == store::StreamEventKind::kChange) onChange(*event.change);
        if (event.kind == store::StreamEventKind::kResync) request(true);
      });
  // A quarter of the interval: the list follows a burst's last change within 1.25 intervals.
  timer_ = io_.runEvery(kStatusChangedIntervalMs / 4, [this] { tick(); });
}

void StatusChanged::stop() {
  timer_.cancel();
  if (subscription_) app_.store().unsubscribe(std::exchange(subscription_, 0));
}

void StatusChanged::onChange(const store::Change& change) {
  if (change.collection == store::kOrders) return request();
  if (change.collection == store::kRestaurant) return request(true);  // language, time zone
}

void StatusChanged::request(bool settingsChanged) {
  bool readSettings = false;
  {
    std::lock_guard lock(mutex_);
    stale_ = true;
    settingsStale_ = settingsStale_ || settingsChanged;
    if (!claim(steadyMs(), readSettings)) return;
  }
  run(readSettings);
}

void StatusChanged::tick() {
  bool readSettings = false;
  {
    std::lock_guard lock(mutex_);
    if (!claim(steadyMs(), readSettings)) return;
  }
  run(readSettings);
}

bool StatusChanged::claim(int64_t nowMs, bool& readSettings) {
  if (running_ || !stale_ || nowMs - lastStartMs_ < kStatusChangedIntervalMs) return false;
  // This pass takes every change marked so far; a change from here on marks the list again.
  running_ = true;
  lastStartMs_ = nowMs;
  stale_ = false;
  readSettings = std::exchange(settingsStale_, false);
  return true;
}

void StatusChanged::run(bool readSettings) {
  if (io_.of("/").roomSize(std::string(kStatusChangedRoom)) == 0) return sent();  // nobody listens
  if (!readSettings) return send(*app_.restaurant().current());
  // The restaurant's change may not have reached the service's copy yet: read it.
  app_.restaurant().read([this](Result<std::shared_ptr<const RestaurantSettings>> settings) {
    if (!settings) return send(*app_.restaurant().current());
    send(**settings);
  });
}

void StatusChanged::send(const RestaurantSettings& settings) {
  store::OrderQuery query;
  query.statuses = openStatuses();
  query.created_from =
      store::formatTimestamp(localDay(settings.zone(), app_.clock().wallNow()).from);
  query.limit = kStatusChangedMaxOrders;
  app_.store().listOrders(
      query, [this, language = settings.language](Result<std::vector<store::Order>> orders) {
        if (!orders) {
          // The database could not answer: the list stays stale and the timer tries again.
          std::lock_guard lock(mutex_);
          if (!failing_) {
            spdlog::warn("statusChanged: cannot read the open orders: {}", orders.error().message);
          }
          failing_ = true;
          stale_ = true;
        } else {
          {
            std::lock_guard lock(mutex_);
            failing_ = false;
          }
          io_.to(std::string(kStatusChangedRoom)).emitRaw(statusChangedEvent(*orders, language));
          ++emitted_;
        }
        sent();
      });
}

void StatusChanged::sent() {
  std::lock_guard lock(mutex_);
  running_ = false;
}

}  // namespace brigade::app
