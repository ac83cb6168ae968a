#pragma once

// The restaurant's settings at work: GET/PATCH /api/restaurant, the check every new order
// passes inside its write (closed, paused, kitchen full), the local day, and a copy of the
// settings kept current from the change stream (so a setting changed on another node, or
// by another program, applies here too).

#include <functional>
#include <memory>
#include <mutex>

#include "app/api.hpp"
#include "app/restaurant.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace brigade::app {

class RestaurantService {
 public:
  // `flatFeeCents`: the delivery fee where no delivery area is set (--delivery-fee-cents).
  RestaurantService(store::Store& store, std::shared_ptr<Clock> clock, int64_t flatFeeCents);
  ~RestaurantService();
  // Before the store goes: no more change-stream callbacks.
  void stop();

  void routes(ApiRouter& router);

  // The settings as last seen (start-up, a read, or the change stream).
  std::shared_ptr<const RestaurantSettings> current() const;
  // The admission check for a new order (store::NewOrder::admit).
  std::function<Result<void>(const store::Restaurant&, const store::RecentOrders&)> admission();
  // The delivery's price inside an order's transaction (store::NewOrder::price), for the
  // order's delivery point.
  std::function<Result<store::DeliveryPrice>(const store::Restaurant&, int64_t)> pricing(
      std::optional<GeoPoint> point);
  // Reads the settings from the database (and refreshes current()).
  void read(std::function<void(Result<std::shared_ptr<const RestaurantSettings>>)> done);
  // Edits the settings read from the database and writes them compare-and-set: with
  // `if_version` only over that version (version_conflict otherwise); without it, a
  // concurrent writer makes it read again and retry. `edit` returns an answer to refuse
  // (nothing is written), or nullopt to write; `unchanged` set by it skips the write.
  using Edit = std::function<std::optional<ApiError>(RestaurantSettings&, bool& unchanged)>;
  using Done = std::function<void(Result<std::shared_ptr<const RestaurantSettings>>,
                                  std::optional<ApiError>)>;
  void edit(std::optional<int64_t> if_version, Edit edit, Done done, int attempts = 3);

  // The document clients get (REST and restaurant:changed alike) for a change's document.
  json::object viewOf(const json::object& document) const;

 private:
  std::shared_ptr<const RestaurantSettings> remember(const store::Restaurant& record);
  void remember(std::shared_ptr<const RestaurantSettings> settings);

  void quote(const ApiRequestPtr& request, const ReplyPtr& reply);

  store::Store& store_;
  std::shared_ptr<Clock> clock_;
  int64_t flatFeeCents_;
  mutable std::mutex mutex_;
  std::shared_ptr<const RestaurantSettings> current_;
  store::SubscriptionId subscription_ = 0;
};

}  // namespace brigade::app
