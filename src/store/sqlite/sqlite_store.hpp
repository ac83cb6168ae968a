#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace brigade::store::sqlite {

enum class Synchronous { kFull, kNormal, kOff };

inline constexpr size_t kMaxBatch = 256;  // writes per group-commit transaction
inline constexpr int kDefaultReaders = 2;
inline constexpr std::chrono::milliseconds kDefaultPollInterval{25};

struct SqliteOptions {
  std::string path;  // the database file; created (with its schema) when missing
  StoreOptions store;
  Synchronous synchronous = Synchronous::kFull;  // FULL: an acknowledged write survives power loss
  bool group_commit = true;                      // false: one transaction (and one fsync) per write
  size_t max_batch = kMaxBatch;
  int readers = kDefaultReaders;
  std::chrono::milliseconds busy_timeout{5000};  // waiting for another process's lock
  // How often the stream thread checks PRAGMA data_version for commits by other
  // processes (own commits are noticed at once).
  std::chrono::milliseconds poll_interval = kDefaultPollInterval;
  bool check_integrity = true;  // PRAGMA quick_check on an existing file at start-up
};

// Opens (or creates) the database, refuses a corrupt, locked, read-only or newer-schema
// file with a StoreError (leaving it untouched), applies pending migrations and starts the
// writer, reader and stream threads.
std::unique_ptr<Store> openSqliteStore(SqliteOptions options);

}  // namespace brigade::store::sqlite
