#pragma once

// Rider offers (docs/API.md, "Rider offers"): an assignment is an offer to the rider, open
// for kOfferSeconds, that the rider accepts or declines (POST /api/orders/:id/offer); picking
// the order up accepts it too. A declined or expired offer goes to the next rider when the
// restaurant lets the server dispatch (auto_offer), or back to the board otherwise. With
// auto_offer the server also offers every accepted, preparing or ready order that has no
// rider to the best online rider: the one carrying fewest orders, then the nearest to the
// restaurant by last known position, who has not declined it.
//
// Exactly once on one node or many: the work is found in the database (offers past their end,
// orders without a rider) and each move is a compare-and-set on the order's version that also
// requires it to be as it was found; the node that loses the race does nothing.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "app/api.hpp"
#include "app/restaurant_service.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace brigade::app {

inline constexpr int64_t kOfferSeconds = 60;  // how long a rider has to answer an offer
inline constexpr int64_t kOfferSweepMs =
    1000;                                    // how often offers and unassigned orders are looked at
inline constexpr int64_t kOfferBatch = 100;  // orders handled per pass and kind at most

class RiderOffers {
 public:
  RiderOffers(store::Store& store, std::shared_ptr<Clock> clock, RestaurantService& restaurant);

  void routes(ApiRouter& router);
  // Makes an assignment an offer: its end kOfferSeconds from now, not accepted.
  void offer(store::OrderUpdate& update) const;
  // One pass: expired offers move on, unassigned orders are offered (auto_offer); `done` runs
  // once its writes are answered. A pass already running is followed by another.
  void sweep(std::function<void()> done);

 private:
  void answer(const ApiRequestPtr& request, const ReplyPtr& reply);
  void run();
  void finish();
  // The rider to offer `order` next (nullopt: nobody), among those online.
  void nextRider(const store::Order& order, std::optional<int64_t> leaving,
                 std::function<void(std::optional<int64_t>)> done);
  // Moves an order from the rider it is offered to (declined, or expired) to the next one.
  void moveOn(const store::Order& order, bool expired,
              std::function<void(Result<store::Order>)> done);
  void offerUnassigned(std::function<void()> done);
  void offerEach(std::shared_ptr<std::vector<store::Order>> queue, size_t i,
                 std::function<void()> done);
  void moveOnExpired(std::function<void()> done);

  store::Store& store_;
  std::shared_ptr<Clock> clock_;
  RestaurantService& restaurant_;
  std::mutex mutex_;
  bool running_ = false;
  bool again_ = false;
  std::vector<std::function<void()>> waiting_;
};

}  // namespace brigade::app
