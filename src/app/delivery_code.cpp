#include "app/delivery_code.hpp"

#include <sodium.h>

#include <string_view>

namespace brigade::app {

std::string newDeliveryCode() {
  std::string code(kDeliveryCodeDigits, '0');
  for (auto& digit : code) digit = static_cast<char>('0' + randombytes_uniform(10));
  return code;
}

void hideFromRider(boost::json::object& order) {
  if (auto* code = order.if_contains("delivery_code")) *code = nullptr;
}

Result<void> checkDeliveryProof(const store::Order& order, const Caller& caller,
                                const std::optional<std::string>& code, bool codeRequired,
                                bool hasReason) {
  if (caller.role == store::Role::kAdmin) {
    if (!hasReason) {
      return makeError("reason_required",
                       "staff confirming a delivery say why (the customer's code was not used)");
    }
    return {};
  }
  if (!order.delivery_code) return {};  // an order from before codes
  if (!code && !codeRequired) return {};
  if (order.code_attempts >= kMaxDeliveryCodeAttempts) {
    return makeError(kCodeLocked,
                     "too many wrong codes: ask the restaurant to confirm this delivery");
  }
  if (!code) {
    return makeError(kCodeRequired, "code: ask the customer for the 4-digit delivery code");
  }
  // Compared in constant time: the answer's timing tells nothing about the digits.
  if (code->size() != order.delivery_code->size() ||
      sodium_memcmp(code->data(), order.delivery_code->data(), code->size()) != 0) {
    const int64_t left = kMaxDeliveryCodeAttempts - order.code_attempts - 1;
    return makeError(kWrongCode, "code: that is not this order's delivery code (" +
                                     std::to_string(left) + (left == 1 ? " try" : " tries") +
                                     " left)");
  }
  return {};
}

}  // namespace brigade::app
