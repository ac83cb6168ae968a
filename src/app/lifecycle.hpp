#pragma once

#include <optional>
#include <string>

#include "core/result.hpp"
#include "store/types.hpp"

namespace brigade::app {

// The order life cycle, enforced in one place: a table of the moves each role may
// make (../shared/docs/PRODUCT.md, "Order life cycle").
//
//   pending ─accept─▶ accepted ─▶ preparing ─▶ ready ─pick up─▶ picked_up ─▶ delivered
//      ├─reject─▶ rejected (admin, with reason)
//      └─cancel─▶ cancelled (customer while pending; admin before picked_up)
struct Move {
  store::OrderStatus from;
  store::OrderStatus to;
  store::Role role;
};

// Why a move is refused, checked in this order:
//   "forbidden"          (403) the role never makes a move to `to`;
//   "not_found"          (404) the order is not the caller's to move (not their
//                              order, not their delivery) — they may not even see it;
//   "illegal_transition" (409) the role could, but not from the current status.
// Ok when the move is allowed. Runs inside the store's write transaction.
Result<void> checkMove(const store::Order& order, store::OrderStatus to, store::Role role,
                       int64_t callerId);

// Statuses from which an admin may assign a rider.
bool assignable(store::OrderStatus status);

}  // namespace brigade::app
