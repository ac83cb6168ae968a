#pragma once

#include <string>
#include <vector>

namespace brigade::store::sqlite {

struct Migration {
  int version;
  const char* name;
  std::string sql;
};

// Up-only, in order. Each runs in its own transaction and is recorded in
// schema_migrations; a database whose newest recorded version is above the last one
// here was written by a newer Brigade and is refused.
const std::vector<Migration>& migrations();
int latestSchemaVersion();

}  // namespace brigade::store::sqlite
