#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"
#include "store/sql/connection.hpp"

namespace brigade::store::sqlite {

class Connection;

// A prepared SQLite statement, cached by its Connection.
class Statement final : public sql::StatementImpl {
 public:
  Statement(Connection& owner, sqlite3_stmt* stmt) : owner_(owner), stmt_(stmt) {}
  ~Statement() override { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bindNull(int i) override { sqlite3_bind_null(stmt_, i); }
  void bindInt64(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  void bindReal(int i, double v) override { sqlite3_bind_double(stmt_, i, v); }
  void bindText(int i, std::string_view v) override {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bindBool(int i, bool v) override { sqlite3_bind_int64(stmt_, i, v ? 1 : 0); }
  sql::Step step() override;
  bool isNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t int64(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const override {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  sqlite3_stmt* raw() const { return stmt_; }

 private:
  Connection& owner_;
  sqlite3_stmt* stmt_;
};

// One SQLite connection, used by one thread at a time, with a statement cache.
class Connection final : public sql::Connection {
 public:
  // Throws StoreError with SQLite's message when the file cannot be opened.
  Connection(const std::string& path, int flags);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* raw() const { return db_; }

  // For start-up: throws StoreError (prefixed with `what`) on failure.
  void execOrThrow(const std::string& sql, std::string_view what);

  Result<sql::Statement> statement(const std::string& sql) override;
  Result<void> exec(const char* sql) override;
  Error lastError(std::string_view what = {}) const override;
  int64_t changes() const override { return sqlite3_changes64(db_); }
  sql::TransactionState transactionState() const override;

  void noteResult(int rc) { last_rc_ = rc; }

 private:
  sqlite3* db_ = nullptr;
  int last_rc_ = SQLITE_OK;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

}  // namespace brigade::store::sqlite
