#include "app/rider_offers.hpp"

#include <algorithm>
#include <tuple>

#include "app/fields.hpp"
#include "app/geo.hpp"
#include "app/lifecycle.hpp"
#include "app/views.hpp"
#include "store/errors.hpp"
#include "store/timestamp.hpp"

namespace brigade::app {

using store::OrderStatus;
using store::Role;

namespace {

bool offerOpen(const store::Order& o) {
  return o.rider_id && o.offer_expires_at.has_value();
}

// Runs `done` once every copy is gone (every update of a batch answered).
struct Countdown {
  explicit Countdown(std::function<void()> f) : fn(std::move(f)) {}
  ~Countdown() {
    if (fn) fn();
  }
  std::function<void()> fn;
};

}  // namespace

RiderOffers::RiderOffers(store::Store& store, std::shared_ptr<Clock> clock,
                         RestaurantService& restaurant)
    : store_(store), clock_(std::move(clock)), restaurant_(restaurant) {}

void RiderOffers::offer(store::OrderUpdate& update) const {
  update.offer_expires_at = std::optional<std::string>(
      store::formatTimestamp(clock_->wallNow() + std::chrono::seconds(kOfferSeconds)));
  update.rider_accepted_at = std::optional<std::string>();
}

void RiderOffers::routes(ApiRouter& r) {
  r.add("POST", "/api/orders/:id/offer", Access::kRider, true,
        [this](const ApiRequestPtr& request, const ReplyPtr& reply) { answer(request, reply); });
}

void RiderOffers::answer(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto id = request->id();
  if (!id) return reply->error(notFound("no such order"));
  const Caller caller = *request->caller;
  Fields f(request->body.get_object());
  auto accept = f.boolean("accept", true);
  auto version = f.integer("if_version", false, 0, INT64_MAX);
  if (!f.ok()) return reply->error(*f.error());
  store_.getOrder(*id, [this, reply, caller, accept = *accept,
                        version](Result<store::Order> order) {
    if (!order || order->rider_id != caller.id) {
      if (order || order.error().code == store::errc::kNotFound) {
        return reply->error(notFound("no such order"));
      }
      return reply->error(fromStore(order.error()));
    }
    if (version && *version != order->version) {
      return reply->error(conflict("version_conflict", "the order changed since that version"));
    }
    const std::string now = store::formatTimestamp(clock_->wallNow());
    if (!offerOpen(*order)) {
      // Taken already: accepting again changes nothing; declining is the staff's to do.
      if (accept) return reply->json(200, toJson(*order, Role::kRider));
      return reply->error(
          conflict("offer_accepted", "you took this delivery; ask the restaurant to reassign it"));
    }
    if (*order->offer_expires_at <= now) {
      return reply->error(conflict("offer_expired", "the offer ran out; it went to another rider"));
    }
    const int64_t seen = order->version;
    auto check = [caller, seen](const store::Order& o) -> Result<void> {
      if (o.rider_id != caller.id) return makeError("not_found", "no such order");
      if (o.version != seen) {
        return makeError(store::errc::kVersionConflict, "the order changed meanwhile");
      }
      return {};
    };
    auto done = [reply](Result<store::Order> updated) {
      reply->onLoop([reply, updated = std::move(updated)] {
        if (!updated) return reply->error(fromStore(updated.error()));
        reply->json(200, toJson(*updated, Role::kRider));
      });
    };
    if (accept) {
      store::OrderUpdate update;
      update.id = order->id;
      update.accept_offer = true;
      update.check = check;
      return store_.updateOrder(std::move(update), done);
    }
    moveOn(*order, false, done);
  });
}

void RiderOffers::nextRider(const store::Order& order, std::optional<int64_t> leaving,
                            std::function<void(std::optional<int64_t>)> done) {
  auto settings = restaurant_.current();
  if (!settings->auto_offer) return done(std::nullopt);
  std::vector<int64_t> excluded = order.declined_rider_ids;
  if (leaving) excluded.push_back(*leaving);
  store_.listRiders([excluded, home = settings->location,
                     done = std::move(done)](Result<std::vector<store::Rider>> riders) {
    if (!riders) return done(std::nullopt);
    const store::Rider* best = nullptr;
    auto rank = [&home](const store::Rider& r) {
      // Fewest orders first, then the nearest (known positions before unknown), then the id.
      int64_t distance = INT64_MAX;
      if (home && r.last_location) {
        distance = distanceMeters(*home, GeoPoint{r.last_location->lat, r.last_location->lng});
      }
      return std::make_tuple(r.active_order_ids.size(), distance, r.id);
    };
    for (const auto& r : *riders) {
      if (!r.online) continue;
      if (std::find(excluded.begin(), excluded.end(), r.id) != excluded.end()) continue;
      if (!best || rank(r) < rank(*best)) best = &r;
    }
    done(best ? std::optional<int64_t>(best->id) : std::nullopt);
  });
}

void RiderOffers::moveOn(const store::Order& order, bool expired,
                         std::function<void(Result<store::Order>)> done) {
  const int64_t from = *order.rider_id;
  const int64_t seen = order.version;
  nextRider(order, from,
            [this, id = order.id, from, seen, expired,
             done = std::move(done)](std::optional<int64_t> next) {
              store::OrderUpdate update;
              update.id = id;
              update.declined_by = from;
              update.rider_id = next;
              if (next) {
                offer(update);
              } else {
                update.offer_expires_at = std::optional<std::string>();
                update.rider_accepted_at = std::optional<std::string>();
              }
              const std::string now = store::formatTimestamp(clock_->wallNow());
              update.check = [from, seen, expired, now](const store::Order& o) -> Result<void> {
                // Still offered to that rider as it was found (and, for an expiry, still past its
                // end).
                if (o.rider_id != from || o.version != seen || !offerOpen(o) ||
                    (expired && *o.offer_expires_at > now)) {
                  return makeError(store::errc::kVersionConflict, "the order changed meanwhile");
                }
                return {};
              };
              store_.updateOrder(std::move(update), done);
            });
}

void RiderOffers::sweep(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (done) waiting_.push_back(std::move(done));
    if (running_) {
      again_ = true;
      return;
    }
    running_ = true;
  }
  run();
}

void RiderOffers::run() {
  moveOnExpired([this] { offerUnassigned([this] { finish(); }); });
}

void RiderOffers::finish() {
  std::vector<std::function<void()>> done;
  bool again = false;
  {
    std::lock_guard lock(mutex_);
    if (again_) {
      again_ = false;
      again = true;
    } else {
      running_ = false;
      done.swap(waiting_);
    }
  }
  if (again) return run();
  for (auto& fn : done) fn();
}

void RiderOffers::moveOnExpired(std::function<void()> done) {
  store::OrderQuery query;
  query.offer_expired_before = store::formatTimestamp(clock_->wallNow());
  query.oldest_first = true;
  query.limit = kOfferBatch;
  store_.listOrders(query,
                    [this, done = std::move(done)](Result<std::vector<store::Order>> orders) {
                      if (!orders || orders->empty()) return done();
                      auto all = std::make_shared<Countdown>(done);
                      for (const auto& order : *orders) {
                        if (!offerOpen(order) || !assignable(order.status)) continue;
                        moveOn(order, true, [all](Result<store::Order>) {});
                      }
                    });
}

void RiderOffers::offerUnassigned(std::function<void()> done) {
  if (!restaurant_.current()->auto_offer) return done();
  store::OrderQuery query;
  query.statuses = {OrderStatus::kAccepted, OrderStatus::kPreparing, OrderStatus::kReady};
  query.unassigned = true;
  query.oldest_first = true;
  query.limit = kOfferBatch;
  store_.listOrders(
      query, [this, done = std::move(done)](Result<std::vector<store::Order>> orders) {
        if (!orders || orders->empty()) return done();
        // One at a time: each offer changes who carries fewest orders for the next.
        offerEach(std::make_shared<std::vector<store::Order>>(std::move(*orders)), 0, done);
      });
}

void RiderOffers::offerEach(std::shared_ptr<std::vector<store::Order>> queue, size_t i,
                            std::function<void()> done) {
  if (i == queue->size()) return done();
  nextRider((*queue)[i], std::nullopt, [this, queue, i, done](std::optional<int64_t> rider) {
    if (!rider) return done();  // nobody free: the rest wait for the next pass
    const store::Order& o = (*queue)[i];
    store::OrderUpdate update;
    update.id = o.id;
    update.rider_id = rider;
    offer(update);
    const int64_t seen = o.version;
    update.check = [seen](const store::Order& now) -> Result<void> {
      if (now.version != seen || now.rider_id || !assignable(now.status)) {
        return makeError(store::errc::kVersionConflict, "the order changed meanwhile");
      }
      return {};
    };
    store_.updateOrder(std::move(update), [this, queue, i, done](Result<store::Order>) {
      offerEach(queue, i + 1, done);
    });
  });
}

}  // namespace brigade::app
