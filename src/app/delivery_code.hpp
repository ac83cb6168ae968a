#pragma once

// Proof of delivery (docs/API.md, "Proof of delivery"): every order gets a 4-digit code that
// its customer and the staff see and its rider never does; where the restaurant requires it
// (delivery_code_required), the rider marks the order delivered only with that code. Wrong
// codes are counted on the order; after kMaxDeliveryCodeAttempts the rider is refused and
// the staff confirm the delivery with a reason instead.

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "app/api.hpp"
#include "store/types.hpp"

namespace brigade::app {

inline constexpr size_t kDeliveryCodeDigits = 4;
inline constexpr int64_t kMaxDeliveryCodeAttempts = 5;

inline constexpr const char* kWrongCode = "wrong_code";
inline constexpr const char* kCodeRequired = "code_required";
inline constexpr const char* kCodeLocked = "code_locked";

// A new code: kDeliveryCodeDigits decimal digits, uniformly random.
std::string newDeliveryCode();

// What a rider may see of an order document: everything but the code.
void hideFromRider(boost::json::object& order);

// Whether `caller` may mark `order` delivered with this proof (the life cycle is checked
// apart): a rider with the right code (or none needed), staff with a reason.
Result<void> checkDeliveryProof(const store::Order& order, const Caller& caller,
                                const std::optional<std::string>& code, bool codeRequired,
                                bool hasReason);

}  // namespace brigade::app
