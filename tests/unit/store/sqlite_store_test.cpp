// What only the SQLite backend can show: writes by the sqlite3 shell, start-up on bad
// files, crash safety under SIGKILL, the group-commit batch limit.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>

#include "store/documents.hpp"
#include "store/errors.hpp"
#include "store/sqlite/audience_query.hpp"
#include "store/sqlite/schema.hpp"
#include "unit/store/store_fixture.hpp"

namespace brigade::store::testing {
namespace {

using namespace std::chrono_literals;

// The issue's bound for noticing a commit made by another process.
constexpr auto kExternalNoticeBudget = 100ms;

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string path() const { return sqlitePath(dir_.path()); }

  std::unique_ptr<Store> open(std::function<void(sqlite::SqliteOptions&)> tweak = {}) {
    sqlite::SqliteOptions o;
    o.path = path();
    if (tweak) tweak(o);
    return sqlite::openSqliteStore(std::move(o));
  }

  // Opening must fail with a StoreError mentioning `needle`, leaving the file as it was.
  void expectRefused(const std::string& needle,
                     std::function<void(sqlite::SqliteOptions&)> tweak = {}) {
    const std::string before = fileBytes(path());
    try {
      open(tweak);
      ADD_FAILURE() << "opened a file it should have refused";
    } catch (const StoreError& e) {
      RecordProperty("message", e.what());
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path()), std::string::npos) << e.what();
    }
    EXPECT_EQ(fileBytes(path()), before) << "the file was modified";
  }

  int shell(const std::string& sql) { return sqliteShell(path(), sql); }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, ShellWritesAreCapturedAndNoticedQuickly) {
  auto store = open();
  auto customer = must<User>([&](auto d) {
    store->createUser(NewUser{"c@x.io", "C", Role::kCustomer, "h"}, d);
  });
  auto cat = must<MenuCategory>([&](auto d) {
    store->createCategory(NewMenuCategory{"Mains", {}}, d);
  });
  auto item = must<MenuItem>([&](auto d) {
    store->createMenuItem(NewMenuItem{cat.id, "Soup", "", 500, true, {}}, d);
  });
  NewOrder no;
  no.customer_id = customer.id;
  no.items = {NewOrderLine{item.id, 2, ""}};
  no.delivery.address = "here";
  auto order = must<OrderCreated>([&](auto d) { store->createOrder(no, d); }).order;

  auto c = std::make_shared<Collector>();
  store->subscribe(SubscribeOptions{}, c->callback(c));
  ASSERT_TRUE(c->waitFor([](const auto& ev) { return !ev.empty(); }));

  size_t seen = 0;
  // Runs one statement in the sqlite3 shell and returns the change it caused.
  auto viaShell = [&](const std::string& sql) -> ChangePtr {
    EXPECT_EQ(shell(sql), 0) << sql;
    const auto done = std::chrono::steady_clock::now();
    EXPECT_TRUE(c->waitForChanges(seen + 1, 2s)) << sql;
    const auto noticed = std::chrono::steady_clock::now() - done;
    EXPECT_LT(noticed, kExternalNoticeBudget) << sql;
    auto changes = c->changes();
    EXPECT_EQ(changes.size(), seen + 1) << sql;
    seen = changes.size();
    return changes.back();
  };

  auto ins = viaShell("INSERT INTO menu_categories(name) VALUES ('Shell');");
  EXPECT_EQ(ins->collection, "menu_categories");
  EXPECT_EQ(ins->op, ChangeOp::kInsert);
  EXPECT_EQ(ins->document.at("name").as_string(), "Shell");

  auto upd = viaShell("UPDATE menu_categories SET name = 'Shell 2' WHERE name = 'Shell';");
  EXPECT_EQ(upd->op, ChangeOp::kUpdate);
  EXPECT_EQ(upd->document.at("name").as_string(), "Shell 2");
  EXPECT_EQ(upd->document.at("version").as_int64(), 2);  // bumped by the trigger

  auto iins = viaShell("INSERT INTO menu_items(category_id, name, price_cents) VALUES (" +
                       std::to_string(cat.id) + ", 'Pie', 450);");
  EXPECT_EQ(iins->collection, "menu_items");
  EXPECT_EQ(iins->op, ChangeOp::kInsert);
  auto iupd = viaShell("UPDATE menu_items SET available = 0 WHERE name = 'Pie';");
  EXPECT_EQ(iupd->op, ChangeOp::kUpdate);
  EXPECT_FALSE(iupd->document.at("available").as_bool());
  EXPECT_EQ(iupd->document.at("version").as_int64(), 2);
  auto idel = viaShell("DELETE FROM menu_items WHERE name = 'Pie';");
  EXPECT_EQ(idel->op, ChangeOp::kDelete);
  EXPECT_EQ(idel->document.at("name").as_string(), "Pie");
  auto cdel = viaShell("DELETE FROM menu_categories WHERE name = 'Shell 2';");
  EXPECT_EQ(cdel->collection, "menu_categories");
  EXPECT_EQ(cdel->op, ChangeOp::kDelete);

  auto oupd = viaShell(
      "UPDATE orders SET status = 'accepted' WHERE id = " + std::to_string(order.id) + ";");
  EXPECT_EQ(oupd->collection, "orders");
  EXPECT_EQ(oupd->op, ChangeOp::kUpdate);
  auto doc = orderFromDocument(oupd->document);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->status, OrderStatus::kAccepted);
  EXPECT_EQ(doc->version, 2);
  ASSERT_EQ(doc->items.size(), 1u);
  EXPECT_EQ(doc->items[0].quantity, 2);

  auto oins = viaShell(
      "INSERT INTO orders(customer_id, subtotal_cents, delivery_fee_cents, total_cents, "
      "delivery_address) VALUES (" +
      std::to_string(customer.id) + ", 100, 0, 100, 'phone');");
  EXPECT_EQ(oins->collection, "orders");
  EXPECT_EQ(oins->op, ChangeOp::kInsert);
  EXPECT_TRUE(orderFromDocument(oins->document));

  auto odel = viaShell("DELETE FROM orders WHERE id = " + std::to_string(order.id) + ";");
  EXPECT_EQ(odel->op, ChangeOp::kDelete);
  EXPECT_EQ(odel->record_id, order.id);
  auto last = orderFromDocument(odel->document);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->items.size(), 1u);  // the document before the delete, lines included

  // The store's own writes carry on after the shell's, on one contiguous stream.
  auto after = must<OrderCreated>([&](auto d) { store->createOrder(no, d); }).order;
  EXPECT_GT(after.id, oins->record_id);
  auto page = must<ChangePage>([&](auto d) { store->readChanges(0, kMaxReadLimit, d); });
  for (size_t i = 0; i < page.changes.size(); ++i) {
    EXPECT_EQ(page.changes[i]->seq, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(page.changes.back()->record_id, after.id);
}

TEST_F(SqliteStoreTest, EachDatabaseHasItsOwnEpoch) {
  TempDir other;
  sqlite::SqliteOptions o;
  o.path = sqlitePath(other.path());
  auto a = open();
  auto b = sqlite::openSqliteStore(o);
  EXPECT_EQ(a->epoch().size(), 32u);
  EXPECT_NE(a->epoch(), b->epoch());
}

// Two stores on one database are two nodes: a client that saw node A's newest change and
// reconnects to node B, which has not polled since, is caught up, not told offset_ahead.
TEST_F(SqliteStoreTest, AnOffsetFromANodeAheadIsCaughtUpNotRefused) {
  auto a = open();
  auto b = open([](sqlite::SqliteOptions& o) { o.poll_interval = std::chrono::hours(1); });
  for (int i = 0; i < 3; ++i) {
    must<MenuCategory>([&](auto done) { a->createCategory(NewMenuCategory{"C", {}}, done); });
  }
  const int64_t head =
      must<ChangePage>([&](auto done) { a->readChanges(0, kMaxReadLimit, done); }).last_seq;
  ASSERT_EQ(head, 3);
  ASSERT_LT(b->headSeq(), head) << "node B must be behind for this test to mean anything";
  auto seen = std::make_shared<Collector>();
  SubscribeOptions options;
  options.after_seq = head;
  options.epoch = a->epoch();
  b->subscribe(options, seen->callback(seen));
  ASSERT_TRUE(seen->waitFor(
      [](const auto& ev) { return !ev.empty() && ev.back().kind == StreamEventKind::kReady; }));
  for (const auto& e : seen->events()) {
    EXPECT_NE(e.kind, StreamEventKind::kResync) << e.reason;
  }
  EXPECT_EQ(seen->events().back().last_seq, head);
}

TEST_F(SqliteStoreTest, ChangesRollBackWithTheirTransaction) {
  auto store = open();
  must<MenuCategory>([&](auto d) { store->createCategory(NewMenuCategory{"A", {}}, d); });
  // A shell transaction that fails half-way leaves neither the row nor its change.
  EXPECT_NE(shell("BEGIN; INSERT INTO menu_categories(name) VALUES ('B');"
                  "INSERT INTO menu_items(category_id, name, price_cents) VALUES (1, 'x', -5);"
                  "COMMIT;"),
            0);
  must<MenuCategory>([&](auto d) { store->createCategory(NewMenuCategory{"C", {}}, d); });
  auto page = must<ChangePage>([&](auto d) { store->readChanges(0, 100, d); });
  ASSERT_EQ(page.changes.size(), 2u);
  EXPECT_EQ(page.changes[1]->seq, 2);
  EXPECT_EQ(page.changes[1]->document.at("name").as_string(), "C");
}

// A write that only fails at COMMIT (a deferred foreign key, planted here through the
// shell) fails the batch's COMMIT; the batch is then retried write by write and only the
// culprit fails. The stream keeps no trace of the failed attempt.
TEST_F(SqliteStoreTest, AWriteFailingAtCommitFailsAlone) {
  auto store = open();
  ASSERT_EQ(shell("CREATE TABLE poison(ref INTEGER REFERENCES menu_categories(id) DEFERRABLE "
                  "INITIALLY DEFERRED);"
                  "CREATE TRIGGER poison_pill AFTER INSERT ON menu_categories "
                  "WHEN NEW.name = 'poison' BEGIN INSERT INTO poison VALUES (-1); END;"),
            0);
  constexpr int kN = 60;
  std::vector<std::shared_ptr<std::promise<Result<MenuCategory>>>> results;
  for (int i = 0; i < kN; ++i) {
    auto p = std::make_shared<std::promise<Result<MenuCategory>>>();
    results.push_back(p);
    store->createCategory(NewMenuCategory{i == kN / 2 ? "poison" : "ok", {}},
                          [p](Result<MenuCategory> r) { p->set_value(std::move(r)); });
  }
  for (int i = 0; i < kN; ++i) {
    auto r = results[i]->get_future().get();
    if (i == kN / 2) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, errc::kConflict);
    } else {
      EXPECT_TRUE(r) << i << ": " << r.error().message;
    }
  }
  EXPECT_GE(store->stats().split_batches, 1u) << "the poison was never in a batch";
  auto page = must<ChangePage>([&](auto d) { store->readChanges(0, 1000, d); });
  ASSERT_EQ(page.changes.size(), static_cast<size_t>(kN - 1));
  for (size_t i = 0; i < page.changes.size(); ++i) {
    EXPECT_EQ(page.changes[i]->seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(page.changes[i]->document.at("name").as_string(), "ok");
  }
}

TEST_F(SqliteStoreTest, GarbageFileIsRefusedUntouched) {
  {
    std::ofstream out(path(), std::ios::binary);
    std::mt19937 rng(1);
    for (int i = 0; i < 8192; ++i) out.put(static_cast<char>(rng()));
  }
  expectRefused("not a SQLite database");
}

TEST_F(SqliteStoreTest, CorruptDatabaseIsRefusedUntouched) {
  {
    auto store = open();
    auto cat = must<MenuCategory>([&](auto d) {
      store->createCategory(NewMenuCategory{"A", {}}, d);
    });
    for (int i = 0; i < 200; ++i) {
      must<MenuItem>([&](auto d) {
        store->createMenuItem(NewMenuItem{cat.id, std::string(200, 'x'), "", 1, true, {}}, d);
      });
    }
  }
  {
    // Scribble over pages in the middle of the file, keeping the header valid.
    std::fstream f(path(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(4096 * 4);
    const std::string junk(4096 * 8, '\xAB');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  expectRefused("corrupt");
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefusedUntouched) {
  open().reset();
  ASSERT_EQ(shell("INSERT INTO schema_migrations VALUES (999, 'from the future', 'x');"), 0);
  expectRefused("newer");
}

TEST_F(SqliteStoreTest, ForeignDatabaseIsRefusedUntouched) {
  ASSERT_EQ(
      shell("CREATE TABLE accounts(id INTEGER PRIMARY KEY); INSERT INTO accounts VALUES (1);"), 0);
  expectRefused("not a Brigade database");
}

TEST_F(SqliteStoreTest, LockedDatabaseIsRefused) {
  open().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;"
                         "INSERT INTO meta VALUES ('lock', 'held');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  try {
    open([](auto& o) { o.busy_timeout = 200ms; });
    ADD_FAILURE() << "opened a locked database";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_NO_THROW(open());
}

TEST_F(SqliteStoreTest, ReadOnlyFileIsRefusedUntouched) {
  open().reset();
  const std::string before = fileBytes(path());
  ASSERT_EQ(chmod(path().c_str(), 0444), 0);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0777), 0);  // only the file is read-only
  // root ignores file modes, so the attempt runs as "nobody" in a child process.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    try {
      open();
      _exit(1);
    } catch (const StoreError& e) {
      _exit(std::string(e.what()).find("file is read-only") != std::string::npos ? 0 : 2);
    } catch (...) {
      _exit(4);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  chmod(dir_.path().c_str(), 0700);
  chmod(path().c_str(), 0644);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened, 2: unclear message, 3: setuid, 4: other";
  EXPECT_EQ(fileBytes(path()), before);
}

// Only the directory is read-only: the file is fine, but WAL needs to create files there.
TEST_F(SqliteStoreTest, ReadOnlyDirectoryIsRefusedUntouched) {
  open().reset();
  const std::string before = fileBytes(path());
  ASSERT_EQ(chmod(path().c_str(), 0666), 0);  // the file itself is writable by anyone
  ASSERT_EQ(chmod(dir_.path().c_str(), 0555), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    try {
      open();
      _exit(1);
    } catch (const StoreError& e) {
      _exit(std::string(e.what()).find("directory") != std::string::npos ? 0 : 2);
    } catch (...) {
      _exit(4);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  chmod(dir_.path().c_str(), 0700);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened, 2: unclear message, 3: setuid, 4: other";
  EXPECT_EQ(fileBytes(path()), before);
}

TEST_F(SqliteStoreTest, MissingDirectoryIsAClearError) {
  sqlite::SqliteOptions o;
  o.path = dir_.path() + "/no/such/dir/brigade.db";
  EXPECT_THROW(sqlite::openSqliteStore(o), StoreError);
}

TEST_F(SqliteStoreTest, BatchesNeverExceedTheLimit) {
  auto store = open();
  const size_t n = 3 * sqlite::kMaxBatch + 10;
  std::atomic<size_t> left{n}, failed{0};
  std::promise<void> all;
  for (size_t i = 0; i < n; ++i) {
    store->createCategory(NewMenuCategory{"c", {}}, [&](Result<MenuCategory> r) {
      if (!r) ++failed;
      if (--left == 0) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(failed, 0u);
  const auto stats = store->stats();
  EXPECT_LE(stats.largest_batch, sqlite::kMaxBatch);
  EXPECT_GE(stats.batches, 4u);
  EXPECT_EQ(stats.writes, n);
}

// A child process writing orders is SIGKILLed mid-load, again and again. After each
// reopen every write it acknowledged, and that write's change, are there, and the seqs
// have no hole.
TEST_F(SqliteStoreTest, AcknowledgedWritesSurviveSigkill) {
  int64_t customer = 0, item = 0;
  {
    auto store = open();
    customer = must<User>([&](auto d) {
                 store->createUser(NewUser{"k@x.io", "K", Role::kCustomer, "h"}, d);
               }).id;
    auto cat = must<MenuCategory>([&](auto d) {
      store->createCategory(NewMenuCategory{"M", {}}, d);
    });
    item = must<MenuItem>([&](auto d) {
             store->createMenuItem(NewMenuItem{cat.id, "I", "", 100, true, {}}, d);
           }).id;
  }
  constexpr int kRounds = 20;
  std::mt19937 rng(2024);
  std::set<int64_t> acked;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execl(BRIGADE_CRASH_WRITER, "store_crash_writer", path().c_str(),
            std::to_string(customer).c_str(), std::to_string(item).c_str(), "16", nullptr);
      _exit(127);
    }
    close(fds[1]);
    const size_t target = 20 + rng() % 300;
    size_t got = 0;
    std::string buf;
    bool killed = false;
    auto drain = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) return false;
      char chunk[4096];
      const ssize_t n = read(fds[0], chunk, sizeof chunk);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        acked.insert(std::stoll(buf.substr(0, nl)));
        buf.erase(0, nl + 1);
        ++got;
      }
      return true;
    };
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (got < target && std::chrono::steady_clock::now() < deadline) {
      if (!drain(1000)) break;
    }
    ASSERT_GE(got, target) << "the writer stalled in round " << round;
    kill(pid, SIGKILL);
    killed = true;
    while (drain(2000)) {
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(killed && WIFSIGNALED(status));

    auto store = open();
    std::set<int64_t> inserted;
    int64_t expect = 1, after = 0;
    for (;;) {
      auto page = must<ChangePage>([&](auto d) { store->readChanges(after, kMaxReadLimit, d); });
      if (page.changes.empty()) {
        ASSERT_EQ(page.last_seq, expect - 1) << "round " << round;
        break;
      }
      for (const auto& c : page.changes) {
        ASSERT_EQ(c->seq, expect) << "hole in the stream, round " << round;
        ++expect;
        if (c->collection == "orders" && c->op == ChangeOp::kInsert) inserted.insert(c->record_id);
      }
      after = page.changes.back()->seq;
    }
    for (int64_t id : acked) {
      ASSERT_TRUE(inserted.count(id)) << "acknowledged order " << id << " has no change";
    }
    auto last = must<Order>([&](auto d) { store->getOrder(*acked.rbegin(), d); });
    EXPECT_EQ(last.items.size(), 1u);
    // Spot-check the rows themselves (the change alone is not the order).
    for (int64_t id : acked) {
      if (id % 17 != 0) continue;
      ASSERT_TRUE(await<Order>([&](auto d) { store->getOrder(id, d); })) << "order " << id;
    }
  }
  EXPECT_GT(acked.size(), static_cast<size_t>(kRounds) * 20);
}

// --- reads by audience (migration 4) ----------------------------------------------------

// A plain sqlite3 connection to the store's file: what another program sees and does.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("sqlite3_open");
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(message + " in: " + sql);
    }
  }
  // Every row of a query, each column as text ("NULL" for NULL).
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    std::vector<std::vector<std::string>> out;
    sqlite3_stmt* st = prepare(sql);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
        row.emplace_back(text ? text : "NULL");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string scalar(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() || r[0].empty() ? "" : r[0][0];
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in: " + sql);
    }
    return st;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Fills a changes table with `orders` orders of 200 other customers (a third of them
// assigned to one of 5 other riders) in one transaction, as a bulk load by another
// program would.
void bulkOrdersOfOthers(RawDb& db, int orders) {
  db.exec("BEGIN");
  db.exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 205) "
      "INSERT INTO users(email, name, role, password_hash, created_at) "
      "SELECT 'bulk' || i || '@example.com', 'Bulk', CASE WHEN i > 200 THEN 'rider' "
      "ELSE 'customer' END, 'h', '2024-01-01T00:00:00.000Z' FROM n");
  db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
          std::to_string(orders) +
          ") INSERT INTO orders(customer_id, subtotal_cents, delivery_fee_cents, total_cents, "
          "delivery_address, rider_id) SELECT "
          "(SELECT id FROM users WHERE email = 'bulk' || (1 + i % 200) || '@example.com'), "
          "100, 0, 100, 'bulk', CASE WHEN i % 3 = 0 THEN (SELECT id FROM users WHERE email = "
          "'bulk' || (201 + i % 5) || '@example.com') END FROM n");
  db.exec("COMMIT");
}

// EXPLAIN QUERY PLAN of a read by audience, one line per step.
std::vector<std::string> queryPlan(RawDb& db, ChangeAudience::Kind kind, int64_t user) {
  sqlite3_stmt* st = db.prepare("EXPLAIN QUERY PLAN " + sqlite::audienceQuery(kind));
  sqlite3_bind_int64(st, 1, 0);
  sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(kMaxReadLimit));
  sqlite3_bind_int64(st, 3, user);
  std::vector<std::string> plan;
  while (sqlite3_step(st) == SQLITE_ROW) {
    plan.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 3)));
  }
  sqlite3_finalize(st);
  return plan;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A customer with a few orders among thousands of other customers' reads them through
// the indexes: the plan never scans `changes`, and running it does no full-scan step and
// fewer VM steps than the table has rows.
TEST_F(SqliteStoreTest, ReadsByAudienceSearchIndexesNeverScanTheStream) {
  auto store = open();
  auto customer = must<User>([&](auto d) {
    store->createUser(NewUser{"few@example.com", "Few", Role::kCustomer, "h"}, d);
  });
  auto rider = must<User>([&](auto d) {
    store->createUser(NewUser{"rider@example.com", "R", Role::kRider, "h"}, d);
  });
  auto cat = must<MenuCategory>([&](auto d) {
    store->createCategory(NewMenuCategory{"Mains", {}}, d);
  });
  auto item = must<MenuItem>([&](auto d) {
    store->createMenuItem(NewMenuItem{cat.id, "Soup", "", 500, true, {}}, d);
  });
  NewOrder no;
  no.customer_id = customer.id;
  no.items = {NewOrderLine{item.id, 1, ""}};
  no.delivery.address = "here";
  RawDb db(path());
  bulkOrdersOfOthers(db, 2500);
  std::vector<int64_t> mine;
  for (int i = 0; i < 3; ++i) {
    mine.push_back(must<OrderCreated>([&](auto d) { store->createOrder(no, d); }).order.id);
  }
  OrderUpdate assign;
  assign.id = mine[1];
  assign.rider_id = std::optional<int64_t>(rider.id);
  must<Order>([&](auto d) { store->updateOrder(assign, d); });
  const int64_t rows = std::stoll(db.scalar("SELECT count(*) FROM changes"));
  ASSERT_GT(rows, 2500);

  // What the store returns: the customer's 4 order changes and the 2 menu changes.
  auto page = must<ChangePage>([&](auto d) {
    store->readChanges(0, kMaxReadLimit, ChangeAudience::customer(customer.id), d);
  });
  EXPECT_EQ(page.changes.size(), 6u);
  EXPECT_TRUE(page.at_head);
  EXPECT_EQ(page.last_seq, rows);
  auto riders = must<ChangePage>(
      [&](auto d) { store->readChanges(0, kMaxReadLimit, ChangeAudience::rider(rider.id), d); });
  ASSERT_EQ(riders.changes.size(), 3u);
  EXPECT_EQ(riders.changes[2]->record_id, mine[1]);

  for (const char* stats : {"without statistics", "after ANALYZE"}) {
    if (std::string_view(stats) == "after ANALYZE") db.exec("ANALYZE");
    for (auto [kind, user, indexes] :
         {std::tuple{ChangeAudience::Kind::kCustomer, customer.id,
                     std::vector<std::string>{"changes_by_customer", "changes_public"}},
          std::tuple{ChangeAudience::Kind::kRider, rider.id,
                     std::vector<std::string>{"changes_by_rider", "changes_by_previous_rider",
                                              "changes_public"}}}) {
      const auto plan = queryPlan(db, kind, user);
      const std::string what =
          std::string(kind == ChangeAudience::Kind::kCustomer ? "customer" : "rider") + " " + stats;
      RecordProperty("plan " + what, joined(plan));
      for (const auto& line : plan) {
        // Only the merged seqs (at most `limit` of them) are ever scanned.
        // A rowid range would walk the whole stream after the offset.
        EXPECT_EQ(line.find("(rowid>?)"), std::string::npos) << stats << ": " << line;
        if (line.starts_with("SCAN")) {
          EXPECT_TRUE(line == "SCAN picked" || line.starts_with("SCAN (subquery"))
              << stats << ": " << line << "\n"
              << joined(plan);
        }
      }
      for (const auto& index : indexes) {
        EXPECT_NE(joined(plan).find("USING COVERING INDEX " + index), std::string::npos)
            << stats << ": " << index << "\n"
            << joined(plan);
      }
      EXPECT_NE(joined(plan).find("SEARCH c USING INTEGER PRIMARY KEY"), std::string::npos)
          << joined(plan);

      sqlite3_stmt* st = db.prepare(sqlite::audienceQuery(kind));
      sqlite3_bind_int64(st, 1, 0);
      sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(kMaxReadLimit));
      sqlite3_bind_int64(st, 3, user);
      int n = 0;
      while (sqlite3_step(st) == SQLITE_ROW) ++n;
      EXPECT_EQ(n, kind == ChangeAudience::Kind::kCustomer ? 6 : 3);
      EXPECT_EQ(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0) << stats;
      const int steps = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0);
      RecordProperty("vm steps " + what, steps);
      EXPECT_LT(steps, rows) << stats << ": as many steps as a scan";
      sqlite3_finalize(st);
    }
  }
}

// Order writes by another program (the sqlite3 shell) fill the audience columns through
// the triggers, with documents identical to the order_documents view, and reach the
// customer's and riders' reads.
TEST_F(SqliteStoreTest, OrderWritesByAnotherProgramCarryTheirAudience) {
  auto store = open();
  auto customer = must<User>([&](auto d) {
    store->createUser(NewUser{"c@example.com", "C", Role::kCustomer, "h"}, d);
  });
  auto r1 = must<User>([&](auto d) {
    store->createUser(NewUser{"r1@example.com", "R1", Role::kRider, "h"}, d);
  });
  auto r2 = must<User>([&](auto d) {
    store->createUser(NewUser{"r2@example.com", "R2", Role::kRider, "h"}, d);
  });
  const std::string c = std::to_string(customer.id);
  ASSERT_EQ(shell("INSERT INTO orders(id, customer_id, subtotal_cents, delivery_fee_cents, "
                  "total_cents, delivery_address) VALUES (77, " +
                  c + ", 100, 0, 100, 'shell');"),
            0);
  RawDb db(path());
  const std::string viewDocument = "SELECT document FROM order_documents WHERE id = 77";
  const std::string lastDocument =
      "SELECT document FROM changes WHERE seq = (SELECT max(seq) FROM changes)";
  EXPECT_EQ(db.scalar(lastDocument), db.scalar(viewDocument));
  ASSERT_EQ(shell("UPDATE orders SET rider_id = " + std::to_string(r1.id) +
                  ", version = version + 1 WHERE id = 77;"),
            0);
  ASSERT_EQ(shell("UPDATE orders SET rider_id = " + std::to_string(r2.id) +
                  ", version = version + 1 WHERE id = 77;"),
            0);
  // No version: the bump trigger's nested update is what is captured.
  ASSERT_EQ(shell("UPDATE orders SET status = 'accepted' WHERE id = 77;"), 0);
  EXPECT_EQ(db.scalar(lastDocument), db.scalar(viewDocument));
  ASSERT_EQ(shell("DELETE FROM orders WHERE id = 77;"), 0);

  const std::string r1s = std::to_string(r1.id), r2s = std::to_string(r2.id);
  const std::vector<std::vector<std::string>> want = {
      {"insert", c, "NULL", "NULL"}, {"update", c, r1s, "NULL"}, {"update", c, r2s, r1s},
      {"update", c, r2s, "NULL"},    {"delete", c, r2s, "NULL"},
  };
  EXPECT_EQ(db.rows("SELECT op, customer_id, rider_id, previous_rider_id FROM changes "
                    "WHERE collection = 'orders' ORDER BY seq"),
            want);
  auto orderOps = [&](ChangeAudience audience) {
    std::vector<int64_t> seqs;
    for (const auto& change : readByAudience(*store, 0, 2, audience)) {
      if (change->collection == kOrders) seqs.push_back(change->seq);
    }
    return seqs;
  };
  auto all = readByAudience(*store, 0, kMaxReadLimit, ChangeAudience::all());
  ASSERT_EQ(all.size(), 5u);  // users make no changes
  EXPECT_EQ(orderOps(ChangeAudience::customer(customer.id)), seqsOf(all));
  EXPECT_EQ(orderOps(ChangeAudience::rider(r1.id)), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(orderOps(ChangeAudience::rider(r2.id)), (std::vector<int64_t>{3, 4, 5}));
}

// A database written before migration 4 gets the audience of every retained change from
// its document when it is opened, and the documents themselves are left alone.
TEST_F(SqliteStoreTest, MigrationFourBackfillsTheAudienceOfOlderChanges) {
  std::vector<std::vector<std::string>> before;
  {
    // The database as Brigade left it at schema 3: migrations 1..3, as migrate() runs them.
    RawDb db(path());
    db.exec(
        "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)");
    for (const auto& m : sqlite::migrations()) {
      if (m.version > 3) continue;
      db.exec("BEGIN");
      db.exec(m.sql);
      db.exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" +
              m.name + "', '2024-01-01T00:00:00.000Z')");
      db.exec("COMMIT");
    }
    ASSERT_EQ(db.scalar("SELECT count(*) FROM pragma_table_info('changes') "
                        "WHERE name IN ('customer_id', 'rider_id')"),
              "0");
    // Ids 1, 2: customers; 3, 4: riders.
    db.exec(
        "INSERT INTO users(email, name, role, password_hash) VALUES "
        "('a@example.com', 'A', 'customer', 'h'), ('b@example.com', 'B', 'customer', 'h'), "
        "('r1@example.com', 'R1', 'rider', 'h'), ('r2@example.com', 'R2', 'rider', 'h');"
        "INSERT INTO menu_categories(name) VALUES ('Mains');"
        "INSERT INTO menu_items(category_id, name, price_cents) VALUES (1, 'Soup', 500);");
    for (int i = 1; i <= 6; ++i) {
      const std::string id = std::to_string(i);
      db.exec(
          "BEGIN;"
          "INSERT INTO order_items(order_id, line, item_id, name, unit_price_cents, quantity) "
          "VALUES (" +
          id +
          ", 0, 1, 'Soup', 500, 1);"
          "INSERT INTO order_history(order_id, n, status, at, by_user) VALUES (" +
          id +
          ", 0, 'pending', '2024-01-01T00:00:00.000Z', 1);"
          "INSERT INTO orders(id, customer_id, subtotal_cents, delivery_fee_cents, total_cents, "
          "delivery_address) VALUES (" +
          id + ", " + std::to_string(i % 2 == 1 ? 1 : 2) +
          ", 500, 0, 500, 'x');"
          "COMMIT;");
    }
    db.exec(
        "UPDATE orders SET rider_id = 3, version = version + 1 WHERE id = 1;"
        "UPDATE orders SET rider_id = 3, version = version + 1 WHERE id = 2;"
        "UPDATE menu_items SET price_cents = 550 WHERE id = 1;"
        "UPDATE orders SET rider_id = 4, version = version + 1 WHERE id = 1;"     // from r1
        "UPDATE orders SET rider_id = NULL, version = version + 1 WHERE id = 2;"  // from r1
        "UPDATE orders SET status = 'accepted' WHERE id = 1;"
        "UPDATE orders SET rider_id = 4, version = version + 1 WHERE id = 5;"
        "DELETE FROM orders WHERE id = 6;");
    before = db.rows(
        "SELECT seq, collection, op, record_id, document, previous_rider_id "
        "FROM changes ORDER BY seq");
    ASSERT_EQ(before.size(), 16u);
  }

  auto store = open();
  RawDb db(path());
  EXPECT_EQ(db.scalar("SELECT max(version) FROM schema_migrations"),
            std::to_string(sqlite::latestSchemaVersion()));
  EXPECT_EQ(db.rows("SELECT seq, collection, op, record_id, document, previous_rider_id "
                    "FROM changes ORDER BY seq"),
            before)
      << "the migration changed the stream";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM changes WHERE collection = 'orders' AND "
                      "(customer_id IS NULL OR customer_id IS NOT "
                      "json_extract(document, '$.customer_id') OR rider_id IS NOT "
                      "json_extract(document, '$.rider_id'))"),
            "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM changes WHERE collection <> 'orders' AND "
                      "(customer_id IS NOT NULL OR rider_id IS NOT NULL)"),
            "0");

  const auto all = readByAudience(*store, 0, kMaxReadLimit, ChangeAudience::all());
  ASSERT_EQ(all.size(), 16u);
  size_t previous = 0;
  for (const auto& c : all) previous += c->previous_rider_id.has_value();
  EXPECT_EQ(previous, 2u);
  for (auto audience : {ChangeAudience::customer(1), ChangeAudience::customer(2),
                        ChangeAudience::rider(3), ChangeAudience::rider(4)}) {
    std::vector<int64_t> want;
    for (const auto& c : all) {
      if (mayShow(*c, audience)) want.push_back(c->seq);
    }
    EXPECT_EQ(seqsOf(readByAudience(*store, 0, 2, audience)), want) << "user " << audience.user_id;
  }
  // r1 (3): its two assignments and the two changes that took the orders away, and the menu.
  size_t r1Orders = 0;
  for (const auto& c : readByAudience(*store, 0, 3, ChangeAudience::rider(3))) {
    r1Orders += c->collection == kOrders;
  }
  EXPECT_EQ(r1Orders, 4u);
}

}  // namespace
}  // namespace brigade::store::testing
