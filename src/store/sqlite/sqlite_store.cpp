#include "store/sqlite/sqlite_store.hpp"

#include <pthread.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "store/errors.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sqlite/audience_query.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/schema.hpp"
#include "store/timestamp.hpp"

namespace brigade::store::sqlite {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kCheckpointInterval{100};
constexpr int kBackstopCheckpointPages = 16384;  // 64 MiB of WAL with 4 KiB pages

void configure(Connection& c, const SqliteOptions& o) {
  sqlite3_busy_timeout(c.raw(), static_cast<int>(o.busy_timeout.count()));
  c.execOrThrow("PRAGMA foreign_keys = ON", "enabling foreign keys");
}

std::unique_ptr<Connection> openReader(const SqliteOptions& o, std::string_view what) {
  auto c = std::make_unique<Connection>(o.path, SQLITE_OPEN_READWRITE);
  configure(*c, o);
  c->execOrThrow("PRAGMA query_only = ON", what);
  return c;
}

sql::DialectSql sqliteSql() {
  sql::DialectSql d;
  d.begin_write = "BEGIN IMMEDIATE";
  d.begin_read = "BEGIN";
  // AUTOINCREMENT never reuses an id, even one whose order was deleted.
  d.next_order_id =
      "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'orders'), 0), "
      "coalesce((SELECT max(id) FROM orders), 0)) + 1";
  // sqlite_sequence holds the largest seq ever assigned, even when retention emptied the
  // table.
  d.stream_bounds =
      "SELECT (SELECT min(seq) FROM changes), "
      "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)";
  d.changes_all = audienceQuery(ChangeAudience::Kind::kAll);
  d.changes_customer = audienceQuery(ChangeAudience::Kind::kCustomer);
  d.changes_rider = audienceQuery(ChangeAudience::Kind::kRider);
  return d;
}

class SqliteChangeSource final : public ChangeSource {
 public:
  explicit SqliteChangeSource(std::unique_ptr<Connection> c) : c_(std::move(c)) {}

  Result<std::vector<ChangePtr>> fetch(int64_t after_seq, size_t limit) override {
    return sql::fetchChanges(*c_, dialect_, after_seq, limit, ChangeAudience::all());
  }
  Result<StreamBounds> bounds() override { return dialect_.streamBounds(*c_); }

  // data_version moves when any other connection (ours included) or process commits.
  bool maybeChanged() override {
    auto st = c_->statement("PRAGMA data_version");
    if (!st || st->step() != sql::Step::kRow) return true;
    const int64_t v = st->int64(0);
    const bool changed = v != data_version_;
    data_version_ = v;
    return changed;
  }

 private:
  std::unique_ptr<Connection> c_;
  sql::Dialect dialect_{sqliteSql()};
  int64_t data_version_ = -1;
};

// Checkpoints copy the WAL back into the database file and fsync it: milliseconds of work
// that would otherwise land inside some unlucky writer's commit. Here they run beside the
// writer (WAL allows that); the writer's own auto-checkpoint stays as a backstop at a much
// larger WAL size.
class Checkpointer {
 public:
  explicit Checkpointer(std::unique_ptr<Connection> c) : c_(std::move(c)) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "store-checkpoint");
      run();
    });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  void run() {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, kCheckpointInterval, [this] { return stop_; });
        if (stop_) return;
      }
      int log = 0, done = 0;
      const int rc =
          sqlite3_wal_checkpoint_v2(c_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("store: checkpoint failed: {}", sqlite3_errmsg(c_->raw()));
      }
    }
  }

  std::unique_ptr<Connection> c_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Opens the file for writing after checks that leave a file they refuse untouched, and
// brings its schema up to date.
class Opener {
 public:
  explicit Opener(const SqliteOptions& o) : o_(o) {}

  std::unique_ptr<Connection> take() { return std::move(writer_); }

  [[noreturn]] void fail(const std::string& why) {
    throw StoreError("cannot open Brigade database " + o_.path + ": " + why);
  }

  std::string describe(int rc) {
    std::string msg = sqlite3_errmsg(writer_->raw());
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      msg += " (another process holds a lock on it)";
    } else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
      msg += " (the file is corrupt)";
    }
    return msg;
  }

  // Runs a statement returning one text value; start-up only.
  std::optional<std::string> scalar(const std::string& sql, std::string_view what) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(writer_->raw(), sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) fail(std::string(what) + ": " + describe(rc));
    rc = sqlite3_step(st);
    std::optional<std::string> out;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      const std::string msg = describe(rc);
      sqlite3_finalize(st);
      fail(std::string(what) + ": " + msg);
    }
    sqlite3_finalize(st);
    return out;
  }

  void openWriter() {
    std::error_code ec;
    const bool existed = fs::exists(o_.path, ec) && fs::file_size(o_.path, ec) > 0;
    if (existed) {
      // A non-SQLite file must not be "repaired" into an empty database.
      std::ifstream in(o_.path, std::ios::binary);
      char header[16] = {};
      in.read(header, sizeof header);
      if (!in && !in.eof()) fail("cannot read the file");
      if (std::memcmp(header, "SQLite format 3", 16) != 0) {
        fail("not a SQLite database (corrupt or a different file); refusing to touch it");
      }
    }
    const fs::path dir =
        fs::path(o_.path).has_parent_path() ? fs::path(o_.path).parent_path() : fs::path(".");
    if (fs::exists(dir, ec) && access(dir.c_str(), W_OK) != 0) {
      // WAL needs its -wal and -shm files next to the database.
      fail("the directory " + dir.string() + " is read-only; Brigade needs to write there");
    }
    const int flags = SQLITE_OPEN_READWRITE | (existed ? 0 : SQLITE_OPEN_CREATE);
    try {
      writer_ = std::make_unique<Connection>(o_.path, flags);
    } catch (const StoreError& e) {
      fail(e.what());
    }
    if (sqlite3_db_readonly(writer_->raw(), "main") == 1) {
      fail("the file is read-only; Brigade needs to write it (check permissions)");
    }
    sqlite3_busy_timeout(writer_->raw(), static_cast<int>(o_.busy_timeout.count()));
    if (existed) {
      // Read-only checks first: a file that fails any of them is left exactly as it was.
      if (o_.check_integrity) {
        auto r = scalar("PRAGMA quick_check", "integrity check");
        if (r != "ok") {
          std::string detail = r.value_or("no answer");
          if (detail.size() > 200) detail = detail.substr(0, 200) + "...";
          fail("the file is corrupt (integrity check: " + detail + ")");
        }
      }
      const bool has_schema =
          scalar("SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'",
                 "reading the schema") == "1";
      if (has_schema) {
        const int version =
            std::stoi(scalar("SELECT coalesce(max(version), 0) FROM schema_migrations",
                             "reading the "
                             "schema version")
                          .value_or("0"));
        if (version > latestSchemaVersion()) {
          fail("its schema version " + std::to_string(version) +
               " is newer than this Brigade supports (" + std::to_string(latestSchemaVersion()) +
               "); upgrade Brigade");
        }
      } else if (scalar("SELECT count(*) FROM sqlite_master", "reading the schema") != "0") {
        fail("it has tables but no schema_migrations table: not a Brigade database");
      }
    }
    auto mode = scalar("PRAGMA journal_mode = WAL", "enabling WAL");
    if (mode != "wal") fail("cannot enable WAL (journal_mode is " + mode.value_or("?") + ")");
    const char* sync = o_.synchronous == Synchronous::kFull     ? "FULL"
                       : o_.synchronous == Synchronous::kNormal ? "NORMAL"
                                                                : "OFF";
    writer_->execOrThrow(std::string("PRAGMA synchronous = ") + sync, "setting synchronous");
    writer_->execOrThrow("PRAGMA foreign_keys = ON", "enabling foreign keys");
    writer_->execOrThrow("PRAGMA wal_autocheckpoint = " + std::to_string(kBackstopCheckpointPages),
                         "setting the checkpoint backstop");
  }

  void migrate() {
    try {
      writer_->execOrThrow(
          "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
          "name TEXT NOT NULL, applied_at TEXT NOT NULL)",
          "creating schema_migrations");
      const int current =
          std::stoi(scalar("SELECT coalesce(max(version), 0) FROM schema_migrations",
                           "reading the schema version")
                        .value_or("0"));
      for (const auto& m : migrations()) {
        if (m.version <= current) continue;
        writer_->execOrThrow("BEGIN IMMEDIATE", "starting migration");
        try {
          writer_->execOrThrow(m.sql, "migration " + std::to_string(m.version));
          writer_->execOrThrow("INSERT INTO schema_migrations(version, name, applied_at) VALUES (" +
                                   std::to_string(m.version) + ", '" + m.name + "', '" + now() +
                                   "')",
                               "recording migration");
          writer_->execOrThrow("COMMIT", "committing migration");
        } catch (...) {
          (void)writer_->exec("ROLLBACK");
          throw;
        }
        spdlog::info("store: applied migration {} ({})", m.version, m.name);
      }
    } catch (const StoreError& e) {
      if (std::string_view(e.what()).starts_with("cannot open Brigade database")) throw;
      fail(e.what());
    }
  }

  std::string readEpoch() {
    auto epoch = scalar("SELECT value FROM meta WHERE key = 'epoch'", "reading the epoch");
    if (!epoch || epoch->empty()) fail("the change stream has no epoch");
    return *epoch;
  }

 private:
  std::string now() const { return formatTimestamp(o_.store.clock()); }

  const SqliteOptions& o_;
  std::unique_ptr<Connection> writer_;
};

}  // namespace

std::unique_ptr<Store> openSqliteStore(SqliteOptions options) {
  // Memory statistics put a global mutex around every SQLite allocation; the writer makes
  // thousands per batch. Only possible before SQLite initialises (harmless if too late).
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });

  Opener opener(options);
  opener.openWriter();
  opener.migrate();
  sql::Backend b;
  b.epoch = opener.readEpoch();
  b.writers.push_back(opener.take());
  b.dialect = std::make_unique<sql::Dialect>(sqliteSql());
  for (int i = 0; i < std::max(1, options.readers); ++i) {
    b.readers.push_back(openReader(options, "configuring a reader"));
  }
  b.changes =
      std::make_unique<SqliteChangeSource>(openReader(options, "configuring the stream reader"));
  auto checkpointer = std::make_shared<std::unique_ptr<Connection>>(
      std::make_unique<Connection>(options.path, SQLITE_OPEN_READWRITE));
  configure(**checkpointer, options);
  b.start_companion = [checkpointer](std::function<void(int64_t)>) -> std::shared_ptr<void> {
    return std::make_shared<Checkpointer>(std::move(*checkpointer));
  };
  b.poll_interval = options.poll_interval;
  b.writer_options.group_commit = options.group_commit;
  b.writer_options.max_batch = options.max_batch;
  b.store = std::move(options.store);
  return std::make_unique<sql::SqlStore>(std::move(b));
}

}  // namespace brigade::store::sqlite
