#include "store/types.hpp"

#include <array>
#include <utility>

namespace brigade::store {
namespace {

constexpr std::array<std::pair<Role, std::string_view>, 3> kRoles{{
    {Role::kAdmin, "admin"},
    {Role::kCustomer, "customer"},
    {Role::kRider, "rider"},
}};

constexpr std::array<std::pair<OrderStatus, std::string_view>, 8> kStatuses{{
    {OrderStatus::kPending, "pending"},
    {OrderStatus::kAccepted, "accepted"},
    {OrderStatus::kPreparing, "preparing"},
    {OrderStatus::kReady, "ready"},
    {OrderStatus::kPickedUp, "picked_up"},
    {OrderStatus::kDelivered, "delivered"},
    {OrderStatus::kRejected, "rejected"},
    {OrderStatus::kCancelled, "cancelled"},
}};

}  // namespace

std::string_view toString(Role role) {
  for (const auto& [r, s] : kRoles) {
    if (r == role) return s;
  }
  return "customer";
}

std::optional<Role> parseRole(std::string_view text) {
  for (const auto& [r, s] : kRoles) {
    if (s == text) return r;
  }
  return std::nullopt;
}

std::string_view toString(OrderStatus status) {
  for (const auto& [st, s] : kStatuses) {
    if (st == status) return s;
  }
  return "pending";
}

std::optional<OrderStatus> parseOrderStatus(std::string_view text) {
  for (const auto& [st, s] : kStatuses) {
    if (s == text) return st;
  }
  return std::nullopt;
}

}  // namespace brigade::store
