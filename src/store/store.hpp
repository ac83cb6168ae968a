#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/histogram.hpp"
#include "store/change.hpp"
#include "store/timestamp.hpp"
#include "store/types.hpp"

namespace brigade::store {

// Thrown only while opening a store (corrupt, locked, read-only or newer-schema file,
// failed migration). The message is meant for an operator; the file is left untouched.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::chrono::hours kDefaultRetention{24 * 7};
inline constexpr std::chrono::hours kIdempotencyTtl{24};
// How many times a write that lost a race to another writer (and named no version) runs.
inline constexpr int kMaxRaceAttempts = 5;
inline constexpr int64_t kRetentionBatch = 500;  // rows removed per retention transaction

// Options every backend understands.
struct StoreOptions {
  std::chrono::seconds retention = kDefaultRetention;  // age after which changes are removed
  // How often the background retention pass runs (each pass removes small batches).
  std::chrono::seconds retention_interval{60};
  // Source of "now" for timestamps the store writes, the idempotency TTL and retention;
  // tests move it forward instead of sleeping.
  WallClock clock = [] { return SystemClock::now(); };
};

struct PurgeReport {
  int64_t changes_removed = 0;
  int64_t idempotency_keys_removed = 0;
};

struct StoreStats {
  uint64_t writes = 0;         // write operations committed
  uint64_t failed_writes = 0;  // write operations that returned an error
  uint64_t batches = 0;        // transactions committed for them (group commit: fewer)
  uint64_t largest_batch = 0;
  uint64_t split_batches = 0;                // batches whose COMMIT failed, retried write by write
  uint64_t redone_batches = 0;               // batches run again with savepoints (a write failed)
  uint64_t writer_wakeups = 0;               // times writer threads woke (work, periodic, stop)
  AtomicHistogram::Snapshot commit_seconds;  // each batch's transaction, BEGIN to COMMIT
  AtomicHistogram::Snapshot batch_size;      // writes per committed batch
};

// All of Brigade's persistence. No SQL exists outside src/store.
//
// Threading contract (docs/STORE.md): every method returns at once and never touches the
// disk on the caller's thread. Writes run on the store's single writer thread, batched
// with other writes into one transaction (group commit); their callback runs on that
// thread after the batch is durable. Reads run on a small reader pool and call back on a
// reader thread. Change-stream callbacks run on the store's stream thread, one at a time,
// in seq order. Callbacks must be quick and must not block: post the result to your own
// event loop. They may call the store again (that only enqueues work).
//
// Destroying a store commits and acknowledges every write already queued and answers
// every queued read; calls made after that get errc::kClosed.
//
// Errors use the codes in store/errors.hpp.
class Store {
 public:
  virtual ~Store() = default;

  // Users and tokens.
  virtual void createUser(NewUser user, Callback<User> done) = 0;
  virtual void findUserByEmail(std::string email, Callback<User> done) = 0;  // case-insensitive
  virtual void findUserById(int64_t id, Callback<User> done) = 0;
  virtual void setUserRole(int64_t id, Role role, Callback<User> done) = 0;
  // A new password hash; every token of the user is revoked in the same transaction.
  virtual void setUserPassword(int64_t id, std::string password_hash, Callback<User> done) = 0;
  virtual void countUsers(Role role, Callback<int64_t> done) = 0;
  virtual void createToken(NewToken token, Callback<Token> done) = 0;
  // The token and its user, in one read (every uncached REST call asks); kNotFound when
  // unknown, revoked or expired.
  virtual void findActiveToken(std::string hash, Callback<ActiveToken> done) = 0;
  virtual void revokeToken(std::string hash, Callback<void> done) = 0;
  virtual void revokeUserTokens(int64_t user_id, Callback<int64_t> done) = 0;  // count revoked

  // Menu. Every change adds 1 to the record's version; expected_version makes it a
  // compare-and-set (kVersionConflict when stale).
  virtual void listMenu(Callback<Menu> done) = 0;
  virtual void getCategory(int64_t id, Callback<MenuCategory> done) = 0;
  virtual void createCategory(NewMenuCategory category, Callback<MenuCategory> done) = 0;
  virtual void updateCategory(int64_t id, MenuCategoryPatch patch,
                              std::optional<int64_t> expected_version,
                              Callback<MenuCategory> done) = 0;
  // kCategoryNotEmpty while it still has items.
  virtual void deleteCategory(int64_t id, Callback<void> done) = 0;
  virtual void getMenuItem(int64_t id, Callback<MenuItem> done) = 0;
  virtual void createMenuItem(NewMenuItem item, Callback<MenuItem> done) = 0;
  virtual void updateMenuItem(int64_t id, MenuItemPatch patch,
                              std::optional<int64_t> expected_version, Callback<MenuItem> done) = 0;
  virtual void deleteMenuItem(int64_t id, Callback<void> done) = 0;

  // Orders. createOrder prices the lines from the menu inside the write transaction
  // (kUnknownItem / kItemUnavailable, message prefixed with the field, e.g. "items[2]")
  // and honours the idempotency key (kIdempotencyKeyReused on a different body).
  virtual void createOrder(NewOrder order, Callback<OrderCreated> done) = 0;
  virtual void getOrder(int64_t id, Callback<Order> done) = 0;
  virtual void listOrders(OrderQuery query, Callback<std::vector<Order>> done) = 0;
  virtual void updateOrder(OrderUpdate update, Callback<Order> done) = 0;
  virtual void orderStats(std::string from, std::string to, Callback<OrderStats> done) = 0;
  // Orders created in [from, to), newest first, at most kMaxTimedOrders.
  virtual void orderTimings(std::string from, std::string to,
                            Callback<std::vector<OrderTiming>> done) = 0;

  // The restaurant's settings (one record, created with the schema as "{}").
  virtual void getRestaurant(Callback<Restaurant> done) = 0;
  // Replaces the settings (a JSON object); kVersionConflict when expected_version is stale.
  virtual void updateRestaurant(std::string settings, std::optional<int64_t> expected_version,
                                Callback<Restaurant> done) = 0;

  // Riders (users whose role is rider).
  virtual void setRiderOnline(int64_t rider_id, bool online, Callback<Rider> done) = 0;
  virtual void setRiderLocation(int64_t rider_id, double lat, double lng,
                                Callback<Location> done) = 0;
  virtual void getRider(int64_t rider_id, Callback<Rider> done) = 0;
  virtual void listRiders(Callback<std::vector<Rider>> done) = 0;

  // The change stream.
  // The stream's identity: a seq only means something with it. It can change while the
  // store runs (PostgreSQL: the database was restored or replaced, seen at a reconnect);
  // subscribers are then told kResync(epoch_mismatch).
  virtual std::string epoch() const = 0;
  virtual int64_t headSeq() const = 0;  // newest seq the stream thread has delivered
  // Up to min(limit, kMaxReadLimit) changes after after_seq that `audience` may see, oldest
  // first, read in one snapshot with the head (ChangePage::last_seq says where the next page
  // starts); kHistoryLost when some changes after after_seq were already removed by
  // retention (whoever they were for). The cost follows the audience's changes, not the
  // stream's.
  virtual void readChanges(int64_t after_seq, size_t limit, ChangeAudience audience,
                           Callback<ChangePage> done) = 0;
  // Every change (the admins' audience).
  void readChanges(int64_t after_seq, size_t limit, Callback<ChangePage> done) {
    readChanges(after_seq, limit, ChangeAudience::all(), std::move(done));
  }
  virtual SubscriptionId subscribe(SubscribeOptions options, StreamCallback callback) = 0;
  virtual void unsubscribe(SubscriptionId id) = 0;

  // Signals to the other nodes sharing this database (store/signals.hpp): at most once,
  // never to this node itself. A backend without other nodes (SQLite) drops them. The
  // handlers run on a store thread and must be quick; set them before serving.
  virtual void publishSignal(std::string payload) { (void)payload; }
  virtual void onSignals(std::function<void(const std::string&)> on_signal,
                         std::function<void()> on_missed) {
    (void)on_signal;
    (void)on_missed;
  }

  // Whether the database answered the stream thread's last look (it looks every poll
  // interval): false while a PostgreSQL server is down. SQLite is always reachable.
  virtual bool reachable() const { return true; }

  // Completes once every write queued before it has committed and been answered: a
  // shutdown waits on it so that in-flight requests get their answers.
  virtual void flush(Callback<void> done) = 0;

  // Runs retention now, to completion (the background pass does the same in small steps).
  virtual void purgeExpired(Callback<PurgeReport> done) = 0;
  virtual StoreStats stats() const = 0;
};

}  // namespace brigade::store
