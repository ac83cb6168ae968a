#include "app/live.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

#include "app/delivery_code.hpp"
#include "app/views.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "store/errors.hpp"
#include "store/timestamp.hpp"

namespace brigade::app {

using store::Role;

namespace {

// Runs fn when the last copy of its shared_ptr is gone: after every task that holds
// one has run, or was dropped unrun.
struct WhenAllDone {
  explicit WhenAllDone(std::function<void()> f) : fn(std::move(f)) {}
  ~WhenAllDone() {
    if (fn) fn();
  }
  std::function<void()> fn;
};

std::string roomOf(const Caller& caller) {
  switch (caller.role) {
    case Role::kAdmin:
      return std::string(kAdminsRoom);
    case Role::kCustomer:
      return "customer:" + std::to_string(caller.id);
    case Role::kRider:
      return "rider:" + std::to_string(caller.id);
  }
  return "nobody";
}

// The rooms of a socket's role: an admin's statusChanged room unless its handshake said
// auth.statusChanged = false.
std::vector<std::string> roleRooms(const Caller& caller, const sio::Socket& socket) {
  std::vector<std::string> rooms{roomOf(caller)};
  if (caller.role != Role::kAdmin) return rooms;
  const auto& auth = socket.handshake().auth;
  const json::value* listens =
      auth.is_object() ? auth.get_object().if_contains("statusChanged") : nullptr;
  if (!listens || !listens->is_bool() || listens->get_bool()) {
    rooms.emplace_back(kStatusChangedRoom);
  }
  return rooms;
}

std::optional<int64_t> docId(const json::object& doc, std::string_view key) {
  auto* v = doc.if_contains(key);
  if (!v || !v->is_int64()) return std::nullopt;
  return v->get_int64();
}

// Offsets: "S" follows the event of change S; "S.1" follows everything of change S,
// its alert included (an order insert gives admins two events with one seq).
std::string withOffset(json::object payload, int64_t seq, std::string_view name,
                       bool complete = false) {
  json::array event{name, std::move(payload), std::to_string(seq) + (complete ? ".1" : "")};
  return json::serialize(event);
}

// A client's offset: a seq (number or "S": its alert, if any, may not have been seen)
// or "S.1" (all of S seen).
struct Offset {
  int64_t seq = 0;
  bool complete = false;
};

std::optional<Offset> parseOffset(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_int64() && v->get_int64() >= 0) return Offset{v->get_int64(), false};
  if (v->is_string()) {
    std::string_view s = v->get_string();
    bool complete = s.ends_with(".1");
    if (complete) s.remove_suffix(2);
    int64_t seq = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seq);
    if (ec == std::errc() && end == s.data() + s.size() && seq >= 0) return Offset{seq, complete};
  }
  return std::nullopt;
}

json::object failure(std::string_view code, std::string_view message) {
  return {{"ok", false}, {"error", json::object{{"code", code}, {"message", message}}}};
}

}  // namespace

std::string Live::orderEvent(const store::Change& c, Role viewer) {
  json::object order = c.document;
  if (viewer == Role::kRider) hideFromRider(order);
  return withOffset({{"seq", c.seq}, {"op", store::toString(c.op)}, {"order", std::move(order)}},
                    c.seq, "order:changed");
}

std::string Live::menuEvent(const store::Change& c) {
  const char* key = c.collection == store::kMenuItems ? "item" : "category";
  return withOffset({{"seq", c.seq}, {"op", store::toString(c.op)}, {key, c.document}}, c.seq,
                    "menu:changed");
}

std::string Live::restaurantEvent(const store::Change& c) const {
  // The REST document, with where ordering stands now (open, paused) as this node sees it.
  return withOffset({{"seq", c.seq},
                     {"op", store::toString(c.op)},
                     {"restaurant", app_.restaurant().viewOf(c.document)}},
                    c.seq, "restaurant:changed");
}

std::string Live::alertEvent(const store::Change& c) {
  return withOffset({{"kind", "order:new"},
                     {"order_id", c.record_id},
                     {"message", "New order #" + std::to_string(c.record_id)}},
                    c.seq, "alert", true);
}

Live::Live(App& app, sio::Server& io, LiveOptions options)
    : app_(app),
      io_(io),
      store_(app.store()),
      options_(options),
      connects_(options.connectsPerMinute, kConnectWindowMs) {}

Live::~Live() {
  stop();
}

void Live::start() {
  auto& nsp = io_.of("/");
  nsp.use([this](sio::Socket& socket, sio::Next next) { authorize(socket, std::move(next)); });
  nsp.onConnection([this](const sio::SocketPtr& socket) { onConnection(socket); });
  app_.onTokenRevoked([this](const std::string& hash) {
    io_.to("token:" + hash).disconnectSockets();
    app_.signals().publish(json::object{{"kind", "token_revoked"}, {"hash", hash}});
  });
  // Other nodes' riders and logouts (several nodes on one database); after a lost link,
  // every socket is checked again for the revocations we may have missed.
  app_.signals().on("location", [this](const json::object& s) { onLocationSignal(s); });
  app_.signals().on("token_revoked", [this](const json::object& s) { onRevokedSignal(s); });
  app_.signals().onMissed("live", [this] { recheck([] {}); });
  app_.metrics().onScrape([this](Metrics& m) { scrape(m); });
  nextRecheckMs_ = app_.clock().nowMs() + options_.recheckMs;
  recheck_ = io_.runEvery(options_.recheckMs, [this] {
    // The clock may have been moved forward meanwhile (--test-clock) and the recheck
    // run by runDue(): then this tick is early and the next one runs it.
    int64_t next = nextRecheckMs_.load();
    int64_t now = app_.clock().nowMs();
    if (now >= next && nextRecheckMs_.compare_exchange_strong(next, now + options_.recheckMs)) {
      recheck(nullptr);
    }
  });
  store::SubscribeOptions live;  // from the head on: replays are per socket
  subscription_ = store_.subscribe(live, [this](const store::StreamEvent& event) {
    if (event.kind == store::StreamEventKind::kChange) {
      onChange(event.change);
      dispatched(event.change->seq);
    } else if (event.kind == store::StreamEventKind::kReady) {
      dispatched(event.last_seq);  // changes up to the head at admission are never broadcast
    } else if (event.kind == store::StreamEventKind::kResync) {
      // The stream itself was reset (another database): every panel reloads.
      json::array resync{"resync", json::object{{"reason", event.reason}}};
      sio::BroadcastOperator(io_.of("/")).emitRaw(json::serialize(resync));
    }
  });
}

void Live::stop() {
  // Each returns once its handler is no longer running.
  app_.signals().on("location", nullptr);
  app_.signals().on("token_revoked", nullptr);
  app_.signals().onMissed("live", nullptr);
  recheck_.cancel();
  if (subscription_) store_.unsubscribe(std::exchange(subscription_, 0));
}

void Live::runDue(std::function<void()> done) {
  int64_t next = nextRecheckMs_.load();
  int64_t now = app_.clock().nowMs();
  if (now >= next && nextRecheckMs_.compare_exchange_strong(next, now + options_.recheckMs)) {
    return recheck(std::move(done));
  }
  if (done) done();
}

void Live::recheck(std::function<void()> done) {
  auto all = std::make_shared<WhenAllDone>(std::move(done));
  io_.of("/").forEachSocket([this, all](sio::Socket& socket) {
    const Caller was = std::any_cast<Caller>(socket.data);
    std::weak_ptr<sio::Socket> weak = socket.shared_from_this();
    app_.authenticate(was.tokenHash, [weak, was, all](Result<Caller> now) {
      auto s = weak.lock();
      if (!s) return;
      // The database could not say (unreachable): the socket stays as it is until a
      // recheck that can.
      if (!now && now.error().code != kUnauthorizedCode) return;
      s->post([was, now, all](sio::Socket& socket) {
        if (!now) {
          socket.disconnect();  // token expired or revoked, or the user is gone
          return;
        }
        if (now->role != was.role || now->id != was.id) {
          for (const auto& room : roleRooms(was, socket)) socket.leave(room);
          for (const auto& room : roleRooms(*now, socket)) socket.join(room);
        }
        socket.data = *now;
      });
    });
  });
}

void Live::onChange(const store::ChangePtr& change) {
  const auto& c = *change;
  auto tag = static_cast<uint64_t>(c.seq);
  if (c.collection == store::kOrders) {
    auto broadcast = io_.to(std::string(kAdminsRoom));
    if (auto customer = docId(c.document, "customer_id")) {
      broadcast = broadcast.to("customer:" + std::to_string(*customer));
    }
    // Riders get the document without the delivery code (app/delivery_code.hpp).
    std::optional<sio::BroadcastOperator> riders;
    auto toRider = [&](int64_t id) {
      std::string room = "rider:" + std::to_string(id);
      riders = riders ? riders->to(std::move(room)) : io_.to(std::move(room));
    };
    if (auto rider = docId(c.document, "rider_id")) toRider(*rider);
    if (c.previous_rider_id) toRider(*c.previous_rider_id);
    broadcast.emitRaw(orderEvent(c), tag);
    if (riders) riders->emitRaw(orderEvent(c, Role::kRider), tag);
    if (c.op == store::ChangeOp::kInsert)
      io_.to(std::string(kAdminsRoom)).emitRaw(alertEvent(c), tag);
    return;
  }
  sio::BroadcastOperator everyone(io_.of("/"));
  everyone.emitRaw(c.collection == store::kRestaurant ? restaurantEvent(c) : menuEvent(c), tag);
}

void Live::scrape(Metrics& m) {
  auto& nsp = io_.of("/");
  m.setGauge("brigade_sockets", "Socket.IO sockets connected, by namespace",
             {{"namespace", nsp.name()}}, static_cast<double>(nsp.socketCount()));
  const auto engine = io_.engine().stats();
  m.setGauge("brigade_connections", "Engine.IO sessions open, by transport",
             {{"transport", "polling"}}, static_cast<double>(engine.polling));
  m.setGauge("brigade_connections", "Engine.IO sessions open, by transport",
             {{"transport", "websocket"}}, static_cast<double>(engine.websocket));
  for (size_t i = 0; i < eio::kDisconnectReasons; ++i) {
    const auto why = static_cast<eio::DisconnectReason>(i);
    if (engine.closes[i] == 0) continue;
    m.setTotal("brigade_disconnects_total", "Engine.IO sessions ended, by reason",
               {{"reason", std::string(eio::toString(why))}},
               static_cast<double>(engine.closes[i]));
  }
  m.setTotal("brigade_slow_consumer_disconnects_total",
             "Sessions closed because the client did not read (send queue over its limit)", {},
             static_cast<double>(
                 engine.closes[static_cast<size_t>(eio::DisconnectReason::kSendQueueOverflow)]));
  const auto sent = nsp.sent();
  m.setTotal("brigade_broadcasts_total", "Broadcasts (one event to the sockets of rooms)", {},
             static_cast<double>(sent.broadcasts));
  m.setTotal("brigade_messages_delivered_total",
             "Events handed to sockets (a broadcast to 100 sockets is 100)", {},
             static_cast<double>(sent.delivered));
  for (const auto& [event, count] : sent.events) {
    m.setTotal("brigade_events_emitted_total", "Events sent, broadcast or to one socket, by name",
               {{"event", event}}, static_cast<double>(count));
  }
  int64_t dispatched = 0;
  {
    std::lock_guard lock(dispatchMutex_);
    dispatched = dispatched_;
  }
  m.setGauge("brigade_change_stream_lag",
             "Changes in the database not yet broadcast by this node (head seq - dispatched seq)",
             {}, static_cast<double>(std::max<int64_t>(0, store_.headSeq() - dispatched)));
  m.setTotal("brigade_replays_total", "Reconnects that asked for the changes after an offset", {},
             static_cast<double>(replays_.load()));
  m.setTotal("brigade_replayed_events_total", "Events sent by those replays", {},
             static_cast<double>(replayedEvents_.load()));
}

void Live::dispatched(int64_t seq) {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lock(dispatchMutex_);
    dispatched_ = std::max(dispatched_, seq);
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->first <= dispatched_) {
        due.push_back(std::move(it->second));
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& fn : due) fn();
}

void Live::whenDispatched(int64_t seq, std::function<void()> fn) {
  {
    std::lock_guard lock(dispatchMutex_);
    if (dispatched_ < seq) {
      waiting_.emplace_back(seq, std::move(fn));
      return;
    }
  }
  fn();
}

void Live::rememberPid(const std::string& pid, int64_t userId) {
  std::lock_guard lock(mutex_);
  int64_t now = app_.clock().nowMs();
  // Expired ids go whenever the map has doubled since the last pass: the map stays
  // about as large as the ids of the last recovery window (a soak showed it growing
  // by every reconnect when pruned only past the cap).
  if (pids_.size() >= pidsPruneAt_) {
    std::erase_if(pids_, [now](const auto& entry) { return entry.second.second < now; });
    pidsPruneAt_ = std::max<size_t>(kPidsFirstPrune, 2 * pids_.size());
  }
  if (pids_.size() >= kMaxRememberedPids && !pids_.contains(pid)) return;
  pids_[pid] = {userId, now + kRecoveryWindowMs};
}

bool Live::pidBelongsTo(const std::string& pid, int64_t userId) {
  std::lock_guard lock(mutex_);
  auto it = pids_.find(pid);
  return it != pids_.end() && it->second.first == userId &&
         it->second.second >= app_.clock().nowMs();
}

void Live::authorize(sio::Socket& socket, sio::Next next) {
  const auto& auth = socket.handshake().auth;
  const json::value* token = auth.is_object() ? auth.get_object().if_contains("token") : nullptr;
  if (!token || !token->is_string() || token->get_string().empty() ||
      token->get_string().size() > kMaxTokenLength) {
    return next(sio::ConnectError{"unauthorized", nullptr});
  }
  auto self = socket.shared_from_this();
  app_.authenticate(
      tokenHash(std::string_view(token->get_string())), [this, self, next](Result<Caller> caller) {
        if (!caller && caller.error().code == kUnauthorizedCode) {
          return next(sio::ConnectError{"unauthorized", nullptr});
        }
        if (!caller) {
          // Not the token's fault: the client should come back (the panels retry this one
          // as they retry rate_limited; the stock client gets connect_error "unavailable").
          return next(sio::ConnectError{
              "unavailable", json::object{{"retry_after_ms", kRetryAfterUnavailableS * 1000}}});
        }
        // Per user, not per socket: many sockets of one account share it.
        if (int64_t wait = connects_.acquire(std::to_string(caller->id), app_.clock().nowMs())) {
          app_.metrics().count(kRateLimitedMetric, kRateLimitedHelp, {{"limit", "connect"}});
          return next(sio::ConnectError{"rate_limited", json::object{{"retry_after_ms", wait}}});
        }
        const auto& h = self->handshake();
        if (!h.pid.empty() && pidBelongsTo(h.pid, caller->id)) {
          self->setPid(h.pid);  // the stock client's recovery
        }
        self->data = *caller;
        next(std::nullopt);
      });
}

// Replays the changes after a seq that a socket may see, page by page, then marks
// the socket live: it was already in its rooms and holding, so every broadcast
// after the last read seq reaches it and nothing before it twice. The store reads
// only the caller's audience, so the cost follows what the caller may see; past
// maxReplayEvents the replay gives up with resync(too_far_behind).
struct Live::Replay : std::enable_shared_from_this<Live::Replay> {
  Live& live;
  sio::SocketPtr socket;
  Caller caller;
  int64_t after;
  // The client has change `partial` but maybe not its alert: only that is replayed of it.
  int64_t partial = 0;
  // Sent together once the head is reached, so that a replay that turns out too long
  // sends nothing but the resync.
  std::vector<std::string> events;

  Replay(Live& l, sio::SocketPtr s, Caller c, int64_t a)
      : live(l), socket(std::move(s)), caller(std::move(c)), after(a) {}

  void next() {
    auto self = shared_from_this();
    live.store_.readChanges(
        after, store::kMaxReadLimit, audienceOf(caller), [self](Result<store::ChangePage> page) {
          if (!page) {
            if (page.error().code == store::errc::kHistoryLost) {
              self->resync(store::kResyncHistoryLost);
              return;
            }
            spdlog::warn("replay failed: {}", page.error().message);
            self->socket->post([](sio::Socket& s) { s.disconnect(true); });
            return;
          }
          if (page->changes.empty() && self->after > page->last_seq) {
            // Beyond the database's own head (last_seq, read with the page), not merely
            // beyond what this node has broadcast so far: a client coming from a node
            // that is ahead is caught up above, never told this.
            self->resync(store::kResyncOffsetAhead, page->last_seq);
            return;
          }
          auto& events = self->events;
          for (const auto& change : page->changes) {
            if (!visible(*change, self->caller)) continue;  // the store filtered already
            bool alertOnly = change->seq == self->partial;
            if (change->collection == store::kOrders) {
              if (!alertOnly) events.push_back(orderEvent(*change, self->caller.role));
              if (change->op == store::ChangeOp::kInsert && self->caller.role == Role::kAdmin) {
                events.push_back(alertEvent(*change));
              }
            } else if (!alertOnly) {
              events.push_back(change->collection == store::kRestaurant
                                   ? self->live.restaurantEvent(*change)
                                   : menuEvent(*change));
            }
          }
          if (events.size() > self->live.options_.maxReplayEvents) {
            self->resync(kResyncTooFarBehind);
            return;
          }
          self->after = page->last_seq;
          if (!page->at_head) {
            self->next();
            return;
          }
          if (!events.empty()) {
            self->live.replayedEvents_.fetch_add(events.size(), std::memory_order_relaxed);
            self->socket->post([events = std::move(events)](sio::Socket& s) {
              for (const auto& e : events) s.emitRaw(e);
            });
            events.clear();
          }
          self->finish(page->last_seq, page->epoch);
        });
  }

  // Tells the client to reload, then carries on from `from` (default: what this node has
  // broadcast): the changes after it follow, then ready.
  void resync(std::string_view reason, std::optional<int64_t> from = std::nullopt) {
    events.clear();
    partial = 0;
    std::string event = json::serialize(json::array{"resync", json::object{{"reason", reason}}});
    socket->post([event](sio::Socket& s) { s.emitRaw(event); });
    after = std::max(from.value_or(0), live.store_.headSeq());
    next();
  }

  // The replay read the database up to lastSeq, which the change stream may not have
  // broadcast yet: release only once it has, or those broadcasts would arrive after
  // the release and duplicate the replayed changes.
  void finish(int64_t lastSeq, const std::string& epoch) {
    std::string ready =
        withOffset({{"epoch", epoch}, {"last_seq", lastSeq}}, lastSeq, "ready", true);
    live.whenDispatched(lastSeq, [self = shared_from_this(), ready, lastSeq] {
      self->socket->post([ready, lastSeq](sio::Socket& s) {
        s.emitRaw(ready);
        s.release(static_cast<uint64_t>(lastSeq));
      });
      if (self->caller.role == Role::kCustomer) self->riderPositions();
    });
  }

  // A customer's tracking page shows the rider at once: the last stored position of
  // each rider carrying one of their orders.
  void riderPositions() {
    store::OrderQuery carried;
    carried.customer_id = caller.id;
    carried.status = store::OrderStatus::kPickedUp;
    carried.limit = store::kMaxOrderListLimit;
    auto self = shared_from_this();
    live.store_.listOrders(carried, [self](Result<std::vector<store::Order>> orders) {
      if (!orders) return;
      for (const auto& order : *orders) {
        if (!order.rider_id) continue;
        int64_t orderId = order.id;
        self->live.store_.getRider(*order.rider_id, [self, orderId](Result<store::Rider> rider) {
          if (!rider || !rider->last_location) return;
          const auto& at = *rider->last_location;
          std::string event =
              json::serialize(json::array{"rider:location", json::object{{"rider_id", rider->id},
                                                                         {"order_id", orderId},
                                                                         {"lat", at.lat},
                                                                         {"lng", at.lng},
                                                                         {"at", at.at}}});
          self->socket->post([event](sio::Socket& s) { s.emitRaw(event); });
        });
      }
    });
  }
};

void Live::onConnection(const sio::SocketPtr& socket) {
  const Caller caller = std::any_cast<Caller>(socket->data);
  for (const auto& room : roleRooms(caller, *socket)) socket->join(room);
  socket->join("token:" + caller.tokenHash);
  socket->join("user:" + std::to_string(caller.id));
  socket->hold();  // in its rooms from now on; broadcasts wait for the replay
  if (!socket->pid().empty()) rememberPid(socket->pid(), caller.id);
  socket->on("rider:location", [this](sio::Event& event) { onLocation(event); });
  socket->onAny([](sio::Event& event) {
    if (event.ack) event.ack({failure("unknown_event", "no such event: " + event.name)});
  });
  socket->onDisconnect([this, caller](sio::Socket& s, std::string_view) {
    if (!s.pid().empty()) rememberPid(s.pid(), caller.id);
  });

  const auto& h = socket->handshake();
  const json::object* auth = h.auth.is_object() ? &h.auth.get_object() : nullptr;
  std::optional<Offset> offset = auth ? parseOffset(auth->if_contains("offset")) : std::nullopt;
  std::optional<std::string> epoch;
  if (auth) {
    if (auto* e = auth->if_contains("epoch"); e && e->is_string())
      epoch = std::string(e->get_string());
  }
  if (!offset && socket->recovered()) {
    json::value stock(h.offset);
    offset = parseOffset(&stock);
  }
  auto replay = std::make_shared<Replay>(*this, socket, caller, 0);
  if (offset) replays_.fetch_add(1, std::memory_order_relaxed);
  if (offset && epoch && *epoch != store_.epoch()) {
    replay->resync(store::kResyncEpochMismatch);
    return;
  }
  // An offset beyond this node's head may come from a node that is ahead: the replay
  // reads the database, and only an offset beyond the database's head is offset_ahead.
  Offset from = offset.value_or(Offset{store_.headSeq(), true});
  replay->after = from.seq;
  if (!from.complete && from.seq > 0) {
    replay->partial = from.seq;  // read change S again, for its alert
    replay->after = from.seq - 1;
  }
  replay->next();
}

void Live::onLocation(sio::Event& event) {
  const Caller caller = std::any_cast<Caller>(event.socket.data);
  auto ack = event.ack;
  auto answer = [&](json::object body) {
    if (ack) ack({std::move(body)});
  };
  if (caller.role != Role::kRider)
    return answer(failure("forbidden", "only riders share a location"));
  if (event.args.empty() || !event.args[0].is_object()) {
    return answer(failure("invalid", "expected {lat, lng, heading?, speed?}"));
  }
  const auto& body = event.args[0].get_object();
  auto number = [&](std::string_view key, double min, double max, bool required,
                    std::optional<double>& out) -> bool {
    auto* v = body.if_contains(key);
    if (!v) return !required;
    if (!v->is_number()) return false;
    double d = v->to_number<double>();
    if (!(d >= min && d <= max)) return false;
    out = d;
    return true;
  };
  std::optional<double> lat, lng, heading, speed;
  if (!number("lat", -90, 90, true, lat) || !number("lng", -180, 180, true, lng) ||
      !number("heading", 0, 360, false, heading) || !number("speed", 0, 1e6, false, speed)) {
    return answer(failure("invalid", "lat -90..90, lng -180..180, heading 0..360, speed >= 0"));
  }
  {
    std::lock_guard lock(mutex_);
    int64_t now = app_.clock().nowMs();
    auto& last = lastLocationMs_[caller.id];
    if (last && now - last < kLocationIntervalMs) {
      app_.metrics().count(kRateLimitedMetric, kRateLimitedHelp, {{"limit", "location"}});
      return answer(failure("rate_limited", "at most one location a second"));
    }
    last = now;
  }
  std::weak_ptr<sio::Socket> weak = event.socket.shared_from_this();
  auto reply = [weak, ack](json::object body) mutable {
    if (auto s = weak.lock()) {
      s->post([ack, body = std::move(body)](sio::Socket&) mutable {
        if (ack) ack({std::move(body)});
      });
    }
  };
  store_.setRiderLocation(
      caller.id, *lat, *lng, [this, caller, reply](Result<store::Location> at) mutable {
        if (!at) return reply(failure("storage_error", "could not store the location"));
        app_.signals().publish(json::object{{"kind", "location"},
                                            {"rider_id", caller.id},
                                            {"lat", at->lat},
                                            {"lng", at->lng},
                                            {"at", at->at}});
        relayLocation(caller.id, *at, [reply](std::optional<size_t> relayed) mutable {
          if (!relayed) return reply(failure("storage_error", "could not read the deliveries"));
          reply({{"ok", true}, {"relayed", *relayed}});
        });
      });
}

void Live::relayLocation(int64_t riderId, const store::Location& at,
                         std::function<void(std::optional<size_t>)> done) {
  store::OrderQuery carried;
  carried.rider_id = riderId;
  carried.status = store::OrderStatus::kPickedUp;
  carried.limit = store::kMaxOrderListLimit;
  store_.listOrders(carried, [this, riderId, at,
                              done = std::move(done)](Result<std::vector<store::Order>> orders) {
    if (!orders) {
      if (done) done(std::nullopt);
      return;
    }
    for (const auto& order : *orders) {
      json::array event{"rider:location", json::object{{"rider_id", riderId},
                                                       {"order_id", order.id},
                                                       {"lat", at.lat},
                                                       {"lng", at.lng},
                                                       {"at", at.at}}};
      io_.to(std::string(kAdminsRoom))
          .to("customer:" + std::to_string(order.customer_id))
          .emitRaw(json::serialize(event));
    }
    if (done) done(orders->size());
  });
}

void Live::onRevokedSignal(const json::object& signal) {
  const auto* hash = signal.if_contains("hash");
  if (!hash || !hash->is_string()) return;
  const std::string h(hash->get_string());
  app_.forgetToken(h);  // this node's cache of callers, for REST
  io_.to("token:" + h).disconnectSockets();
}

void Live::onLocationSignal(const json::object& signal) {
  const auto* rider = signal.if_contains("rider_id");
  const auto* lat = signal.if_contains("lat");
  const auto* lng = signal.if_contains("lng");
  const auto* at = signal.if_contains("at");
  if (!rider || !rider->is_int64() || !lat || !lat->is_number() || !lng || !lng->is_number() ||
      !at || !at->is_string()) {
    return;
  }
  store::Location location;
  location.lat = lat->to_number<double>();
  location.lng = lng->to_number<double>();
  location.at = std::string(at->get_string());
  relayLocation(rider->get_int64(), location, nullptr);
}

}  // namespace brigade::app
