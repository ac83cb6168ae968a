#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

// Records the Store reads and writes. Money is integer cents, timestamps are RFC 3339 UTC
// strings (store/timestamp.hpp), ids are integers chosen by the database.
namespace brigade::store {

// Every Store operation completes through one of these, on a store thread (store/store.hpp).
template <typename T>
using Callback = std::function<void(Result<T>)>;

enum class Role { kAdmin, kCustomer, kRider };
std::string_view toString(Role role);
std::optional<Role> parseRole(std::string_view text);

enum class OrderStatus {
  kPending,
  kAccepted,
  kPreparing,
  kReady,
  kPickedUp,
  kDelivered,
  kRejected,
  kCancelled,
};
std::string_view toString(OrderStatus status);
std::optional<OrderStatus> parseOrderStatus(std::string_view text);

struct User {
  int64_t id = 0;
  std::string email;
  std::string name;
  Role role = Role::kCustomer;
  std::string password_hash;
  std::string created_at;
  int64_t version = 0;
};

struct NewUser {
  std::string email;  // unique case-insensitively (errc::kEmailTaken)
  std::string name;
  Role role = Role::kCustomer;
  std::string password_hash;
};

// Bearer tokens are stored by hash only; the plain token never reaches the database.
struct Token {
  std::string hash;
  int64_t user_id = 0;
  std::string created_at;
  std::string expires_at;
};

// A token that is neither revoked nor expired, with the user holding it.
struct ActiveToken {
  Token token;
  User user;
};

struct NewToken {
  std::string hash;
  int64_t user_id = 0;
  std::chrono::seconds ttl{std::chrono::hours(24 * 30)};
};

struct MenuCategory {
  int64_t id = 0;
  std::string name;
  int64_t position = 0;
  int64_t version = 0;
  std::string created_at;
  std::string updated_at;
};

struct NewMenuCategory {
  std::string name;
  std::optional<int64_t> position;  // default: after the last category
};

struct MenuCategoryPatch {
  std::optional<std::string> name;
  std::optional<int64_t> position;
};

// A choice a customer makes on an item ("Large", "No onion"), inside a group with how many
// may be chosen (min ≥ 1: required). Ids are unique across every item's groups and options.
struct MenuOption {
  int64_t id = 0;
  std::string name;
  int64_t price_cents = 0;  // added to the item's price
  bool available = true;
};

struct OptionGroup {
  int64_t id = 0;
  std::string name;
  int64_t min = 0;
  int64_t max = 1;
  std::vector<MenuOption> options;
};

// A group or option as a write gives it: an id keeps that existing one (it must belong to the
// item), none makes a new one.
struct NewMenuOption {
  std::optional<int64_t> id;
  std::string name;
  int64_t price_cents = 0;
  bool available = true;
};

struct NewOptionGroup {
  std::optional<int64_t> id;
  std::string name;
  int64_t min = 0;
  int64_t max = 1;
  std::vector<NewMenuOption> options;
};

struct MenuItem {
  int64_t id = 0;
  int64_t category_id = 0;
  std::string name;
  std::string description;
  int64_t price_cents = 0;
  bool available = true;
  int64_t position = 0;
  int64_t version = 0;
  std::string created_at;
  std::string updated_at;
  std::vector<OptionGroup> option_groups;
  std::vector<std::string> allergens;  // the app's names (the 14 EU allergens)
};

struct NewMenuItem {
  int64_t category_id = 0;
  std::string name;
  std::string description;
  int64_t price_cents = 0;
  bool available = true;
  std::optional<int64_t> position;  // default: after the last item of its category
  std::vector<NewOptionGroup> option_groups;
  std::vector<std::string> allergens;
};

struct MenuItemPatch {
  std::optional<int64_t> category_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<int64_t> price_cents;
  std::optional<bool> available;
  std::optional<int64_t> position;
  std::optional<std::vector<NewOptionGroup>> option_groups;  // replaces them all
  std::optional<std::vector<std::string>> allergens;
};

struct MenuSection {
  MenuCategory category;
  std::vector<MenuItem> items;  // by position, then id
};

struct Menu {
  std::vector<MenuSection> categories;  // by position, then id
};

// An option as it was when ordered (names and prices frozen with the order).
struct ChosenOption {
  int64_t id = 0;
  std::string group;
  std::string name;
  int64_t price_cents = 0;
};

struct OrderLine {
  int64_t item_id = 0;
  std::string name;              // copied from the menu at order time
  int64_t unit_price_cents = 0;  // the item's price plus its chosen options'
  int64_t quantity = 0;
  std::string notes;
  std::vector<ChosenOption> options;
};

struct HistoryEntry {
  OrderStatus status = OrderStatus::kPending;
  std::string at;
  std::optional<int64_t> by;  // null when another program wrote the row
};

struct Delivery {
  std::string address;
  std::optional<double> lat;
  std::optional<double> lng;
  std::optional<int64_t> distance_m;  // from the restaurant, when both points are known
};

// How an order is paid, and whether it is. Both kinds are settled on delivery; a payment
// provider (an online kind, paid at checkout) would add its own (docs/API.md, "Payment").
inline constexpr std::string_view kPaymentCash = "cash";
inline constexpr std::string_view kPaymentCard = "card";
inline constexpr std::string_view kUnpaid = "unpaid";
inline constexpr std::string_view kPaid = "paid";
struct Payment {
  std::string method{kPaymentCash};
  std::string status{kUnpaid};
};

// What the restaurant charges for a delivery, decided inside the order's transaction.
struct DeliveryPrice {
  int64_t fee_cents = 0;
  std::optional<int64_t> distance_m;
};

struct Order {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string customer_name;  // the customer's name now (not a copy kept with the order)
  std::vector<OrderLine> items;
  int64_t subtotal_cents = 0;
  int64_t delivery_fee_cents = 0;
  int64_t total_cents = 0;
  OrderStatus status = OrderStatus::kPending;
  std::optional<std::string> status_reason;
  std::optional<int64_t> rider_id;
  std::optional<int64_t> prep_minutes;
  Delivery delivery;
  std::string notes;
  std::string created_at;
  std::string updated_at;
  int64_t version = 0;
  std::vector<HistoryEntry> history;
  Payment payment;
  // Proof of delivery: the customer reads it to the rider (null on orders from before it).
  // Never shown to riders (app/views.hpp).
  std::optional<std::string> delivery_code;
  int64_t code_attempts = 0;  // wrong codes entered
  // The rider's offer (app/rider_offers.hpp): while offer_expires_at is set, rider_id is
  // offered the order, not yet committed to it; accepting clears it and sets
  // rider_accepted_at. An assignment without an expiry (older orders) is not an offer.
  std::optional<std::string> offer_expires_at;
  std::optional<std::string> rider_accepted_at;
  std::vector<int64_t> declined_rider_ids;  // riders who declined (or let expire) this order
};

// Limits the store enforces itself (the REST layer validates first and reports fields).
inline constexpr size_t kMaxOrderLines = 50;
inline constexpr int64_t kMaxLineQuantity = 99;
inline constexpr size_t kMaxOptionGroups = 10;  // per item
inline constexpr size_t kMaxOptionsPerGroup = 20;
inline constexpr size_t kMaxOptionsPerLine = kMaxOptionGroups * kMaxOptionsPerGroup;

struct NewOrderLine {
  int64_t item_id = 0;
  int64_t quantity = 1;
  std::string notes;
  std::vector<int64_t> options;  // option ids of the item
};

struct IdempotencyRequest {
  std::string key;           // the Idempotency-Key header, scoped to the customer
  std::string request_hash;  // hash of the canonical request body
};

// The restaurant's settings: one record, a JSON object the app validates and interprets
// (app/restaurant.hpp); the store keeps it whole, versions it and streams its changes.
struct Restaurant {
  std::string settings = "{}";
  int64_t version = 0;
  std::string updated_at;
};

// Counts the orders created at or after `since`, stopping at `cap` (the cost is bounded by
// the cap, not by the day's orders). Valid only during the admission check that gets it.
using RecentOrders = std::function<Result<int64_t>(const std::string& since, int64_t cap)>;

struct NewOrder {
  int64_t customer_id = 0;
  std::vector<NewOrderLine> items;
  Delivery delivery;
  std::string notes;
  int64_t delivery_fee_cents = 299;
  std::optional<IdempotencyRequest> idempotency;
  std::string payment_method{kPaymentCash};
  std::string delivery_code;  // empty: none
  // Runs inside the order's write transaction, after an idempotent repeat was answered and
  // before anything is written, with the restaurant as that transaction sees it: an error
  // refuses the order, passed through unchanged (closed, paused, kitchen full).
  std::function<Result<void>(const Restaurant&, const RecentOrders&)> admit;
  // Runs in the same transaction once the lines are priced, with the subtotal: the delivery
  // fee and distance, or an error refusing the order (outside the area, under the minimum).
  // Unset: delivery_fee_cents, no distance.
  std::function<Result<DeliveryPrice>(const Restaurant&, int64_t subtotal_cents)> price;
};

struct OrderCreated {
  Order order;
  bool replayed = false;  // true: an earlier request with the same idempotency key made it
};

// A compare-and-set update of one order. Outer optional: "change this field"; inner
// optional: the new value or null. `check` runs inside the write transaction on the
// current order, so a life-cycle rule and the write are atomic; an error it returns is
// passed through unchanged and nothing is written.
struct OrderUpdate {
  int64_t id = 0;
  std::optional<int64_t> expected_version;  // errc::kVersionConflict when stale
  std::function<Result<void>(const Order&)> check;
  std::optional<OrderStatus> status;  // a change appends {status, at, by} to history
  std::optional<int64_t> by;          // acting user, recorded in history
  std::optional<std::optional<std::string>> status_reason;
  std::optional<std::optional<int64_t>> rider_id;
  std::optional<std::optional<int64_t>> prep_minutes;
  std::optional<std::string> payment_status;  // kUnpaid or kPaid
  bool count_wrong_code = false;              // code_attempts + 1, on the order as it is now
  std::optional<std::optional<std::string>> offer_expires_at;
  std::optional<std::optional<std::string>> rider_accepted_at;
  std::optional<int64_t> declined_by;  // added to declined_rider_ids
  // The rider takes the order: rider_accepted_at set (kept if it already was), the offer's
  // end cleared.
  bool accept_offer = false;
};

inline constexpr int64_t kMaxOrderListLimit = 200;

struct OrderQuery {
  std::optional<int64_t> customer_id;
  std::optional<int64_t> rider_id;
  std::optional<OrderStatus> status;
  std::vector<OrderStatus> statuses;          // when not empty: only orders in one of these
  std::optional<int64_t> before_id;           // only orders with a smaller id (older)
  std::optional<std::string> created_from;    // only orders created at or after this time
  std::optional<std::string> created_before;  // only orders created before this time
  // Only orders whose rider's offer ran out before this time, not accepted.
  std::optional<std::string> offer_expired_before;
  bool unassigned = false;    // only orders without a rider
  bool oldest_first = false;  // default: newest first
  int64_t limit = 50;         // clamped to 1..kMaxOrderListLimit
};

// Over orders created in [from, to). Revenue counts every order not rejected or cancelled.
struct OrderStats {
  int64_t orders = 0;
  int64_t revenue_cents = 0;
  std::optional<double> avg_prep_minutes;
  std::map<std::string, int64_t> by_status;
};

// When an order reached the statuses its measured times are made of (its first entry of
// each), for the figures of a day or a week.
struct OrderTiming {
  int64_t id = 0;
  std::string created_at;
  std::optional<std::string> accepted_at;
  std::optional<std::string> ready_at;
  std::optional<std::string> delivered_at;
  std::vector<std::pair<int64_t, std::string>> items;  // item id, name as ordered
};
// Orders a timing read returns at most (the oldest beyond it are left out).
inline constexpr int64_t kMaxTimedOrders = 20000;

struct Location {
  double lat = 0;
  double lng = 0;
  std::string at;
};

struct Rider {
  int64_t id = 0;
  std::string name;
  std::string email;
  bool online = false;
  std::optional<Location> last_location;
  std::vector<int64_t> active_order_ids;  // assigned and not yet delivered/cancelled
};

}  // namespace brigade::store
