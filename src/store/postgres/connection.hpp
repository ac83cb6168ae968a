#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "store/sql/connection.hpp"

namespace brigade::store::postgres {

class Connection;

// A statement prepared on a PostgreSQL connection (again after every reconnect), run with
// text parameters; its whole result is fetched at the first step.
class Statement final : public sql::StatementImpl {
 public:
  Statement(Connection& owner, std::string sql, int params, std::string name, bool simple);
  ~Statement() override;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bindNull(int i) override;
  void bindInt64(int i, int64_t v) override;
  void bindReal(int i, double v) override;
  void bindText(int i, std::string_view v) override;
  void bindBool(int i, bool v) override;
  sql::Step step() override;
  // For Connection::commit's pipeline: prepares the statement if this connection has not
  // (outside pipeline mode), then queues its execution.
  sql::Step prepare();
  bool send();
  bool isNull(int col) const override;
  int64_t int64(int col) const override;
  double real(int col) const override;
  std::string text(int col) const override;
  void reset() override;

 private:
  void set(int i, std::string value);
  sql::Step execute();
  sql::Step executeOnce();
  // libpq's parameter array: the bound values, null where none is bound.
  std::vector<const char*> boundValues() const;

  Connection& owner_;
  const std::string sql_;  // with $N placeholders
  const int params_;
  const std::string name_;
  const bool simple_;          // a utility statement (savepoints): run with the simple protocol
  uint64_t prepared_for_ = 0;  // the connection generation it was prepared on (0: never)
  std::vector<std::string> values_;
  std::vector<char> set_;  // which parameters are non-null
  PGresult* result_ = nullptr;
  int row_ = -1;
};

// One PostgreSQL connection, used by one thread at a time, with a statement cache. A lost
// connection is re-established on next use, but never in the middle of a transaction that
// the caller opened (that transaction is gone: its writes fail with
// errc::kUnavailable and the caller starts again); attempts are spaced by
// kReconnectBackoff so a database that is down costs no time per request.
class Connection final : public sql::Connection {
 public:
  static constexpr std::chrono::milliseconds kReconnectBackoff{250};
  // Set on every connection (see connect()).
  static constexpr std::chrono::milliseconds kIdleInTransactionTimeout{5000};

  // Connects at once; throws StoreError with one clear line when it cannot. `role` names the
  // connection in pg_stat_activity (application_name).
  Connection(std::string url, std::string_view role);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result<sql::Statement> statement(const std::string& sql) override;
  // The same, unwrapped: bound and sent by the caller (commit's recorded changes).
  Statement& cached(const std::string& sql);
  Result<void> exec(const char* sql) override;
  // With recorded changes: the statement that writes them (from writeRecorded, bound) and
  // COMMIT go in one round trip (libpq's pipeline mode), so the numbering's lock is taken
  // as late as the commit's own triggers take it.
  Result<void> commit() override;
  using RecordedWriter =
      std::function<Statement&(Connection&, const std::vector<sql::RecordedChange>&)>;
  void writeRecordedWith(RecordedWriter writer) { write_recorded_ = std::move(writer); }
  Error lastError(std::string_view what = {}) const override;
  int64_t changes() const override { return changes_; }
  sql::TransactionState transactionState() const override;

  // Several statements through the simple protocol; for start-up: throws StoreError.
  void execOrThrow(const std::string& sql, std::string_view what);
  // Runs one statement and returns the first column of its first row (nullopt: no row or
  // NULL); start-up and tools: throws StoreError.
  std::optional<std::string> scalarOrThrow(const std::string& sql, std::string_view what);

  PGconn* raw() const { return conn_; }
  // Re-establishes a lost connection (unless a transaction of ours was open on it).
  Result<void> ensureConnected();
  uint64_t generation() const { return generation_; }
  bool lost() const;

 private:
  friend class Statement;
  // Records the outcome of a command; returns the step it means.
  sql::Step note(PGresult* result);
  void noteLost(std::string message);
  bool connect();

  const std::string url_;
  const std::string role_;
  PGconn* conn_ = nullptr;
  uint64_t generation_ = 0;      // bumped by every (re)connection: statements re-prepare
  bool in_transaction_ = false;  // a BEGIN of ours has not been ended
  std::chrono::steady_clock::time_point last_attempt_{};
  bool fresh_loss_ = false;  // lost since the last attempt: reconnect without waiting
  std::string error_message_;
  std::string error_state_;  // SQLSTATE of the last error ("" when the connection was lost)
  int64_t changes_ = 0;
  uint64_t next_name_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
  RecordedWriter write_recorded_;
};

}  // namespace brigade::store::postgres
