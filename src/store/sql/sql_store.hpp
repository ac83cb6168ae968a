#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/change_hub.hpp"
#include "store/signals.hpp"
#include "store/sql/connection.hpp"
#include "store/sql/dialect.hpp"
#include "store/sql/reader_pool.hpp"
#include "store/sql/writer.hpp"
#include "store/store.hpp"

namespace brigade::store::sql {

// What a SQL backend hands the shared store once its database is open and migrated.
struct Backend {
  std::unique_ptr<Dialect> dialect;
  // One per writer thread. SQLite: one (it has one write lock). PostgreSQL: several, each
  // with its own group commit, so that round trips to the server overlap; their commits
  // are ordered by the database (seqs are numbered at commit).
  std::vector<std::unique_ptr<Connection>> writers;
  std::vector<std::unique_ptr<Connection>> readers;
  std::unique_ptr<ChangeSource> changes;  // read by the stream thread alone
  std::string epoch;
  std::chrono::milliseconds poll_interval{25};
  WriterOptions writer_options;
  StoreOptions store;
  // Starts whatever else the backend runs beside the store (SQLite's checkpointer,
  // PostgreSQL's listener) once the stream exists; `wake(head)` makes the stream thread look
  // for new changes at once, unless it has delivered `head` already (kUnknownHead: look
  // anyway). Destroyed after the store's own threads have stopped.
  static constexpr int64_t kUnknownHead = INT64_MAX;
  std::function<std::shared_ptr<void>(std::function<void(int64_t head)> wake)> start_companion;
  // Whether a commit by this process wakes the stream thread at once. PostgreSQL: no, the
  // commit's notification wakes it, carrying the changes (no read back).
  bool wake_stream_on_commit = true;
  // Signals between nodes (store/signals.hpp): where the backend delivers those it
  // receives, and how to send one. Both empty on a backend without other nodes.
  std::shared_ptr<SignalBus> signals;
  std::function<void(std::string)> publish_signal;
};

// Every domain operation of Brigade's Store, written once over sql::Connection, on the
// shared machinery: one writer thread with group commit (sql::Writer), a reader pool and
// the change hub. The operations live in users.cpp, menu.cpp, orders.cpp, restaurant.cpp,
// riders.cpp and stream.cpp; the rows they read are in rows.hpp.
class SqlStore final : public Store {
 public:
  explicit SqlStore(Backend backend);
  ~SqlStore() override;

  void createUser(NewUser user, Callback<User> done) override;
  void findUserByEmail(std::string email, Callback<User> done) override;
  void findUserById(int64_t id, Callback<User> done) override;
  void setUserRole(int64_t id, Role role, Callback<User> done) override;
  void setUserPassword(int64_t id, std::string password_hash, Callback<User> done) override;
  void countUsers(Role role, Callback<int64_t> done) override;
  void createToken(NewToken token, Callback<Token> done) override;
  void findActiveToken(std::string hash, Callback<ActiveToken> done) override;
  void revokeToken(std::string hash, Callback<void> done) override;
  void revokeUserTokens(int64_t user_id, Callback<int64_t> done) override;

  void listMenu(Callback<Menu> done) override;
  void getCategory(int64_t id, Callback<MenuCategory> done) override;
  void createCategory(NewMenuCategory category, Callback<MenuCategory> done) override;
  void updateCategory(int64_t id, MenuCategoryPatch patch, std::optional<int64_t> expected_version,
                      Callback<MenuCategory> done) override;
  void deleteCategory(int64_t id, Callback<void> done) override;
  void getMenuItem(int64_t id, Callback<MenuItem> done) override;
  void createMenuItem(NewMenuItem item, Callback<MenuItem> done) override;
  void updateMenuItem(int64_t id, MenuItemPatch patch, std::optional<int64_t> expected_version,
                      Callback<MenuItem> done) override;
  void deleteMenuItem(int64_t id, Callback<void> done) override;

  void createOrder(NewOrder order, Callback<OrderCreated> done) override;
  void getOrder(int64_t id, Callback<Order> done) override;
  void listOrders(OrderQuery query, Callback<std::vector<Order>> done) override;
  void updateOrder(OrderUpdate update, Callback<Order> done) override;
  void orderStats(std::string from, std::string to, Callback<OrderStats> done) override;
  void orderTimings(std::string from, std::string to,
                    Callback<std::vector<OrderTiming>> done) override;

  void getRestaurant(Callback<Restaurant> done) override;
  void updateRestaurant(std::string settings, std::optional<int64_t> expected_version,
                        Callback<Restaurant> done) override;

  void setRiderOnline(int64_t rider_id, bool online, Callback<Rider> done) override;
  void setRiderLocation(int64_t rider_id, double lat, double lng, Callback<Location> done) override;
  void getRider(int64_t rider_id, Callback<Rider> done) override;
  void listRiders(Callback<std::vector<Rider>> done) override;

  std::string epoch() const override { return hub_->epoch(); }
  int64_t headSeq() const override { return hub_->head(); }
  using Store::readChanges;
  void readChanges(int64_t after_seq, size_t limit, ChangeAudience audience,
                   Callback<ChangePage> done) override;
  SubscriptionId subscribe(SubscribeOptions options, StreamCallback callback) override;
  void unsubscribe(SubscriptionId id) override;
  void purgeExpired(Callback<PurgeReport> done) override;
  void flush(Callback<void> done) override;
  void publishSignal(std::string payload) override {
    if (publish_signal_) publish_signal_(std::move(payload));
  }
  void onSignals(std::function<void(const std::string&)> on_signal,
                 std::function<void()> on_missed) override {
    if (signals_) signals_->subscribe(std::move(on_signal), std::move(on_missed));
  }
  StoreStats stats() const override;
  bool reachable() const override { return hub_->reachable(); }

 private:
  template <typename T, typename F>
  void write(F fn, Callback<T> done);
  template <typename T, typename F>
  void writeAttempt(std::shared_ptr<F> fn, Callback<T> done, int attempt);
  template <typename T, typename F>
  void read(F fn, Callback<T> done);

  std::string now() const;
  Result<OrderCreated> insertOrder(Connection& c, const NewOrder& order);
  // The row of an Idempotency-Key's last use.
  struct IdempotencyUse {
    std::string request_hash;
    int64_t order_id = 0;
    std::string created_at;
  };
  struct MenuRow {
    std::string name;
    int64_t price = 0;
    bool available = false;
    std::string option_groups;
  };
  struct OrderContext {
    int64_t next_id = 0;
    std::map<int64_t, MenuRow> menu;           // the lines' items that exist, by id
    std::optional<std::string> customer_name;  // nullopt: no such user
    std::optional<Restaurant> restaurant;
    std::optional<IdempotencyUse> key_use;
  };
  Result<OrderContext> orderContext(Connection& c, const NewOrder& order);
  Result<std::optional<OrderCreated>> replayIdempotent(Connection& c, const NewOrder& order,
                                                       const IdempotencyUse& use,
                                                       SystemClock::time_point now);
  Result<std::optional<OrderCreated>> findIdempotent(Connection& c, const NewOrder& order,
                                                     SystemClock::time_point now);
  // One small retention transaction; true when more may remain.
  Result<bool> retentionStep(Connection& c, PurgeReport* report);

  StoreOptions o_;
  std::unique_ptr<Dialect> dialect_;
  std::unique_ptr<ChangeHub> hub_;
  std::unique_ptr<ReaderPool> readers_;
  std::vector<std::unique_ptr<Writer>> writers_;
  std::atomic<size_t> next_writer_{0};
  Writer& writer() { return *writers_[next_writer_++ % writers_.size()]; }
  std::shared_ptr<void> companion_;
  std::shared_ptr<SignalBus> signals_;
  std::function<void(std::string)> publish_signal_;
};

}  // namespace brigade::store::sql
