// What only the PostgreSQL backend can show: seqs gap-free and in commit order under
// concurrent writers on several nodes with rollbacks, writes by psql captured, bad URLs and
// foreign or newer databases refused, a lost connection answered with database_unavailable.
// Runs when BRIGADE_TEST_PG_URL names a server (CTest label `pg`); skipped otherwise.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <boost/json/serialize.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "store/documents.hpp"
#include "store/errors.hpp"
#include "store/postgres/placeholders.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/signals.hpp"
#include "unit/store/store_fixture.hpp"

namespace brigade::store::testing {
namespace {

using namespace std::chrono_literals;

TEST(PostgresPlaceholders, NumberedBareAndQuotedAreRewrittenAsSqliteNumbersThem) {
  auto r = postgres::rewritePlaceholders("SELECT ?, ?3, ?, '?', \"a?\" WHERE x = ?1");
  EXPECT_EQ(r.sql, "SELECT $1, $3, $4, '?', \"a?\" WHERE x = $1");
  EXPECT_EQ(r.params, 4);
  EXPECT_EQ(postgres::rewritePlaceholders("SELECT 'it''s ?' , ?").sql, "SELECT 'it''s ?' , $1");
  EXPECT_EQ(postgres::rewritePlaceholders("BEGIN").params, 0);
}

TEST(PostgresUrl, MalformedUrlsAreRefusedWithoutConnecting) {
  EXPECT_FALSE(postgres::checkUrl("mysql://x@y/z"));
  EXPECT_FALSE(postgres::checkUrl("postgres://user@host:notaport/db"));
  EXPECT_FALSE(postgres::checkUrl("postgres://[::1/db"));
  EXPECT_TRUE(postgres::checkUrl("postgres://brigade@127.0.0.1:5432/brigade"));
  EXPECT_TRUE(postgres::checkUrl("postgresql://u:p@h/d?sslmode=disable"));
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testPostgresUrl()) GTEST_SKIP() << "BRIGADE_TEST_PG_URL is not set";
    ASSERT_EQ(psql(testPostgresUrl(), "CREATE DATABASE " + postgresDatabaseName(dir_.path())), 0);
  }
  void TearDown() override {
    if (!testPostgresUrl()) return;
    (void)psql(testPostgresUrl(),
               "DROP DATABASE IF EXISTS " + postgresDatabaseName(dir_.path()) + " WITH (FORCE)");
  }

  std::string url() const { return postgresUrlFor(dir_.path()); }

  std::unique_ptr<Store> open() {
    postgres::PostgresOptions o;
    o.url = url();
    return postgres::openPostgresStore(std::move(o));
  }

  // Three stores on the database (three nodes), a customer and one menu item.
  struct ThreeNodes {
    std::vector<std::unique_ptr<Store>> nodes;
    User customer;
    MenuItem item;
  };
  ThreeNodes threeNodesWithAnItem() {
    ThreeNodes t;
    for (int i = 0; i < 3; ++i) t.nodes.push_back(open());
    t.customer = must<User>([&](auto done) {
      t.nodes[0]->createUser(NewUser{"c@example.com", "C", Role::kCustomer, "h"}, done);
    });
    auto cat = must<MenuCategory>([&](auto done) {
      t.nodes[0]->createCategory(NewMenuCategory{"Mains", {}}, done);
    });
    t.item = must<MenuItem>([&](auto done) {
      t.nodes[0]->createMenuItem(NewMenuItem{cat.id, "Soup", "", 900, true, {}}, done);
    });
    return t;
  }

  void expectRefused(const std::string& target, const std::string& needle) {
    postgres::PostgresOptions o;
    o.url = target;
    try {
      postgres::openPostgresStore(std::move(o));
      ADD_FAILURE() << "opened a database it should have refused";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    }
  }

  TempDir dir_;
};

// One libpq connection for a writer thread of the proof below.
class RawConnection {
 public:
  explicit RawConnection(const std::string& url) : c_(PQconnectdb(url.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c_));
  }
  ~RawConnection() { PQfinish(c_); }
  bool run(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
  }

 private:
  PGconn* c_;
};

// The issue's proof of the seq design: 32 writers spread over 3 nodes (each node a store
// of its own on the same database, as separate processes would be, plus direct writers as
// other programs are), 10% of the transactions rolled back after writing, and readers on
// every node that must never skip or reorder: each node's subscriber sees 1..head exactly
// once, in order, and the final table holds exactly the committed writes.
TEST_F(PostgresStoreTest, SeqsAreGapFreeAndInCommitOrderAcrossNodesWithRollbacks) {
  constexpr int kNodes = 3;
  constexpr int kWriters = 32;
  constexpr int kTransactionsPerWriter = 40;
  std::vector<std::unique_ptr<Store>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(open());
  // Some of the nodes' writes are orders, whose changes the writer inserts numbered.
  auto customer = must<User>([&](auto done) {
    nodes[0]->createUser(NewUser{"c@example.com", "C", Role::kCustomer, "h"}, done);
  });
  auto category = must<MenuCategory>([&](auto done) {
    nodes[0]->createCategory(NewMenuCategory{"setup", {}}, done);
  });
  auto item = must<MenuItem>([&](auto done) {
    nodes[0]->createMenuItem(NewMenuItem{category.id, "Soup", "", 900, true, {}}, done);
  });
  const size_t setup = readByAudience(*nodes[0], 0, kMaxReadLimit, ChangeAudience::all()).size();
  std::vector<std::shared_ptr<Collector>> seen;
  for (auto& node : nodes) {
    seen.push_back(std::make_shared<Collector>());
    SubscribeOptions options;
    options.after_seq = 0;
    node->subscribe(options, seen.back()->callback(seen.back()));
  }
  std::atomic<int> committed_rows{0};
  std::mutex names_mutex;
  std::set<std::string> committed_names, rolled_back_names;
  std::set<int64_t> committed_orders;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      if (w % 2 == 0) {
        // Through a node's store (group commit batches them into shared transactions).
        Store& node = *nodes[static_cast<size_t>(w) % kNodes];
        for (int t = 0; t < kTransactionsPerWriter; ++t) {
          if ((w + t) % 4 == 0) {
            NewOrder order;
            order.customer_id = customer.id;
            order.items = {{item.id, 1, ""}};
            auto r = await<OrderCreated>([&](auto done) { node.createOrder(order, done); });
            ASSERT_TRUE(r) << r.error().message;
            std::lock_guard lock(names_mutex);
            committed_orders.insert(r->order.id);
            ++committed_rows;
            continue;
          }
          const std::string name = "store-" + std::to_string(w) + "-" + std::to_string(t);
          auto r = await<MenuCategory>([&](auto done) {
            node.createCategory(NewMenuCategory{name, {}}, done);
          });
          ASSERT_TRUE(r) << r.error().message;
          std::lock_guard lock(names_mutex);
          committed_names.insert(name);
          ++committed_rows;
        }
      } else {
        // Directly, as another program: 1-3 rows per transaction, 10% rolled back.
        RawConnection c(postgresUrlFor(dir_.path()));
        for (int t = 0; t < kTransactionsPerWriter; ++t) {
          const int rows = 1 + static_cast<int>(rng() % 3);
          const bool rollback = rng() % 10 == 0;
          std::vector<std::string> names;
          ASSERT_TRUE(c.run("BEGIN"));
          for (int k = 0; k < rows; ++k) {
            names.push_back("raw-" + std::to_string(w) + "-" + std::to_string(t) + "-" +
                            std::to_string(k));
            ASSERT_TRUE(c.run("INSERT INTO menu_categories(name) VALUES ('" + names.back() + "')"));
            if (rng() % 4 == 0) std::this_thread::yield();
          }
          ASSERT_TRUE(c.run(rollback ? "ROLLBACK" : "COMMIT"));
          std::lock_guard lock(names_mutex);
          for (auto& n : names) (rollback ? rolled_back_names : committed_names).insert(n);
          if (!rollback) committed_rows += rows;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  const auto total = setup + static_cast<size_t>(committed_rows.load());
  ASSERT_FALSE(rolled_back_names.empty()) << "the proof needs rollbacks";
  ASSERT_FALSE(committed_orders.empty());

  committed_names.insert("setup");
  for (size_t n = 0; n < seen.size(); ++n) {
    ASSERT_TRUE(seen[n]->waitForChanges(total, 30s)) << "node " << n << " fell short";
    auto changes = seen[n]->changes();
    ASSERT_EQ(changes.size(), total) << "node " << n << " saw extra changes";
    std::set<std::string> names;
    std::set<int64_t> orders;
    for (size_t i = 0; i < changes.size(); ++i) {
      ASSERT_EQ(changes[i]->seq, static_cast<int64_t>(i + 1))
          << "node " << n << ": hole or reorder";
      if (changes[i]->collection == kOrders) {
        orders.insert(changes[i]->record_id);
      } else if (changes[i]->collection == kMenuCategories) {
        names.insert(std::string(changes[i]->document.at("name").as_string()));
      }
    }
    EXPECT_EQ(names, committed_names) << "node " << n;
    EXPECT_EQ(orders, committed_orders) << "node " << n;
  }
  // The table itself: 1..head, no hole, nothing rolled back.
  auto page = readByAudience(*nodes[0], 0, kMaxReadLimit, ChangeAudience::all());
  ASSERT_EQ(page.size(), total);
  for (size_t i = 0; i < page.size(); ++i) EXPECT_EQ(page[i]->seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ(nodes[1]->headSeq(), static_cast<int64_t>(total));
}

// The same Idempotency-Key sent to several nodes at once makes one order: the key is a
// primary key claimed inside the order's transaction, not a per-process map.
TEST_F(PostgresStoreTest, OneIdempotencyKeyOnSeveralNodesAtOnceMakesOneOrder) {
  auto [nodes, customer, item] = threeNodesWithAnItem();
  for (int round = 0; round < 10; ++round) {
    NewOrder order;
    order.customer_id = customer.id;
    order.items = {{item.id, 1, ""}};
    order.delivery = Delivery{"1 Main St", std::nullopt, std::nullopt};
    order.idempotency = IdempotencyRequest{"key-" + std::to_string(round), "hash"};
    std::vector<std::shared_ptr<std::promise<Result<OrderCreated>>>> promises;
    for (int i = 0; i < 12; ++i) {
      auto p = std::make_shared<std::promise<Result<OrderCreated>>>();
      promises.push_back(p);
      nodes[static_cast<size_t>(i) % nodes.size()]->createOrder(
          order, [p](Result<OrderCreated> r) { p->set_value(std::move(r)); });
    }
    std::set<int64_t> ids;
    int fresh = 0;
    for (auto& p : promises) {
      auto r = p->get_future().get();
      ASSERT_TRUE(r) << r.error().message;
      ids.insert(r->order.id);
      fresh += !r->replayed;
    }
    EXPECT_EQ(ids.size(), 1u) << "round " << round;
    EXPECT_EQ(fresh, 1) << "round " << round;
  }
  OrderQuery all;
  all.limit = kMaxOrderListLimit;
  auto orders = must<std::vector<Order>>([&](auto done) { nodes[1]->listOrders(all, done); });
  EXPECT_EQ(orders.size(), 10u);
}

// The same move of one order sent to several nodes at once: one wins, the others are told
// the version changed, and the order has one history entry for it (a write that lost the
// race is rolled back whole: its history entry went before the row's conditional update).
// The same for a setting written from two nodes.
TEST_F(PostgresStoreTest, ConcurrentUpdatesOfOneRecordFromSeveralNodesApplyOnce) {
  auto [nodes, customer, item] = threeNodesWithAnItem();
  for (int round = 0; round < 10; ++round) {
    NewOrder order;
    order.customer_id = customer.id;
    order.items = {{item.id, 1, ""}};
    order.delivery = Delivery{"1 Main St", std::nullopt, std::nullopt};
    auto placed = must<OrderCreated>([&](auto done) { nodes[0]->createOrder(order, done); });
    std::vector<std::shared_ptr<std::promise<Result<Order>>>> promises;
    for (size_t i = 0; i < 6; ++i) {
      auto p = std::make_shared<std::promise<Result<Order>>>();
      promises.push_back(p);
      OrderUpdate reject;
      reject.id = placed.order.id;
      reject.expected_version = placed.order.version;
      reject.status = OrderStatus::kRejected;
      reject.status_reason = std::optional<std::string>("not_answered");
      nodes[i % nodes.size()]->updateOrder(reject,
                                           [p](Result<Order> r) { p->set_value(std::move(r)); });
    }
    int won = 0;
    for (auto& p : promises) {
      auto r = p->get_future().get();
      if (r) {
        ++won;
      } else {
        EXPECT_EQ(r.error().code, errc::kVersionConflict);
      }
    }
    EXPECT_EQ(won, 1) << "round " << round;
    auto now = must<Order>([&](auto done) { nodes[1]->getOrder(placed.order.id, done); });
    EXPECT_EQ(now.version, 2);
    ASSERT_EQ(now.history.size(), 2u) << "round " << round;
  }
  std::vector<std::shared_ptr<std::promise<Result<Restaurant>>>> writes;
  for (size_t i = 0; i < 6; ++i) {
    auto p = std::make_shared<std::promise<Result<Restaurant>>>();
    writes.push_back(p);
    nodes[i % nodes.size()]->updateRestaurant(
        "{\"name\":\"n" + std::to_string(i) + "\"}", 1,
        [p](Result<Restaurant> r) { p->set_value(std::move(r)); });
  }
  int won = 0;
  for (auto& p : writes) won += p->get_future().get() ? 1 : 0;
  EXPECT_EQ(won, 1);
  EXPECT_EQ(must<Restaurant>([&](auto done) { nodes[2]->getRestaurant(done); }).version, 2);
}

// Signals reach every other node, not the sender; a node whose LISTEN connection is cut
// is told it may have missed some, and hears the next ones again.
TEST_F(PostgresStoreTest, SignalsReachOtherNodesAndALostLinkIsReported) {
  struct Heard {
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::string> signals;
    int missed = 0;
  };
  auto open_node = [&](const std::string& id) {
    postgres::PostgresOptions o;
    o.url = url();
    o.node_id = id;
    return postgres::openPostgresStore(std::move(o));
  };
  auto a = open_node("a");
  auto b = open_node("b");
  auto c = open_node("c");
  std::map<std::string, std::shared_ptr<Heard>> heard;
  for (auto& [name, store] : std::vector<std::pair<std::string, Store*>>{
           {"a", a.get()}, {"b", b.get()}, {"c", c.get()}}) {
    auto h = std::make_shared<Heard>();
    heard[name] = h;
    store->onSignals(
        [h](const std::string& payload) {
          std::lock_guard lock(h->m);
          h->signals.push_back(payload);
          h->cv.notify_all();
        },
        [h] {
          std::lock_guard lock(h->m);
          ++h->missed;
          h->cv.notify_all();
        });
  }
  auto wait = [](Heard& h, std::function<bool()> pred) {
    std::unique_lock lock(h.m);
    return h.cv.wait_for(lock, 10s, pred);
  };
  a->publishSignal(R"({"kind":"location","n":1})");
  a->publishSignal(R"({"kind":"location","n":2})");
  for (const char* other : {"b", "c"}) {
    auto& h = *heard[other];
    ASSERT_TRUE(wait(h, [&] { return h.signals.size() == 2; })) << other;
    EXPECT_EQ(h.signals[0], R"({"kind":"location","n":1})");
    EXPECT_EQ(h.signals[1], R"({"kind":"location","n":2})");
  }
  // b answers; by then a's own two would have arrived had they been delivered to it.
  b->publishSignal("from b");
  ASSERT_TRUE(wait(*heard["a"], [&] { return heard["a"]->signals.size() == 1; }));
  EXPECT_EQ(heard["a"]->signals[0], "from b") << "a node must not hear its own signals";

  // Over the limit: dropped at the sender, nobody hears it.
  a->publishSignal(std::string(kMaxSignalBytes, 'x'));

  ASSERT_EQ(psql(testPostgresUrl(),
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = 'brigade-listen' AND datname = '" +
                     postgresDatabaseName(dir_.path()) + "'"),
            0);
  for (const char* node : {"a", "b", "c"}) {
    auto& h = *heard[node];
    ASSERT_TRUE(wait(h, [&] { return h.missed >= 1; })) << node << " was not told";
  }
  a->publishSignal("after");
  auto& hb = *heard["b"];
  ASSERT_TRUE(wait(hb, [&] { return !hb.signals.empty() && hb.signals.back() == "after"; }));
  EXPECT_EQ(hb.signals.size(), 3u) << "the oversized signal must not arrive";
}

// The database behind the URL was replaced (restored from a backup, say) while the node
// ran: at its next reconnect the node reads the new epoch, every subscriber is told
// resync(epoch_mismatch), and seqs of the new database are never passed off as the old
// one's.
TEST_F(PostgresStoreTest, AReplacedDatabaseIsSeenAtReconnectAndEveryoneResyncs) {
  auto store = open();
  for (int i = 0; i < 3; ++i) {
    must<MenuCategory>([&](auto done) { store->createCategory(NewMenuCategory{"Old", {}}, done); });
  }
  const std::string old_epoch = store->epoch();
  auto seen = std::make_shared<Collector>();
  store->subscribe(SubscribeOptions{}, seen->callback(seen));
  ASSERT_TRUE(seen->waitFor([](const auto& ev) { return !ev.empty(); }));  // ready
  // "Restore": another epoch, an emptier stream.
  const std::string new_epoch = "0123456789abcdef0123456789abcdef";
  ASSERT_EQ(psql(url(), "UPDATE meta SET value = '" + new_epoch +
                            "' WHERE key = 'epoch'; DELETE FROM changes; UPDATE stream_head SET "
                            "seq = 1;"),
            0);
  ASSERT_EQ(psql(testPostgresUrl(),
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = 'brigade-stream' AND datname = '" +
                     postgresDatabaseName(dir_.path()) + "'"),
            0);
  ASSERT_TRUE(seen->waitFor([](const auto& ev) {
    for (const auto& e : ev) {
      if (e.kind == StreamEventKind::kResync) return true;
    }
    return false;
  })) << "no resync after the database was replaced";
  StreamEvent resync;
  for (const auto& e : seen->events()) {
    if (e.kind == StreamEventKind::kResync) resync = e;
  }
  EXPECT_EQ(resync.reason, kResyncEpochMismatch);
  EXPECT_EQ(resync.epoch, new_epoch);
  EXPECT_EQ(store->epoch(), new_epoch);
  EXPECT_NE(old_epoch, new_epoch);
  // The new database's changes flow, under its epoch.
  must<MenuCategory>([&](auto done) { store->createCategory(NewMenuCategory{"New", {}}, done); });
  ASSERT_TRUE(seen->waitFor([](const auto& ev) {
    return !ev.empty() && ev.back().kind == StreamEventKind::kChange && ev.back().change->seq == 2;
  }));
  auto page = must<ChangePage>([&](auto done) { store->readChanges(1, kMaxReadLimit, done); });
  EXPECT_EQ(page.epoch, new_epoch);
  ASSERT_EQ(page.changes.size(), 1u);
  EXPECT_EQ(page.changes[0]->document.at("name").as_string(), "New");
  // A client holding an offset of the old epoch is told to resync.
  auto old_client = std::make_shared<Collector>();
  store->subscribe(SubscribeOptions{3, old_epoch, {}}, old_client->callback(old_client));
  ASSERT_TRUE(old_client->waitFor([](const auto& ev) { return !ev.empty(); }));
  EXPECT_EQ(old_client->events().front().kind, StreamEventKind::kResync);
  EXPECT_EQ(old_client->events().front().reason, kResyncEpochMismatch);
}

// Without a version, concurrent updates from several nodes each apply on what the others
// wrote (a lost race runs again on fresh data): patches of different fields of one menu
// item all land; six accepts of one order give one acceptance and, for the rest, the life
// cycle's own refusal rather than a version conflict the callers never asked for.
TEST_F(PostgresStoreTest, UpdatesWithoutAVersionRunAgainAfterLosingARace) {
  auto [nodes, customer, item] = threeNodesWithAnItem();
  for (int round = 0; round < 5; ++round) {
    std::vector<std::shared_ptr<std::promise<Result<MenuItem>>>> patches;
    for (int i = 0; i < 3; ++i) {
      auto p = std::make_shared<std::promise<Result<MenuItem>>>();
      patches.push_back(p);
      MenuItemPatch patch;
      if (i == 0) patch.name = "Soup " + std::to_string(round);
      if (i == 1) patch.price_cents = 1000 + round;
      if (i == 2) patch.description = "round " + std::to_string(round);
      nodes[i]->updateMenuItem(item.id, patch, std::nullopt,
                               [p](Result<MenuItem> r) { p->set_value(std::move(r)); });
    }
    for (auto& p : patches) {
      auto r = p->get_future().get();
      EXPECT_TRUE(r) << "round " << round << ": " << r.error().code;
    }
    auto now = must<MenuItem>([&](auto done) { nodes[1]->getMenuItem(item.id, done); });
    EXPECT_EQ(now.name, "Soup " + std::to_string(round));
    EXPECT_EQ(now.price_cents, 1000 + round);
    EXPECT_EQ(now.description, "round " + std::to_string(round));
  }
  for (int round = 0; round < 5; ++round) {
    NewOrder order;
    order.customer_id = customer.id;
    order.items = {{item.id, 1, ""}};
    order.delivery = Delivery{"1 Main St", std::nullopt, std::nullopt};
    auto placed = must<OrderCreated>([&](auto done) { nodes[0]->createOrder(order, done); });
    std::vector<std::shared_ptr<std::promise<Result<Order>>>> accepts;
    for (size_t i = 0; i < 6; ++i) {
      auto p = std::make_shared<std::promise<Result<Order>>>();
      accepts.push_back(p);
      OrderUpdate accept;
      accept.id = placed.order.id;
      accept.status = OrderStatus::kAccepted;
      // The life cycle's rule, as the app gives it: only a pending order is accepted.
      accept.check = [](const Order& o) -> Result<void> {
        if (o.status != OrderStatus::kPending)
          return makeError("illegal_transition", "not pending");
        return {};
      };
      nodes[i % nodes.size()]->updateOrder(accept,
                                           [p](Result<Order> r) { p->set_value(std::move(r)); });
    }
    int won = 0;
    for (auto& p : accepts) {
      auto r = p->get_future().get();
      if (r) {
        ++won;
      } else {
        EXPECT_EQ(r.error().code, "illegal_transition") << "round " << round;
      }
    }
    EXPECT_EQ(won, 1) << "round " << round;
  }
}

// Idle writers sleep. Only the first writer has periodic work (retention); the others
// once kept its deadline and, past it, woke without end (a core each, a minute after start).
TEST_F(PostgresStoreTest, IdleWritersSleepPastThePeriodicDeadline) {
  postgres::PostgresOptions o;
  o.url = url();
  o.writers = 4;
  o.store.retention_interval = std::chrono::seconds(1);
  auto store = postgres::openPostgresStore(std::move(o));
  const uint64_t before = store->stats().writer_wakeups;
  // Three deadlines go by with nothing to write.
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  const uint64_t woke = store->stats().writer_wakeups - before;
  // Each writer wakes once a deadline: about 4 x 3 (12); a spinning writer, millions.
  EXPECT_LE(woke, 40u) << "idle writers woke " << woke << " times in 3.2 s";
}

// Notifications carry the changes they announce (migration 9), and a node that did not
// write them takes them from there rather than reading them back: what it delivers must be
// exactly what the table holds, field for field and byte for byte (unicode, quotes, tabs
// and newlines in names, a rider taken off an order), and a batch too large for a
// notification is read from the table.
TEST_F(PostgresStoreTest, ChangesANotificationCarriedAreTheTablesOwn) {
  auto [nodes, customer, item] = threeNodesWithAnItem();
  auto collector = std::make_shared<Collector>();
  SubscribeOptions live;
  live.after_seq = nodes[1]->headSeq();
  const int64_t start = *live.after_seq;
  nodes[1]->subscribe(live, collector->callback(collector));
  ASSERT_TRUE(collector->waitFor(
      [](const auto& ev) { return !ev.empty() && ev.back().kind == StreamEventKind::kReady; }));
  auto rider = must<User>([&](auto done) {
    nodes[0]->createUser(NewUser{"r@example.com", "R", Role::kRider, "h"}, done);
  });
  must<MenuCategory>([&](auto done) {
    nodes[0]->createCategory(NewMenuCategory{"Zoë's \"café\"\tnew\nline", {}}, done);
  });
  NewOrder order;
  order.customer_id = customer.id;
  order.items = {{item.id, 2, "très chaud"}};
  order.delivery = Delivery{"1 \"Main\" St\n2nd floor", 37.5665, 126.978, 1234};
  auto placed = must<OrderCreated>([&](auto done) { nodes[2]->createOrder(order, done); });
  for (std::optional<int64_t> r : {std::optional<int64_t>(rider.id), std::optional<int64_t>()}) {
    OrderUpdate update;
    update.id = placed.order.id;
    update.rider_id = r;
    must<Order>([&](auto done) { nodes[0]->updateOrder(update, done); });
  }
  // One transaction, far more than a notification holds: announced by its head alone.
  ASSERT_EQ(psql(url(),
                 "INSERT INTO menu_categories(name) SELECT 'bulk ' || g || repeat('x', 300) "
                 "FROM generate_series(1, 60) AS g"),
            0);
  // The table is read directly (a node's own head may not have reached the psql batch).
  auto table = readByAudience(*nodes[0], start, kMaxReadLimit, ChangeAudience::all());
  ASSERT_GE(table.size(), 64u);
  ASSERT_TRUE(collector->waitForSeq(table.back()->seq));
  auto got = collector->changes();
  ASSERT_EQ(got.size(), table.size());
  bool unassigned = false;
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("seq " + std::to_string(table[i]->seq));
    EXPECT_EQ(got[i]->seq, table[i]->seq);
    EXPECT_EQ(got[i]->collection, table[i]->collection);
    EXPECT_EQ(got[i]->op, table[i]->op);
    EXPECT_EQ(got[i]->record_id, table[i]->record_id);
    EXPECT_EQ(got[i]->document_json, table[i]->document_json);
    EXPECT_EQ(got[i]->document, table[i]->document);
    EXPECT_EQ(got[i]->at, table[i]->at);
    EXPECT_EQ(got[i]->previous_rider_id, table[i]->previous_rider_id);
    unassigned = unassigned || table[i]->previous_rider_id == rider.id;
  }
  EXPECT_TRUE(unassigned) << "the test lost its rider change";
}

TEST_F(PostgresStoreTest, WritesByPsqlAreCapturedOnceWithABumpedVersion) {
  auto store = open();
  auto collector = std::make_shared<Collector>();
  SubscribeOptions from_start;
  from_start.after_seq = 0;  // a live-only subscription could be admitted after the insert
  store->subscribe(from_start, collector->callback(collector));
  auto cat = must<MenuCategory>([&](auto done) {
    store->createCategory(NewMenuCategory{"Mains", {}}, done);
  });
  ASSERT_EQ(
      psql(url(), "UPDATE menu_categories SET name = 'Plats' WHERE id = " + std::to_string(cat.id)),
      0);
  ASSERT_TRUE(collector->waitForChanges(2));
  auto changes = collector->changes();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1]->op, ChangeOp::kUpdate);
  EXPECT_EQ(changes[1]->document.at("name").as_string(), "Plats");
  EXPECT_EQ(changes[1]->document.at("version").as_int64(), 2);
}

// Brigade's writer records a new order's change itself, with the document it built
// (migration 8): that document must be the one the capture trigger builds (the
// order_documents view holds the same SQL), as JSON values, and there is exactly one change
// per order. An order inserted by another program is still captured by the trigger, once.
TEST_F(PostgresStoreTest, ANewOrdersChangeIsTheTriggersDocumentWhoeverInsertsIt) {
  auto store = open();
  auto customer = must<User>([&](auto done) {
    store->createUser(NewUser{"c@example.com", "Zoë \"Z\" O'Neil", Role::kCustomer, "h"}, done);
  });
  auto cat = must<MenuCategory>([&](auto done) {
    store->createCategory(NewMenuCategory{"Mains", {}}, done);
  });
  NewMenuItem soup{cat.id, "Soup", "", 900, true, {}, {}, {}};
  NewOptionGroup size;
  size.name = "Size";
  size.min = 1;
  size.max = 1;
  size.options = {NewMenuOption{std::nullopt, "Large", 150, true}};
  soup.option_groups = {size};
  auto item = must<MenuItem>([&](auto done) { store->createMenuItem(soup, done); });
  auto plain = must<MenuItem>([&](auto done) {
    store->createMenuItem(NewMenuItem{cat.id, "Bread", "", 250, true, {}, {}, {}}, done);
  });
  NewOrder order;
  order.customer_id = customer.id;
  order.items = {{item.id, 2, "très chaud", {item.option_groups[0].options[0].id}},
                 {plain.id, 1, "", {}}};
  order.delivery = Delivery{"1 \"Main\" St\n2nd floor", 37.56650001, 126.978, 1234};
  // What a PostgreSQL array literal would read otherwise (the change goes in through one).
  order.notes = "ring twice \\ {a, b} \"NULL\", \\\"";
  order.payment_method = "card";
  order.delivery_code = "4821";
  auto created = must<OrderCreated>([&](auto done) { store->createOrder(order, done); });
  const std::string id = std::to_string(created.order.id);
  {
    // The table holds the writer's document byte for byte, and it is a real number.
    auto page = must<ChangePage>(
        [&](auto done) { store->readChanges(0, kMaxReadLimit, ChangeAudience::all(), done); });
    ASSERT_FALSE(page.changes.empty());
    const auto& change = *page.changes.back();
    EXPECT_EQ(change.record_id, created.order.id);
    EXPECT_EQ(change.document_json, boost::json::serialize(toDocument(created.order)));
    EXPECT_EQ(change.document.at("notes").as_string(), order.notes);
    for (size_t i = 0; i < page.changes.size(); ++i) {
      EXPECT_EQ(page.changes[i]->seq, static_cast<int64_t>(i + 1));
    }
  }
  // psql exits non-zero when the DO block raises.
  auto same = [&](const std::string& order_id) {
    return psql(url(),
                "DO $$ BEGIN IF (SELECT count(*) FROM changes WHERE collection = 'orders' AND "
                "op = 'insert' AND record_id = " +
                    order_id +
                    ") <> 1 THEN RAISE EXCEPTION 'not one change'; END IF; "
                    "IF (SELECT document::jsonb FROM changes WHERE collection = 'orders' AND "
                    "op = 'insert' AND record_id = " +
                    order_id +
                    ") IS DISTINCT FROM (SELECT document::jsonb FROM order_documents "
                    "WHERE id = " +
                    order_id + ") THEN RAISE EXCEPTION 'documents differ'; END IF; END $$");
  };
  EXPECT_EQ(same(id), 0);
  // The audience columns too.
  EXPECT_EQ(psql(url(), "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM changes WHERE record_id = " + id +
                            " AND customer_id = " + std::to_string(customer.id) +
                            " AND rider_id IS NULL AND seq IS NOT NULL) THEN "
                            "RAISE EXCEPTION 'audience'; END IF; END $$"),
            0);
  // Another program's insert: the trigger captures it (and a session that says it is
  // Brigade's writer only in its own transactions does not leak into the next one).
  ASSERT_EQ(psql(url(),
                 "BEGIN; SET LOCAL brigade.capture = 'writer'; COMMIT; "
                 "INSERT INTO orders(id, customer_id, subtotal_cents, delivery_fee_cents, "
                 "total_cents, delivery_address) VALUES (7777, " +
                     std::to_string(customer.id) + ", 100, 0, 100, 'psql')"),
            0);
  EXPECT_EQ(same("7777"), 0);
  auto page = must<ChangePage>(
      [&](auto done) { store->readChanges(0, kMaxReadLimit, ChangeAudience::all(), done); });
  std::vector<int64_t> inserted;
  for (const auto& c : page.changes) {
    if (c->collection == kOrders && c->op == ChangeOp::kInsert) inserted.push_back(c->record_id);
  }
  EXPECT_EQ(inserted, (std::vector<int64_t>{created.order.id, 7777}));
}

TEST_F(PostgresStoreTest, ForeignNewerAndUnreachableDatabasesAreRefusedInOneLine) {
  expectRefused("postgres://brigade@127.0.0.1:1/nowhere", "cannot connect");
  expectRefused("postgres://brigade@127.0.0.1:notaport/x", "malformed");
  ASSERT_EQ(psql(url(), "CREATE TABLE someone_elses(x int)"), 0);
  expectRefused(url(), "not a Brigade database");
  ASSERT_EQ(psql(url(), "DROP TABLE someone_elses"), 0);
  { auto store = open(); }
  ASSERT_EQ(psql(url(), "INSERT INTO schema_migrations VALUES (999, 'future', 'x')"), 0);
  expectRefused(url(), "newer than this Brigade supports");
}

TEST_F(PostgresStoreTest, ALostConnectionIsDatabaseUnavailableThenRecovers) {
  auto store = open();
  must<MenuCategory>([&](auto done) {
    store->createCategory(NewMenuCategory{"Before", {}}, done);
  });
  // Every connection of this database ends, as when PostgreSQL restarts.
  ASSERT_EQ(psql(testPostgresUrl(),
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE datname = '" +
                     postgresDatabaseName(dir_.path()) + "'"),
            0);
  // The first write may meet the dead connection; the store reconnects by itself after it.
  bool recovered = false;
  for (int i = 0; i < 40 && !recovered; ++i) {
    auto r = await<MenuCategory>([&](auto done) {
      store->createCategory(NewMenuCategory{"After", {}}, done);
    });
    if (r) {
      recovered = true;
    } else {
      EXPECT_EQ(r.error().code, errc::kUnavailable) << r.error().message;
      std::this_thread::sleep_for(50ms);  // retrying, as a client given Retry-After would
    }
  }
  EXPECT_TRUE(recovered);
  auto menu = must<Menu>([&](auto done) { store->listMenu(done); });
  EXPECT_EQ(menu.categories.size(), 2u);
}

}  // namespace
}  // namespace brigade::store::testing
