#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

// The SQL seam between the domain operations (store/sql/*.cpp), written once, and a
// backend's driver (store/sqlite, store/postgres). Domain SQL is the common subset of
// SQLite and PostgreSQL: `?N` (or `?`) placeholders, RETURNING, ON CONFLICT, CAST(... AS
// BIGINT); what differs lives behind sql::Dialect (store/sql/dialect.hpp).
namespace brigade::store::sql {

// What one step of a statement gave.
enum class Step {
  kRow,         // a row is available through the column getters
  kDone,        // the statement finished
  kUnique,      // a unique or primary-key constraint refused the write
  kForeignKey,  // a foreign-key constraint refused the write
  kFailed,      // anything else; Connection::lastError() says what
};

// A prepared statement as a backend implements it: owned and cached by its Connection,
// used by one caller at a time through sql::Statement.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  virtual void bindNull(int index) = 0;  // indexes start at 1
  virtual void bindInt64(int index, int64_t value) = 0;
  virtual void bindReal(int index, double value) = 0;
  virtual void bindText(int index, std::string_view value) = 0;
  virtual void bindBool(int index, bool value) = 0;
  virtual Step step() = 0;
  // Column getters for the current row; columns start at 0. Booleans read as 0/1.
  virtual bool isNull(int column) const = 0;
  virtual int64_t int64(int column) const = 0;
  virtual double real(int column) const = 0;
  virtual std::string text(int column) const = 0;
  // Forgets bindings and results, ready for the next user.
  virtual void reset() = 0;
};

// A borrowed statement: reset when it goes out of scope, so the next user finds it clean.
class Statement {
 public:
  explicit Statement(StatementImpl* impl) : impl_(impl) {}
  ~Statement() {
    if (impl_) impl_->reset();
  }
  Statement(Statement&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int i, int64_t v) {
    impl_->bindInt64(i, v);
    return *this;
  }
  Statement& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, bool v) {
    impl_->bindBool(i, v);
    return *this;
  }
  Statement& bind(int i, double v) {
    impl_->bindReal(i, v);
    return *this;
  }
  Statement& bind(int i, std::string_view v) {
    impl_->bindText(i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::nullopt_t) {
    impl_->bindNull(i);
    return *this;
  }
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind(i, std::nullopt);
  }

  Step step() { return impl_->step(); }

  bool isNull(int col) const { return impl_->isNull(col); }
  int64_t int64(int col) const { return impl_->int64(col); }
  double real(int col) const { return impl_->real(col); }
  std::string text(int col) const { return impl_->text(col); }
  std::optional<int64_t> optInt64(int col) const {
    return isNull(col) ? std::nullopt : std::optional<int64_t>(int64(col));
  }
  std::optional<double> optReal(int col) const {
    return isNull(col) ? std::nullopt : std::optional<double>(real(col));
  }
  std::optional<std::string> optText(int col) const {
    return isNull(col) ? std::nullopt : std::optional<std::string>(text(col));
  }

 private:
  StatementImpl* impl_;
};

// Where a connection stands with respect to a transaction.
enum class TransactionState {
  kIdle,    // no transaction open
  kActive,  // inside a transaction that can still commit
  kBroken,  // inside a transaction that can no longer commit (must roll back)
  kLost,    // the connection itself is gone
};

// A change a write leaves to the commit, which writes it numbered (PostgreSQL's writer:
// see DialectSql::writer_captures_new_orders). Inserted, never updated: no trigger numbers it.
struct RecordedChange {
  std::string collection;
  std::string op;
  int64_t record_id = 0;
  std::string document;
  std::optional<int64_t> customer_id;
  std::optional<int64_t> rider_id;
};

// One database connection, used by one thread at a time, with a statement cache.
class Connection {
 public:
  virtual ~Connection() = default;

  // The open transaction's recorded changes, in the order recorded; the writer drops those
  // of a write it rolls back (forgetRecorded) and commit() writes the rest.
  void recordAtCommit(RecordedChange change) { recorded_.push_back(std::move(change)); }
  const std::vector<RecordedChange>& recorded() const { return recorded_; }
  void forgetRecorded(size_t from) {
    if (from < recorded_.size()) recorded_.resize(from);
  }
  // Commits the open transaction with its recorded changes, which are dropped either way.
  // A backend that records none only runs COMMIT.
  virtual Result<void> commit() {
    recorded_.clear();
    return exec("COMMIT");
  }

  // A cached statement; the SQL text is the cache key.
  virtual Result<Statement> statement(const std::string& sql) = 0;
  // Runs SQL without results (transaction control, savepoints).
  virtual Result<void> exec(const char* sql) = 0;
  // The error of the last failed call on this connection (codes from store/errors.hpp).
  virtual Error lastError(std::string_view what = {}) const = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t changes() const = 0;
  virtual TransactionState transactionState() const = 0;

  Error lastError(Step, std::string_view what = {}) const { return lastError(what); }

 protected:
  std::vector<RecordedChange> recorded_;
};

}  // namespace brigade::store::sql
