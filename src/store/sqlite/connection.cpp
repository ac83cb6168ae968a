#include "store/sqlite/connection.hpp"

#include "store/errors.hpp"
#include "store/store.hpp"

namespace brigade::store::sqlite {

sql::Step Statement::step() {
  const int rc = sqlite3_step(stmt_);
  owner_.noteResult(rc);
  switch (rc) {
    case SQLITE_ROW:
      return sql::Step::kRow;
    case SQLITE_DONE:
      return sql::Step::kDone;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return sql::Step::kUnique;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return sql::Step::kForeignKey;
    default:
      return sql::Step::kFailed;
  }
}

Connection::Connection(const std::string& path, int flags) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError("cannot open database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  cache_.clear();  // finalizes every statement before the connection closes
  sqlite3_close_v2(db_);
}

void Connection::execOrThrow(const std::string& sql, std::string_view what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw StoreError(std::string(what) + ": " + msg);
  }
}

Result<void> Connection::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  last_rc_ = rc;
  if (rc != SQLITE_OK) return lastError(sql);
  return {};
}

Result<sql::Statement> Connection::statement(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) return sql::Statement(it->second.get());
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  last_rc_ = rc;
  if (rc != SQLITE_OK) return lastError("prepare");
  auto* raw = cache_.emplace(sql, std::make_unique<Statement>(*this, stmt)).first->second.get();
  return sql::Statement(raw);
}

Error Connection::lastError(std::string_view what) const {
  std::string msg = sqlite3_errmsg(db_);
  if (!what.empty()) msg = std::string(what) + ": " + msg;
  switch (last_rc_ & 0xff) {
    case SQLITE_CONSTRAINT:
      return makeError(errc::kConflict, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return makeError(errc::kBusy, msg);
    default:
      return makeError(errc::kStorage, msg);
  }
}

sql::TransactionState Connection::transactionState() const {
  return sqlite3_get_autocommit(db_) ? sql::TransactionState::kIdle
                                     : sql::TransactionState::kActive;
}

}  // namespace brigade::store::sqlite
