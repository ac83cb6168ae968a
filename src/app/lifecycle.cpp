#include "app/lifecycle.hpp"

#include <array>

namespace brigade::app {

namespace {

using store::OrderStatus;
using store::Role;

constexpr std::array kMoves = {
    Move{OrderStatus::kPending, OrderStatus::kAccepted, Role::kAdmin},
    Move{OrderStatus::kPending, OrderStatus::kRejected, Role::kAdmin},
    Move{OrderStatus::kPending, OrderStatus::kCancelled, Role::kAdmin},
    Move{OrderStatus::kAccepted, OrderStatus::kCancelled, Role::kAdmin},
    Move{OrderStatus::kPreparing, OrderStatus::kCancelled, Role::kAdmin},
    Move{OrderStatus::kReady, OrderStatus::kCancelled, Role::kAdmin},
    Move{OrderStatus::kAccepted, OrderStatus::kPreparing, Role::kAdmin},
    Move{OrderStatus::kPreparing, OrderStatus::kReady, Role::kAdmin},
    Move{OrderStatus::kPending, OrderStatus::kCancelled, Role::kCustomer},
    Move{OrderStatus::kReady, OrderStatus::kPickedUp, Role::kRider},
    Move{OrderStatus::kPickedUp, OrderStatus::kDelivered, Role::kRider},
    // Staff confirm a delivery the rider could not prove (app/delivery_code.hpp), with a reason.
    Move{OrderStatus::kPickedUp, OrderStatus::kDelivered, Role::kAdmin},
};

}  // namespace

Result<void> checkMove(const store::Order& order, OrderStatus to, Role role, int64_t callerId) {
  bool roleMakesIt = false;
  bool fromHere = false;
  for (const auto& move : kMoves) {
    if (move.role != role || move.to != to) continue;
    roleMakesIt = true;
    if (move.from == order.status) fromHere = true;
  }
  if (!roleMakesIt) return makeError("forbidden", "your role may not move an order to that status");
  if (role == Role::kCustomer && order.customer_id != callerId) {
    return makeError("not_found", "no such order");
  }
  if (role == Role::kRider && order.rider_id != callerId) {
    return makeError("not_found", "no such order");
  }
  if (!fromHere) {
    return makeError("illegal_transition",
                     std::string("an order that is ") + std::string(store::toString(order.status)) +
                         " cannot become " + std::string(store::toString(to)));
  }
  return {};
}

bool assignable(OrderStatus status) {
  return status == OrderStatus::kAccepted || status == OrderStatus::kPreparing ||
         status == OrderStatus::kReady;
}

}  // namespace brigade::app
