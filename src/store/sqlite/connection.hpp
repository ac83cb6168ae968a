#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"

namespace brigade::store::sqlite {

// A cached prepared statement borrowed from a Connection: reset and unbound when it goes
// out of scope, so the next user finds it clean.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() {
    if (stmt_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, bool v) { return bind(i, static_cast<int64_t>(v ? 1 : 0)); }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::nullopt_t) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind(i, std::nullopt);
  }

  int step() { return sqlite3_step(stmt_); }

  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
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
  sqlite3_stmt* stmt_;
};

// One SQLite connection, used by one thread at a time, with a statement cache.
class Connection {
 public:
  // Throws StoreError with `what` and SQLite's message when the file cannot be opened.
  Connection(const std::string& path, int flags);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* raw() const { return db_; }

  // For start-up: throws StoreError (prefixed with `what`) on failure.
  void execOrThrow(const std::string& sql, std::string_view what);
  // Data path: returns an Error mapped from the SQLite result code.
  Result<void> exec(const char* sql);

  // A cached statement; the SQL text is the cache key. Returns an Error on a prepare
  // failure (which only a broken schema can cause).
  Result<sqlite3_stmt*> prepare(const std::string& sql);
  Result<Statement> statement(const std::string& sql) {
    auto p = prepare(sql);
    if (!p) return p.error();
    return Statement(*p);
  }

  // The error for the last failed call on this connection (code from store/errors.hpp).
  Error lastError(int rc, std::string_view what = {}) const;
  int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace brigade::store::sqlite
