#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/await.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace brigade::store::testing {

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "brigade-store-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs SQL through the sqlite3 command-line program, as an operator would. Returns its
// exit status.
inline int sqliteShell(const std::string& db, const std::string& sql) {
  const std::string script = db + ".shell.sql";
  {
    std::ofstream out(script);
    out << ".timeout 5000\n" << sql << "\n";
  }
  const std::string cmd = "sqlite3 -bail '" + db + "' < '" + script + "' > /dev/null";
  const int rc = std::system(cmd.c_str());
  std::filesystem::remove(script);
  return rc;
}

// How a test reaches one backend. Every backend must pass the whole parameterised suite.
struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& dir, StoreOptions options,
                                       bool group_commit)>
      open;
  // Runs SQL against the same database with the backend's own command-line client.
  std::function<int(const std::string& dir, const std::string& sql)> shell;
  // Removes what open() created outside `dir` (a PostgreSQL database); may be empty.
  std::function<void(const std::string& dir)> drop;
};

// PostgreSQL for tests: BRIGADE_TEST_PG_URL names a server the test may create databases
// on (scripts/pg.sh starts one; CTest's `pg` label does it for the suite). Each test gets a
// database of its own, named after its temporary directory.
inline const char* testPostgresUrl() {
  const char* url = std::getenv("BRIGADE_TEST_PG_URL");
  return url && *url ? url : nullptr;
}

inline std::string postgresDatabaseName(const std::string& dir) {
  std::string name = "t_";
  for (char ch : std::filesystem::path(dir).filename().string()) {
    name += std::isalnum(static_cast<unsigned char>(ch))
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                : '_';
  }
  return name;
}

// The server URL with its database replaced.
inline std::string postgresUrlFor(const std::string& dir) {
  std::string base = testPostgresUrl();
  const auto slash = base.find('/', base.find("://") + 3);
  return base.substr(0, slash) + "/" + postgresDatabaseName(dir);
}

inline int psql(const std::string& url, const std::string& sql) {
  const std::string script =
      (std::filesystem::temp_directory_path() /
       ("brigade-psql-" + std::to_string(getpid()) + "-" + std::to_string(std::rand()) + ".sql"))
          .string();
  {
    std::ofstream out(script);
    out << sql << "\n";
  }
  const std::string cmd =
      "psql -X -q -v ON_ERROR_STOP=1 '" + url + "' -f '" + script + "' > /dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  std::filesystem::remove(script);
  return rc;
}

inline std::string sqlitePath(const std::string& dir) {
  return dir + "/brigade.db";
}

inline std::vector<Backend> backends() {
  std::vector<Backend> out{
      Backend{
          "sqlite",
          [](const std::string& dir, StoreOptions options, bool group_commit) {
            sqlite::SqliteOptions o;
            o.path = sqlitePath(dir);
            o.store = std::move(options);
            o.group_commit = group_commit;
            return sqlite::openSqliteStore(std::move(o));
          },
          [](const std::string& dir, const std::string& sql) {
            return sqliteShell(sqlitePath(dir), sql);
          },
      },
  };
  if (testPostgresUrl()) {
    out.push_back(Backend{
        "postgres",
        [](const std::string& dir, StoreOptions options, bool group_commit) {
          const std::string db = postgresDatabaseName(dir);
          // Reopening a test's store keeps its database.
          (void)psql(testPostgresUrl(), "CREATE DATABASE " + db);
          postgres::PostgresOptions o;
          o.url = postgresUrlFor(dir);
          o.store = std::move(options);
          o.group_commit = group_commit;
          // Notifications wake the stream; the poll only bounds the wait when one is lost.
          return postgres::openPostgresStore(std::move(o));
        },
        [](const std::string& dir, const std::string& sql) {
          return psql(postgresUrlFor(dir), sql);
        },
        [](const std::string& dir) {
          (void)psql(testPostgresUrl(),
                     "DROP DATABASE IF EXISTS " + postgresDatabaseName(dir) + " WITH (FORCE)");
        },
    });
  }
  return out;
}

// Awaits a store operation and returns its value; a store error fails the test.
template <typename T, typename Start>
T must(Start&& start) {
  auto r = await<T>(std::forward<Start>(start));
  if (!r) throw std::runtime_error("store error " + r.error().code + ": " + r.error().message);
  if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

// Whether an audience may see a change, decided from the document alone as PRODUCT.md
// ("Visibility of changes") and app::visible() do: the reference for reads by audience.
inline bool mayShow(const Change& c, const ChangeAudience& a) {
  if (a.kind == ChangeAudience::Kind::kAll || c.collection != kOrders) return true;
  auto idOf = [&](std::string_view key) -> std::optional<int64_t> {
    auto* v = c.document.if_contains(key);
    if (!v || !v->is_int64()) return std::nullopt;
    return v->get_int64();
  };
  if (a.kind == ChangeAudience::Kind::kCustomer) return idOf("customer_id") == a.user_id;
  return idOf("rider_id") == a.user_id || c.previous_rider_id == a.user_id;
}

inline std::vector<int64_t> seqsOf(const std::vector<ChangePtr>& changes) {
  std::vector<int64_t> out;
  for (const auto& c : changes) out.push_back(c->seq);
  return out;
}

// Reads everything `audience` may see after `after`, `limit` at a time, paging with
// last_seq as a client would, and checks each page's contract on the way: a full page ends
// at its last change, a short one at the head. Returns the changes; *head gets the final
// last_seq.
inline std::vector<ChangePtr> readByAudience(Store& store, int64_t after, size_t limit,
                                             ChangeAudience audience, int64_t* head = nullptr) {
  std::vector<ChangePtr> out;
  for (int pages = 0;; ++pages) {
    if (pages > 100000) throw std::runtime_error("paging does not end");
    auto page = must<ChangePage>(
        [&](auto done) { store.readChanges(after, limit, audience, std::move(done)); });
    EXPECT_LE(page.changes.size(), limit);
    for (const auto& c : page.changes) {
      EXPECT_GT(c->seq, after) << "out of order or repeated";
      EXPECT_LE(c->seq, page.last_seq);
      after = c->seq;
      out.push_back(c);
    }
    if (page.changes.size() == std::min(limit, kMaxReadLimit)) {
      EXPECT_EQ(page.last_seq, page.changes.back()->seq) << "a full page ends at its last change";
    } else {
      EXPECT_TRUE(page.at_head) << "a short page reaches the head";
    }
    EXPECT_GE(page.last_seq, after);
    after = page.last_seq;
    if (page.at_head) {
      if (head) *head = page.last_seq;
      return out;
    }
  }
}

// Gathers stream events from a subscription (delivered on the store's stream thread).
class Collector {
 public:
  void operator()(const StreamEvent& e) {
    std::lock_guard lock(m_);
    events_.push_back(e);
    cv_.notify_all();
  }
  StreamCallback callback(std::shared_ptr<Collector> self) {
    return [self](const StreamEvent& e) { (*self)(e); };
  }

  // Waits until `pred(events)` holds; false on timeout.
  bool waitFor(const std::function<bool(const std::vector<StreamEvent>&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return pred(events_); });
  }
  bool waitForSeq(int64_t seq, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return waitFor(
        [seq](const auto& ev) {
          for (auto it = ev.rbegin(); it != ev.rend(); ++it) {
            if (it->kind == StreamEventKind::kChange) return it->change->seq >= seq;
          }
          return false;
        },
        timeout);
  }
  bool waitForChanges(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return waitFor([n](const auto& ev) { return countChanges(ev) >= n; }, timeout);
  }

  std::vector<StreamEvent> events() {
    std::lock_guard lock(m_);
    return events_;
  }
  std::vector<ChangePtr> changes() {
    std::lock_guard lock(m_);
    std::vector<ChangePtr> out;
    for (const auto& e : events_) {
      if (e.kind == StreamEventKind::kChange) out.push_back(e.change);
    }
    return out;
  }

 private:
  static size_t countChanges(const std::vector<StreamEvent>& ev) {
    size_t n = 0;
    for (const auto& e : ev) n += e.kind == StreamEventKind::kChange;
    return n;
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::vector<StreamEvent> events_;
};

}  // namespace brigade::store::testing
