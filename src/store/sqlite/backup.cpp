#include "store/sqlite/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

#include "store/sqlite/schema.hpp"

namespace brigade::store::sqlite {
namespace {

namespace fs = std::filesystem;

// How long a backup waits for a moment when it can read (a checkpoint holding the file).
constexpr auto kBusyTimeoutMs = 5000;
constexpr int kBusyRetries = 100;
constexpr auto kBusyRetryPause = std::chrono::milliseconds(50);

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Result<Db> open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return makeError(
        "io", "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

// The first column of the first row, or nullopt (no row, or an error: `error` says which).
std::optional<std::string> scalar(sqlite3* db, const char* sql, std::string* error = nullptr) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    if (error) *error = sqlite3_errmsg(db);
    return std::nullopt;
  }
  std::optional<std::string> out;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    out = text ? std::string(text) : std::string();
  } else if (rc != SQLITE_DONE && error) {
    *error = sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  return out;
}

Result<void> exec(sqlite3* db, const char* sql, const std::string& what) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return makeError("io", what + ": " + text);
  }
  return {};
}

Result<void> fsyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return makeError("io", "cannot open " + path.string() + " to sync it");
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return makeError("io", "cannot sync " + path.string());
  return {};
}

fs::path parentOf(const fs::path& file) {
  return file.has_parent_path() ? file.parent_path() : fs::path(".");
}

// What the copy holds; the checks of inspectDatabase on an open connection.
Result<CopyInfo> describe(sqlite3* db, const std::string& file) {
  std::string error;
  auto check = scalar(db, "PRAGMA quick_check", &error);
  if (check != "ok") {
    return makeError("corrupt", file + " is damaged or not a database (" +
                                    (check ? check->substr(0, 200) : error) + ")");
  }
  if (scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'") != "1" ||
      scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'") != "1") {
    return makeError("corrupt", file + " is not a Brigade database");
  }
  CopyInfo info;
  info.file = file;
  info.schema_version = std::stoi(
      scalar(db, "SELECT coalesce(max(version), 0) FROM schema_migrations").value_or("0"));
  if (info.schema_version > latestSchemaVersion()) {
    return makeError("corrupt", file + " has schema version " +
                                    std::to_string(info.schema_version) +
                                    ", newer than this Brigade supports (" +
                                    std::to_string(latestSchemaVersion()) + "); upgrade Brigade");
  }
  info.epoch = scalar(db, "SELECT value FROM meta WHERE key = 'epoch'").value_or("");
  if (info.epoch.empty()) return makeError("corrupt", file + " has no change-stream epoch");
  // AUTOINCREMENT's counter: the newest seq ever given, also when retention emptied the table.
  info.head_seq = std::stoll(
      scalar(db,
             "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0), "
             "coalesce((SELECT max(seq) FROM changes), 0))")
          .value_or("0"));
  info.orders = std::stoll(scalar(db, "SELECT count(*) FROM orders").value_or("0"));
  std::error_code ec;
  info.bytes = static_cast<int64_t>(fs::file_size(file, ec));
  return info;
}

}  // namespace

Result<CopyInfo> backupDatabase(const std::string& dbPath, const std::string& toFile) {
  if (!fs::exists(dbPath)) return makeError("not_found", "no database at " + dbPath);
  const std::string partial = toFile + ".partial";
  std::error_code ec;
  fs::remove(partial, ec);

  auto source = open(dbPath, SQLITE_OPEN_READWRITE);  // read only; WAL needs the -shm writable
  if (!source) return source.error();
  {
    auto target = open(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!target) return target.error();
    sqlite3_backup* backup = sqlite3_backup_init(target->get(), "main", source->get(), "main");
    if (!backup) return makeError("io", std::string("backup: ") + sqlite3_errmsg(target->get()));
    // One step copies every page inside one read transaction: a consistent snapshot.
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < kBusyRetries; ++attempt) {
      rc = sqlite3_backup_step(backup, -1);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      std::this_thread::sleep_for(kBusyRetryPause);
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
      fs::remove(partial, ec);
      return makeError("io", std::string("backup: ") + sqlite3_errstr(rc));
    }
    // One self-contained file: no -wal beside it to lose when it is moved.
    auto single = exec(target->get(), "PRAGMA journal_mode = DELETE", "backup");
    if (!single) {
      fs::remove(partial, ec);
      return single.error();
    }
    auto info = describe(target->get(), partial);
    if (!info) {
      fs::remove(partial, ec);
      return info.error();
    }
  }
  if (auto synced = fsyncPath(partial, false); !synced) return synced.error();
  fs::rename(partial, toFile, ec);
  if (ec)
    return makeError("io", "cannot rename " + partial + " to " + toFile + ": " + ec.message());
  if (auto synced = fsyncPath(parentOf(toFile), true); !synced) return synced.error();
  return inspectDatabase(toFile);
}

Result<CopyInfo> inspectDatabase(const std::string& file) {
  if (!fs::is_regular_file(file)) return makeError("not_found", "no file at " + file);
  auto db = open(file, SQLITE_OPEN_READONLY);
  if (!db) return makeError("corrupt", db.error().message);
  return describe(db->get(), file);
}

Result<CopyInfo> restoreDatabase(const std::string& fromFile, const std::string& dbPath,
                                 bool signOutEveryone) {
  auto checked = inspectDatabase(fromFile);
  if (!checked) return checked.error();
  const std::string restoring = dbPath + ".restoring";
  std::error_code ec;
  fs::remove(restoring, ec);
  fs::copy_file(fromFile, restoring, fs::copy_options::overwrite_existing, ec);
  if (ec) return makeError("io", "cannot copy " + fromFile + ": " + ec.message());
  {
    auto db = open(restoring, SQLITE_OPEN_READWRITE);
    if (!db) return db.error();
    for (const char* sql :
         {"PRAGMA journal_mode = DELETE",
          "UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'epoch'"}) {
      if (auto done = exec(db->get(), sql, "restore"); !done) {
        fs::remove(restoring, ec);
        return done.error();
      }
    }
    if (signOutEveryone) {
      if (auto done = exec(db->get(), "DELETE FROM tokens", "signing everyone out"); !done) {
        fs::remove(restoring, ec);
        return done.error();
      }
    }
  }
  if (auto synced = fsyncPath(restoring, false); !synced) return synced.error();

  // The database it replaces is kept, with its WAL (which may hold committed pages).
  const std::string kept = dbPath + ".before-restore";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(kept + suffix, ec);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    if (!fs::exists(dbPath + suffix)) continue;
    fs::rename(dbPath + suffix, kept + suffix, ec);
    if (ec) return makeError("io", "cannot move " + dbPath + suffix + " aside: " + ec.message());
  }
  fs::rename(restoring, dbPath, ec);
  if (ec) return makeError("io", "cannot install " + restoring + ": " + ec.message());
  if (auto synced = fsyncPath(parentOf(dbPath), true); !synced) return synced.error();
  auto installed = inspectDatabase(dbPath);
  if (!installed) return installed.error();
  installed->file = dbPath;
  return installed;
}

}  // namespace brigade::store::sqlite
