#include "server/backup_command.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <iostream>
#include <string>

#include "server/instance_lock.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/backup.hpp"

namespace brigade::server {
namespace {

namespace json = boost::json;

json::object describe(const store::sqlite::CopyInfo& info) {
  return json::object{{"file", info.file},
                      {"bytes", info.bytes},
                      {"head_seq", info.head_seq},
                      {"orders", info.orders},
                      {"schema_version", info.schema_version},
                      {"epoch", info.epoch}};
}

// postgres://user:secret@host/db -> postgres://user@host/db: the password stays out of
// terminals and shell histories (pg_dump reads it from PGPASSWORD or ~/.pgpass).
std::string withoutPassword(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

std::string shellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Parses; returns -1 to go on, or the exit code.
int parse(CLI::App& cli, int argc, char** argv) {
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);  // --help
    std::cerr << "brigade: " << e.what() << " (brigade " << cli.get_name() << " --help)\n";
    return 1;
  }
  return -1;
}

void addStoreOptions(CLI::App& cli, std::string& dataDir, std::string& db) {
  cli.add_option("--data-dir", dataDir, "where the SQLite database lives")
      ->envname("BRIGADE_DATA_DIR")
      ->capture_default_str();
  cli.add_option("--db", db, "postgres://... when the nodes share PostgreSQL")
      ->envname("BRIGADE_DB");
}

std::string databaseIn(const std::string& dataDir) {
  return (std::filesystem::path(dataDir) / "brigade.db").string();
}

}  // namespace

int runBackupCommand(int argc, char** argv) {
  CLI::App cli{"A consistent copy of the database, taken while Brigade runs", "backup"};
  std::string dataDir = "./data";
  std::string db;
  std::string to;
  addStoreOptions(cli, dataDir, db);
  cli.add_option("--to", to, "the file to write (replaced if it exists)")->required();
  if (int code = parse(cli, argc, argv); code >= 0) return code;
  if (!db.empty()) {
    std::cerr << "brigade backup: PostgreSQL is backed up with its own tools; for example:\n"
              << "  pg_dump --format=custom --file " << shellQuoted(to) << " "
              << shellQuoted(withoutPassword(db)) << "\n"
              << "(the password from PGPASSWORD or ~/.pgpass; restore with pg_restore into an "
                 "empty database, then `brigade restore --db URL --new-epoch`)\n";
    return 2;
  }
  auto copied = store::sqlite::backupDatabase(databaseIn(dataDir), to);
  if (!copied) {
    std::cerr << "brigade backup: " << copied.error().message << "\n";
    return 2;
  }
  std::cout << json::serialize(json::object{{"backup", describe(*copied)}}) << std::endl;
  std::cerr << "brigade backup: " << copied->orders << " orders, changes up to " << copied->head_seq
            << ", written to " << to << "\n";
  return 0;
}

int runRestoreCommand(int argc, char** argv) {
  CLI::App cli{"Installs a backup in place of the database (Brigade stopped)", "restore"};
  std::string dataDir = "./data";
  std::string db;
  std::string from;
  bool signOut = false;
  bool newEpoch = false;
  addStoreOptions(cli, dataDir, db);
  auto* fromOption = cli.add_option("--from", from, "the backup file (from `brigade backup`)");
  cli.add_flag("--new-epoch", newEpoch,
               "PostgreSQL, after pg_restore: give the database a new change-stream epoch");
  cli.add_flag("--sign-out-everyone", signOut,
               "revoke every session of the restored database (sign-outs after the backup "
               "are otherwise undone)");
  if (int code = parse(cli, argc, argv); code >= 0) return code;
  if (!db.empty()) {
    if (!newEpoch) {
      std::cerr << "brigade restore: PostgreSQL is restored with pg_restore; then run `brigade "
                   "restore --db URL --new-epoch` so that clients resynchronise\n";
      return 2;
    }
    try {
      const std::string epoch = store::postgres::renewPostgresEpoch(db);
      std::cout << json::serialize(json::object{{"restore", json::object{{"epoch", epoch}}}})
                << std::endl;
      std::cerr << "brigade restore: new epoch " << epoch << " (clients resynchronise)\n";
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "brigade restore: " << e.what() << "\n";
      return 2;
    }
  }
  if (from.empty() || fromOption->count() == 0) {
    std::cerr << "brigade restore: --from FILE is required\n";
    return 1;
  }
  if (!std::filesystem::is_directory(dataDir)) {
    std::cerr << "brigade restore: no data folder at " << dataDir << "\n";
    return 2;
  }
  // The data folder's lock: no Brigade may run on it meanwhile, nor start during the restore.
  auto lock = InstanceLock::acquire(dataDir);
  if (!lock) {
    std::cerr << "brigade restore: " << lock.error().message << " (stop it first)\n";
    return 2;
  }
  auto restored = store::sqlite::restoreDatabase(from, databaseIn(dataDir), signOut);
  if (!restored) {
    std::cerr << "brigade restore: " << restored.error().message << "\n";
    return 2;
  }
  std::cout << json::serialize(json::object{{"restore", describe(*restored)}}) << std::endl;
  std::cerr << "brigade restore: " << restored->orders << " orders, changes up to "
            << restored->head_seq << "; new epoch " << restored->epoch
            << " (clients resynchronise); the previous database is kept as " << databaseIn(dataDir)
            << ".before-restore\n";
  return 0;
}

}  // namespace brigade::server
