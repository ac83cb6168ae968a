#include "server/tool_store.hpp"

#include <filesystem>

#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace brigade::server {

std::unique_ptr<store::Store> openToolStore(const std::string& db, const std::string& dataDir,
                                            const std::string& nodeId, bool createDataDir) {
  if (!db.empty()) {
    store::postgres::PostgresOptions options;
    options.url = db;
    options.node_id = nodeId;
    options.writers = 1;
    options.readers = 1;
    return store::postgres::openPostgresStore(options);
  }
  if (createDataDir) std::filesystem::create_directories(dataDir);
  store::sqlite::SqliteOptions options;
  options.path = (std::filesystem::path(dataDir) / "brigade.db").string();
  return store::sqlite::openSqliteStore(options);
}

}  // namespace brigade::server
