#pragma once

#include <string>
#include <vector>

namespace brigade::store::postgres {

struct Migration {
  int version;
  const char* name;
  // Several statements, for one PQexec (simple query protocol) inside the runner's
  // BEGIN ... COMMIT. The runner creates and fills schema_migrations itself.
  std::string sql;
};

// Up-only, in order. Each runs in its own transaction and is recorded in
// schema_migrations; a database whose newest recorded version is above the last one
// here was written by a newer Brigade and is refused. Migration 1 is the final shape of
// the SQLite schema (its migrations 1-4), with seqs numbered at commit (schema.cpp).
const std::vector<Migration>& migrations();
int latestSchemaVersion();

}  // namespace brigade::store::postgres
