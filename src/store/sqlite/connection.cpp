#include "store/sqlite/connection.hpp"

#include "store/errors.hpp"
#include "store/store.hpp"

namespace brigade::store::sqlite {

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
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
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
  if (rc != SQLITE_OK) return lastError(rc, sql);
  return {};
}

Result<sqlite3_stmt*> Connection::prepare(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return lastError(rc, "prepare");
  cache_.emplace(sql, stmt);
  return stmt;
}

Error Connection::lastError(int rc, std::string_view what) const {
  std::string msg = sqlite3_errmsg(db_);
  if (!what.empty()) msg = std::string(what) + ": " + msg;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return makeError(errc::kConflict, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return makeError(errc::kBusy, msg);
    default:
      return makeError(errc::kStorage, msg);
  }
}

}  // namespace brigade::store::sqlite
