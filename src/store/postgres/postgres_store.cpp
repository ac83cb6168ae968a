#include "store/postgres/postgres_store.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "core/random.hpp"
#include "store/errors.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/notified_changes.hpp"
#include "store/postgres/recorded_changes.hpp"
#include "store/postgres/schema.hpp"
#include "store/signals.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/timestamp.hpp"

namespace brigade::store::postgres {
namespace {

constexpr const char* kChannel = "brigade_changes";
constexpr const char* kSignalChannel = "brigade_signals";
// Any constant both nodes agree on: migrations run one node at a time.
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(4242424242)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(4242424242)";

std::string changesQuery(ChangeAudience::Kind kind) {
  const std::string columns =
      "SELECT c.seq, c.collection, c.op, c.record_id, c.document, c.at, c.previous_rider_id "
      "FROM changes AS c ";
  if (kind == ChangeAudience::Kind::kAll) {
    return columns + "WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2";
  }
  // As on SQLite: each kind of change the audience may see has its own index, each list is
  // cut at the limit before they are merged, so the cost follows the audience's changes.
  auto list = [](std::string_view condition) {
    return "(SELECT seq FROM changes WHERE " + std::string(condition) +
           " AND seq > ?1 ORDER BY seq LIMIT ?2)";
  };
  std::string seqs = list("collection <> 'orders'");
  if (kind == ChangeAudience::Kind::kCustomer) {
    seqs += " UNION " + list("customer_id = ?3");
  } else {
    seqs += " UNION " + list("rider_id = ?3") + " UNION " + list("previous_rider_id = ?3");
  }
  return columns + "WHERE c.seq IN (" + seqs + ") ORDER BY c.seq LIMIT ?2";
}

// `order_ids` names the orders' id sequence as pg_get_serial_sequence gives it, found once
// at start (looking it up in every order's statement was 2% of PostgreSQL's CPU).
sql::DialectSql postgresSql(const std::string& order_ids = "") {
  sql::DialectSql d;
  // Marks Brigade's write transactions for the orders insert trigger (migration 8): in
  // them the writer records a new order's change itself. SET LOCAL ends with the
  // transaction, so a pooled connection (PgBouncer) never carries it into another program's.
  d.begin_write = "BEGIN; SET LOCAL brigade.capture = 'writer'";
  d.begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  std::string quoted = "'";
  for (const char ch : order_ids) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
  d.next_order_id = order_ids.empty() ? "SELECT nextval(pg_get_serial_sequence('orders', 'id'))"
                                      : "SELECT nextval(" + quoted + "'::regclass)";
  d.writable_ctes = true;
  d.writer_captures_new_orders = true;
  d.admission_lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kAdmissionLockKey) + ")";
  // stream_head holds the newest seq ever assigned, even when retention emptied changes;
  // a seq is assigned at commit, so every seq up to the head is visible (docs/STORE.md).
  d.stream_bounds =
      "SELECT (SELECT min(seq) FROM changes WHERE seq IS NOT NULL), "
      "(SELECT seq FROM stream_head)";
  d.changes_all = changesQuery(ChangeAudience::Kind::kAll);
  d.changes_customer = changesQuery(ChangeAudience::Kind::kCustomer);
  d.changes_rider = changesQuery(ChangeAudience::Kind::kRider);
  return d;
}

// The stream thread's reads. A commit by another node is seen by the head moving; the
// listener wakes the thread at once, the poll interval bounds the wait when it cannot.
// Changes a notification carried are served from memory when they follow on without a hole.
class PostgresChangeSource final : public ChangeSource {
 public:
  PostgresChangeSource(std::unique_ptr<Connection> c, std::string epoch,
                       std::shared_ptr<NotifiedChanges> notified)
      : c_(std::move(c)),
        epoch_(std::move(epoch)),
        generation_(c_->generation()),
        notified_(std::move(notified)) {}

  Result<std::vector<ChangePtr>> fetch(int64_t after_seq, size_t limit) override {
    if (auto run = notified_->after(after_seq, limit)) return std::move(*run);
    return sql::fetchChanges(*c_, dialect_, after_seq, limit, ChangeAudience::all());
  }
  Result<StreamBounds> bounds() override { return dialect_.streamBounds(*c_); }

  bool maybeChanged() override {
    auto st = c_->statement("SELECT seq FROM stream_head");
    if (!st || st->step() != sql::Step::kRow) {
      if (reachable_.exchange(false)) spdlog::warn("store: PostgreSQL is unreachable");
      // Nothing to read meanwhile (and a failed read every poll would flood the log): the
      // head is compared again once the database answers, so nothing is missed.
      return false;
    }
    if (!reachable_.exchange(true)) spdlog::info("store: PostgreSQL is reachable again");
    const int64_t head = st->int64(0);
    const bool changed = head != last_head_;
    last_head_ = head;
    return changed;
  }

  bool reachable() const override { return reachable_.load(); }

  // Woken by a commit or a notification, the thread reads the changes anyway: reading the
  // head first would be a round trip per wake on every node (three per commit on three).
  // Unless the database was unreachable: this check is what says it is back.
  bool checkWhenWoken() const override { return !reachable_.load(); }
  void caughtUp(int64_t head) override { last_head_ = head; }

  // After every reconnect (the server behind the URL may now hold another database: a
  // restore, a failover to a replica that was not one), and every kEpochRecheck (`brigade
  // restore --new-epoch` after a pg_restore into the same server).
  std::optional<std::string> epochChange() override {
    const auto now = std::chrono::steady_clock::now();
    if (c_->generation() == generation_ && now - epoch_read_at_ < kEpochRecheck)
      return std::nullopt;
    auto st = c_->statement("SELECT value FROM meta WHERE key = 'epoch'");
    if (!st || st->step() != sql::Step::kRow) return std::nullopt;  // again next time
    generation_ = c_->generation();
    epoch_read_at_ = now;
    std::string epoch = st->text(0);
    if (epoch.empty() || epoch == epoch_) return std::nullopt;
    epoch_ = epoch;
    notified_->clear();  // another database's changes
    return epoch;
  }

 private:
  static constexpr std::chrono::seconds kEpochRecheck{1};

  std::unique_ptr<Connection> c_;
  std::string epoch_;
  uint64_t generation_;
  std::chrono::steady_clock::time_point epoch_read_at_ = std::chrono::steady_clock::now();
  std::shared_ptr<NotifiedChanges> notified_;
  sql::Dialect dialect_{postgresSql()};
  int64_t last_head_ = -1;
  std::atomic<bool> reachable_{true};
};

// LISTENs on its own connection and wakes the stream thread on every notification, and
// after every reconnect (notifications sent while it was away are lost: the stream thread
// then catches up from its own position, which is the source of truth).
class Listener {
 public:
  static constexpr std::chrono::milliseconds kRetry{500};

  Listener(std::unique_ptr<Connection> c, std::function<void(int64_t head)> wake,
           std::shared_ptr<NotifiedChanges> notified, std::shared_ptr<SignalBus> signals,
           std::string node_id)
      : c_(std::move(c)),
        wake_(std::move(wake)),
        notified_(std::move(notified)),
        signals_(std::move(signals)),
        node_prefix_(std::move(node_id) + "\n"),
        stop_fd_(eventfd(0, EFD_CLOEXEC)) {
    // LISTEN before the store is handed out: a signal sent by another node once this
    // store is open reaches it.
    const bool listening = listen();
    thread_ = std::thread([this, listening] {
      pthread_setname_np(pthread_self(), "store-listen");
      run(listening);
    });
  }
  ~Listener() {
    stop_ = true;
    const uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
    close(stop_fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  void run(bool listening) {
    while (!stop_) {
      if (!listening) {
        listening = listen();
        if (!listening) {
          waitStop(kRetry);
          continue;
        }
        // Whatever was committed while we were away; what was kept may have a hole now.
        notified_->clear();
        wake_(sql::Backend::kUnknownHead);
        // Signals sent meanwhile are gone: the live layer checks its sockets again.
        signals_->missed();
      }
      pollfd fds[2] = {{PQsocket(c_->raw()), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (stop_) return;
      if (PQconsumeInput(c_->raw()) == 0) {
        spdlog::warn("store: the LISTEN connection was lost; reconnecting");
        listening = false;
        continue;
      }
      int64_t head = -1;  // the highest head notified (-1: none)
      while (PGnotify* n = PQnotifies(c_->raw())) {
        if (std::string_view(n->relname) == kSignalChannel) {
          std::string_view payload(n->extra);
          // "<node>\n<payload>": a node's own signals were already acted on where sent.
          if (!payload.starts_with(node_prefix_)) {
            const auto nl = payload.find('\n');
            if (nl != std::string_view::npos)
              signals_->deliver(std::string(payload.substr(nl + 1)));
          }
        } else if (auto parsed = parseNotification(n->extra)) {
          // The head the commit reached, and its changes when they fit (migration 9).
          if (!parsed->changes.empty()) notified_->add(std::move(parsed->changes));
          head = std::max(head, parsed->head);
        } else {
          head = sql::Backend::kUnknownHead;  // something was committed: read
        }
        PQfreemem(n);
      }
      if (head >= 0) wake_(head);
    }
  }

  bool listen() {
    if (PQstatus(c_->raw()) != CONNECTION_OK) {
      if (auto ok = c_->ensureConnected(); !ok) return false;
    }
    return c_->exec((std::string("LISTEN ") + kChannel).c_str()).ok() &&
           c_->exec((std::string("LISTEN ") + kSignalChannel).c_str()).ok();
  }

  void waitStop(std::chrono::milliseconds d) {
    pollfd fd{stop_fd_, POLLIN, 0};
    (void)::poll(&fd, 1, static_cast<int>(d.count()));
  }

  std::unique_ptr<Connection> c_;
  std::function<void(int64_t)> wake_;
  std::shared_ptr<NotifiedChanges> notified_;
  std::shared_ptr<SignalBus> signals_;
  const std::string node_prefix_;
  int stop_fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends signals from a thread of its own (callers are event loops), on its own
// connection, in the order given; a signal that cannot be sent is dropped (at most once).
class Publisher {
 public:
  static constexpr size_t kMaxQueued = 10000;

  Publisher(std::unique_ptr<Connection> c, std::string node_id)
      : c_(std::move(c)), prefix_(std::move(node_id) + "\n") {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "store-signal");
      run();
    });
  }
  ~Publisher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void publish(std::string payload) {
    if (payload.size() + prefix_.size() > kMaxSignalBytes) {
      spdlog::warn("store: a signal of {} bytes is over the limit; dropped", payload.size());
      return;
    }
    {
      std::lock_guard lock(mutex_);
      if (stop_ || queue_.size() >= kMaxQueued) return;
      queue_.push_back(prefix_ + payload);
    }
    cv_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::string payload;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        payload = std::move(queue_.front());
        queue_.pop_front();
      }
      auto st = c_->statement(std::string("SELECT pg_notify('") + kSignalChannel + "', ?)");
      if (!st) continue;
      st->bind(1, payload);
      if (st->step() == sql::Step::kFailed) {
        spdlog::debug("store: a signal was not sent: {}", c_->lastError().message);
      }
    }
  }

  std::unique_ptr<Connection> c_;
  const std::string prefix_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  std::thread thread_;
};

void migrate(Connection& c, const std::string& url) {
  auto fail = [&](const std::string& why) {
    throw StoreError("cannot open Brigade database " + url + ": " + why);
  };
  c.execOrThrow(kMigrationLock, "taking the migration lock");
  try {
    const bool has_schema = c.scalarOrThrow("SELECT to_regclass('schema_migrations') IS NOT NULL",
                                            "reading the schema") == "t";
    if (!has_schema) {
      const auto tables =
          c.scalarOrThrow("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                          "reading the schema");
      if (tables != "0")
        fail("it has tables but no schema_migrations table: not a Brigade database");
      c.execOrThrow(
          "CREATE TABLE schema_migrations(version integer PRIMARY KEY, name text NOT NULL, "
          "applied_at text NOT NULL)",
          "creating schema_migrations");
    }
    const int current =
        std::stoi(c.scalarOrThrow("SELECT coalesce(max(version), 0) FROM schema_migrations",
                                  "reading the schema version")
                      .value_or("0"));
    if (current > latestSchemaVersion()) {
      fail("its schema version " + std::to_string(current) +
           " is newer than this Brigade supports (" + std::to_string(latestSchemaVersion()) +
           "); upgrade Brigade");
    }
    for (const auto& m : migrations()) {
      if (m.version <= current) continue;
      c.execOrThrow("BEGIN", "starting migration");
      try {
        c.execOrThrow(m.sql, "migration " + std::to_string(m.version));
        c.execOrThrow("INSERT INTO schema_migrations(version, name, applied_at) VALUES (" +
                          std::to_string(m.version) + ", '" + m.name + "', '" +
                          formatTimestamp(SystemClock::now()) + "')",
                      "recording migration");
        c.execOrThrow("COMMIT", "committing migration");
      } catch (...) {
        (void)c.exec("ROLLBACK");
        throw;
      }
      spdlog::info("store: applied PostgreSQL migration {} ({})", m.version, m.name);
    }
  } catch (...) {
    (void)c.exec(kMigrationUnlock);
    throw;
  }
  c.execOrThrow(kMigrationUnlock, "releasing the migration lock");
}

}  // namespace

std::string renewPostgresEpoch(const std::string& url) {
  Connection c(url, "restore");
  auto epoch = c.scalarOrThrow(
      "UPDATE meta SET value = md5(random()::text || clock_timestamp()::text) "
      "WHERE key = 'epoch' RETURNING value",
      "renewing the epoch");
  if (!epoch || epoch->empty()) {
    throw StoreError("cannot renew the epoch of " + url + ": not a Brigade database");
  }
  return *epoch;
}

std::unique_ptr<Store> openPostgresStore(PostgresOptions options) {
  auto writer = std::make_unique<Connection>(options.url, "writer");
  migrate(*writer, options.url);
  sql::Backend b;
  auto epoch =
      writer->scalarOrThrow("SELECT value FROM meta WHERE key = 'epoch'", "reading the epoch");
  if (!epoch || epoch->empty()) {
    throw StoreError("cannot open Brigade database " + options.url +
                     ": the change stream has no epoch");
  }
  b.epoch = *epoch;
  const std::string order_ids =
      writer->scalarOrThrow("SELECT pg_get_serial_sequence('orders', 'id')", "reading the schema")
          .value_or("");
  // New orders' changes go in numbered with the COMMIT (postgresSql: writer_captures_new_orders).
  writer->writeRecordedWith(recordedChangesStatement);
  b.writers.push_back(std::move(writer));
  for (int i = 1; i < std::max(1, options.writers); ++i) {
    auto another = std::make_unique<Connection>(options.url, "writer");
    another->writeRecordedWith(recordedChangesStatement);
    b.writers.push_back(std::move(another));
  }
  b.dialect = std::make_unique<sql::Dialect>(postgresSql(order_ids));
  for (int i = 0; i < std::max(1, options.readers); ++i) {
    b.readers.push_back(std::make_unique<Connection>(options.url, "reader"));
  }
  auto notified = std::make_shared<NotifiedChanges>();
  b.changes = std::make_unique<PostgresChangeSource>(
      std::make_unique<Connection>(options.url, "stream"), b.epoch, notified);
  std::string node_id = options.node_id.empty() ? randomId(9) : options.node_id;
  b.signals = std::make_shared<SignalBus>();
  auto publisher =
      std::make_shared<Publisher>(std::make_unique<Connection>(options.url, "signal"), node_id);
  b.publish_signal = [publisher](std::string payload) { publisher->publish(std::move(payload)); };
  auto listen = std::make_shared<std::unique_ptr<Connection>>(
      std::make_unique<Connection>(options.url, "listen"));
  b.start_companion = [listen, notified, signals = b.signals,
                       node_id](std::function<void(int64_t)> wake) -> std::shared_ptr<void> {
    return std::make_shared<Listener>(std::move(*listen), std::move(wake), notified, signals,
                                      node_id);
  };
  b.poll_interval = options.poll_interval;
  // The commit's notification wakes the stream with the changes in it; reading them back
  // on our own commit too was one more read per commit.
  b.wake_stream_on_commit = false;
  b.writer_options.group_commit = options.group_commit;
  b.writer_options.max_batch = options.max_batch;
  b.store = std::move(options.store);
  return std::make_unique<sql::SqlStore>(std::move(b));
}

}  // namespace brigade::store::postgres
