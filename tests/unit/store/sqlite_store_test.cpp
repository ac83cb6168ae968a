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
#include "unit/store/store_fixture.hpp"

namespace brigade::store::testing {
namespace {

using namespace std::chrono_literals;

// The bound for noticing a commit made by another process.
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

}  // namespace
}  // namespace brigade::store::testing
