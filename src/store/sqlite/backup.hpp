#pragma once

// Backup and restore of the embedded database (docs/OPERATIONS.md, "Backup and restore").
//
// A backup is a consistent copy taken while Brigade runs: SQLite's online backup API copies
// every page in one step, inside one read transaction, so it holds exactly the changes
// committed before it began (WAL mode: writers go on meanwhile). A restore installs such a
// copy in place of the database and gives it a new epoch: its change stream may be behind
// what clients have seen, and a client offering an offset from the old epoch gets `resync`,
// never a seq reused for another change.

#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace brigade::store::sqlite {

// What a backup or a restore found in the copy.
struct CopyInfo {
  std::string file;
  int64_t bytes = 0;
  int64_t head_seq = 0;  // the newest change in it
  int64_t orders = 0;
  int schema_version = 0;
  std::string epoch;  // after a restore: the new one
};

// Copies the database at `dbPath` to `toFile` (written beside it as toFile.partial, checked,
// fsynced and renamed into place: a failed backup never leaves a file that looks whole).
// Errors: code "not_found" (no database there), "io", "corrupt".
Result<CopyInfo> backupDatabase(const std::string& dbPath, const std::string& toFile);

// Checks that `file` is a whole Brigade database this build can open: integrity, the
// schema_migrations table, a schema version not newer than this build's, an epoch.
Result<CopyInfo> inspectDatabase(const std::string& file);

// Installs `fromFile` as the database at `dbPath` with a new epoch. The caller makes sure no
// Brigade uses the data folder (it holds the folder's lock). The database it replaces, if
// any, is kept as dbPath + ".before-restore" (replacing an older one of that name); its WAL
// and shared-memory files are removed, so nothing of it is replayed into the restored copy.
// `signOutEveryone` revokes every session of the restored copy. Errors: those of
// inspectDatabase, and "io".
Result<CopyInfo> restoreDatabase(const std::string& fromFile, const std::string& dbPath,
                                 bool signOutEveryone = false);

}  // namespace brigade::store::sqlite
