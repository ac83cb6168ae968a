#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The change stream: one entry per insert, update or delete of an order, a menu item or a
// menu category, written by the database itself in the same transaction (docs/STORE.md).
namespace brigade::store {

inline constexpr std::string_view kOrders = "orders";
inline constexpr std::string_view kMenuItems = "menu_items";
inline constexpr std::string_view kMenuCategories = "menu_categories";
inline constexpr std::string_view kRestaurant = "restaurant";  // one record, id 1

enum class ChangeOp { kInsert, kUpdate, kDelete };
std::string_view toString(ChangeOp op);
std::optional<ChangeOp> parseChangeOp(std::string_view text);

struct Change {
  int64_t seq = 0;  // strictly increasing in commit order, contiguous, never reused
  std::string collection;
  ChangeOp op = ChangeOp::kInsert;
  int64_t record_id = 0;
  std::string document_json;     // the record after the change (before it, for deletes)
  boost::json::object document;  // the same, parsed once for every subscriber
  std::string at;
  // Orders only: the rider the order was just taken from (unassigned or reassigned).
  std::optional<int64_t> previous_rider_id;
};

// Changes are immutable once read and shared by every subscriber that receives them.
using ChangePtr = std::shared_ptr<const Change>;

inline constexpr size_t kMaxReadLimit = 1000;

// Whose changes a read returns (PRODUCT.md, "Visibility of changes"). Backends answer it
// from indexes, so a read costs about what the audience may see, not the whole stream.
struct ChangeAudience {
  enum class Kind {
    kAll,       // every change (admins)
    kCustomer,  // the menu, and the order changes whose document has customer_id == user_id
    kRider,     // the menu, and the order changes whose document has rider_id == user_id or
                // whose previous_rider_id is user_id
  };
  Kind kind = Kind::kAll;
  int64_t user_id = 0;

  static ChangeAudience all() { return {}; }
  static ChangeAudience customer(int64_t id) { return {Kind::kCustomer, id}; }
  static ChangeAudience rider(int64_t id) { return {Kind::kRider, id}; }
};

struct ChangePage {
  std::vector<ChangePtr> changes;  // oldest first
  std::string epoch;
  // Where the next page starts: the audience has nothing unread at or below it. When the
  // page is full, the seq of its last change; otherwise the stream head read in the same
  // snapshot (0: nothing yet), even when the audience saw none of the changes below it.
  int64_t last_seq = 0;
  bool at_head = false;  // last_seq is the head: a caller catching up is done (when read)
};

// Why a subscriber must reload its state instead of being given a replay.
inline constexpr std::string_view kResyncEpochMismatch = "epoch_mismatch";
inline constexpr std::string_view kResyncHistoryLost = "history_lost";
inline constexpr std::string_view kResyncOffsetAhead = "offset_ahead";

enum class StreamEventKind {
  kChange,  // `change` is set
  kReady,   // replay (or resync) done: every later event is live; `last_seq`, `epoch` set
  kResync,  // `reason` set; the subscription carries on live from the head (a kReady follows)
};

struct StreamEvent {
  StreamEventKind kind = StreamEventKind::kChange;
  ChangePtr change;
  int64_t last_seq = 0;
  std::string epoch;
  std::string reason;
};

using ChangeFilter = std::function<bool(const Change&)>;
using StreamCallback = std::function<void(const StreamEvent&)>;
using SubscriptionId = uint64_t;

struct SubscribeOptions {
  // Replay every change after this seq first; nullopt: live changes only. 0: from the start.
  std::optional<int64_t> after_seq;
  // The epoch the caller's seq came from; a different one gives kResync(epoch_mismatch).
  std::optional<std::string> epoch;
  ChangeFilter filter;  // empty: everything
};

// Builds a Change from one row of a changes table (parses the document once).
ChangePtr makeChange(int64_t seq, std::string collection, std::string_view op, int64_t record_id,
                     std::string document_json, std::string at,
                     std::optional<int64_t> previous_rider_id = std::nullopt);

}  // namespace brigade::store
