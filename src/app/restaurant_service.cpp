#include "app/restaurant_service.hpp"

#include <boost/json/serialize.hpp>

#include "app/app.hpp"
#include "app/fields.hpp"
#include "core/log.hpp"
#include "store/await.hpp"
#include "store/errors.hpp"
#include "store/timestamp.hpp"

namespace brigade::app {

RestaurantService::RestaurantService(store::Store& store, std::shared_ptr<Clock> clock,
                                     int64_t flatFeeCents)
    : store_(store),
      clock_(std::move(clock)),
      flatFeeCents_(flatFeeCents),
      current_(std::make_shared<RestaurantSettings>()) {
  // Kept current from the stream: a change made on another node, or by another program.
  subscription_ =
      store_.subscribe(store::SubscribeOptions{}, [this](const store::StreamEvent& event) {
        if (event.kind != store::StreamEventKind::kChange) return;
        const auto& c = *event.change;
        if (c.collection != store::kRestaurant || c.op == store::ChangeOp::kDelete) return;
        const auto* version = c.document.if_contains("version");
        if (!version || !version->is_int64()) return;
        remember(std::make_shared<RestaurantSettings>(readChangeDocument(c.document)));
      });
  // Start-up: what the database holds now (the defaults if it cannot say yet).
  auto record = store::await<store::Restaurant>([&](auto done) { store_.getRestaurant(done); });
  if (record) {
    remember(*record);
  } else {
    spdlog::warn("restaurant settings not read at start ({}); using the defaults until then",
                 record.error().message);
  }
}

RestaurantService::~RestaurantService() {
  stop();
}

void RestaurantService::stop() {
  if (subscription_) store_.unsubscribe(std::exchange(subscription_, 0));
}

std::shared_ptr<const RestaurantSettings> RestaurantService::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void RestaurantService::remember(std::shared_ptr<const RestaurantSettings> settings) {
  std::lock_guard lock(mutex_);
  // Never back to an older version (a slow read answering after the stream moved on).
  if (settings->version >= current_->version) current_ = std::move(settings);
}

std::shared_ptr<const RestaurantSettings> RestaurantService::remember(
    const store::Restaurant& record) {
  auto settings = std::make_shared<const RestaurantSettings>(readSettings(record));
  remember(settings);
  return settings;
}

std::function<Result<void>(const store::Restaurant&, const store::RecentOrders&)>
RestaurantService::admission() {
  return
      [this](const store::Restaurant& record, const store::RecentOrders& recent) -> Result<void> {
        // The record read inside the order's transaction; parsed once per version.
        std::shared_ptr<const RestaurantSettings> settings = current();
        if (settings->version != record.version) settings = remember(record);
        const auto now = clock_->wallNow();
        if (auto refused = refusal(*settings, now)) return *refused;
        if (const auto cap = settings->max_orders_per_15min) {
          auto n = recent(store::formatTimestamp(now - kKitchenWindow), *cap);
          if (!n) return n.error();
          if (*n >= *cap) {
            return makeError("kitchen_full",
                             "the kitchen is full (" + std::to_string(*cap) +
                                 " orders in the last 15 minutes); try again in a few minutes");
          }
        }
        return {};
      };
}

std::function<Result<store::DeliveryPrice>(const store::Restaurant&, int64_t)>
RestaurantService::pricing(std::optional<GeoPoint> point) {
  return [this, point](const store::Restaurant& record, int64_t subtotal) {
    std::shared_ptr<const RestaurantSettings> settings = current();
    if (settings->version != record.version) settings = remember(record);
    return priceDelivery(settings->location, settings->delivery_area, point, subtotal,
                         flatFeeCents_);
  };
}

void RestaurantService::read(
    std::function<void(Result<std::shared_ptr<const RestaurantSettings>>)> done) {
  store_.getRestaurant([this, done = std::move(done)](Result<store::Restaurant> record) {
    if (!record) return done(record.error());
    done(remember(*record));
  });
}

void RestaurantService::edit(std::optional<int64_t> if_version, Edit edit, Done done,
                             int attempts) {
  store_.getRestaurant([this, if_version, edit = std::move(edit), done = std::move(done),
                        attempts](Result<store::Restaurant> record) mutable {
    if (!record) return done(record.error(), std::nullopt);
    if (if_version && *if_version != record->version) {
      return done(makeError(store::errc::kVersionConflict, "the settings changed"), std::nullopt);
    }
    RestaurantSettings next = readSettings(*record);
    bool unchanged = false;
    if (auto refused = edit(next, unchanged)) {
      return done(std::shared_ptr<const RestaurantSettings>(), refused);
    }
    if (unchanged) return done(remember(*record), std::nullopt);
    std::string stored = json::serialize(toStored(next));
    store_.updateRestaurant(
        std::move(stored), record->version,
        [this, if_version, edit = std::move(edit), done = std::move(done),
         attempts](Result<store::Restaurant> written) mutable {
          if (!written && written.error().code == store::errc::kVersionConflict && !if_version &&
              attempts > 1) {
            return this->edit(if_version, std::move(edit), std::move(done), attempts - 1);
          }
          if (!written) return done(written.error(), std::nullopt);
          done(remember(*written), std::nullopt);
        });
  });
}

json::object RestaurantService::viewOf(const json::object& document) const {
  return toView(readChangeDocument(document), clock_->wallNow());
}

void RestaurantService::quote(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto number = [&](std::string_view name, double min, double max,
                    std::optional<double>& out) -> bool {
    auto text = request->http.queryParam(name);
    if (!text) return true;
    std::string copy(*text);
    char* end = nullptr;
    double v = std::strtod(copy.c_str(), &end);
    if (copy.empty() || *end != '\0' || !(v >= min && v <= max)) return false;
    out = v;
    return true;
  };
  std::optional<double> lat, lng, subtotal;
  if (!number("lat", -90, 90, lat)) return reply->error(invalid("lat", "must be -90..90"));
  if (!number("lng", -180, 180, lng)) return reply->error(invalid("lng", "must be -180..180"));
  if (lat.has_value() != lng.has_value()) {
    return reply->error(invalid(lat ? "lng" : "lat", "is required with the other coordinate"));
  }
  if (!number("subtotal_cents", 0, static_cast<double>(kMaxPriceCents), subtotal)) {
    return reply->error(invalid("subtotal_cents", "must be a whole amount in cents"));
  }
  std::optional<GeoPoint> point;
  if (lat) point = GeoPoint{*lat, *lng};
  read([this, reply, point, subtotal](Result<std::shared_ptr<const RestaurantSettings>> got) {
    if (!got) return reply->error(fromStore(got.error()));
    const auto& s = **got;
    // Priced as an order would be: with the subtotal given, or as if it met the minimum.
    const int64_t min = s.delivery_area ? s.delivery_area->min_subtotal_cents : 0;
    const int64_t sub = subtotal ? static_cast<int64_t>(*subtotal) : min;
    auto price = priceDelivery(s.location, s.delivery_area, point, sub, flatFeeCents_);
    json::object body{
        {"deliverable", static_cast<bool>(price)},
        {"fee_cents", price ? json::value(price->fee_cents) : json::value(nullptr)},
        {"distance_m", s.location && point ? json::value(distanceMeters(*s.location, *point))
                                           : json::value(nullptr)},
        {"min_subtotal_cents", min},
        {"currency", s.currency}};
    if (!price) {
      ApiError why = fromStore(price.error());
      body["reason"] = json::object{{"code", why.code}, {"message", why.message}};
    }
    reply->json(200, std::move(body));
  });
}

void RestaurantService::routes(ApiRouter& r) {
  r.add("GET", "/api/delivery/quote", Access::kAnyone, false,
        [this](const ApiRequestPtr& request, const ReplyPtr& reply) { quote(request, reply); });
  r.add("GET", "/api/restaurant", Access::kAnyone, false,
        [this](const ApiRequestPtr&, const ReplyPtr& reply) {
          read([this, reply](Result<std::shared_ptr<const RestaurantSettings>> settings) {
            if (!settings) return reply->error(fromStore(settings.error()));
            reply->json(200, toView(**settings, clock_->wallNow()));
          });
        });
  r.add("PATCH", "/api/restaurant", Access::kAdmin, true,
        [this](const ApiRequestPtr& request, const ReplyPtr& reply) {
          const json::object& body = request->body.get_object();
          const auto now = clock_->wallNow();
          // Checked once before any read, so a bad body costs nothing.
          RestaurantSettings probe;
          if (auto bad = applyPatch(body, now, probe)) return reply->error(*bad);
          std::optional<int64_t> ifVersion;
          if (const auto* v = body.if_contains("if_version")) ifVersion = v->as_int64();
          edit(
              ifVersion,
              [body, now](RestaurantSettings& s, bool&) -> std::optional<ApiError> {
                if (auto bad = applyPatch(body, now, s)) return bad;
                // Checked on the result, so that either member may come first or alone.
                if (s.delivery_area && !s.location) {
                  return invalid(body.contains("location") ? "location" : "delivery_area",
                                 "a delivery area needs the restaurant's location");
                }
                return std::nullopt;
              },
              [this, reply](Result<std::shared_ptr<const RestaurantSettings>> settings,
                            std::optional<ApiError> refused) {
                if (refused) return reply->error(*refused);
                if (!settings) return reply->error(fromStore(settings.error()));
                reply->json(200, toView(**settings, clock_->wallNow()));
              });
        });
}

}  // namespace brigade::app
