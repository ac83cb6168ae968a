#pragma once

// `brigade backup --to FILE` and `brigade restore --from FILE` (docs/OPERATIONS.md,
// "Backup and restore"). Exit codes: 0 done, 1 bad usage, 2 refused or failed (one line on
// standard error says why). On success one JSON line on standard output says what the copy
// holds, for scripts.

namespace brigade::server {

int runBackupCommand(int argc, char** argv);
int runRestoreCommand(int argc, char** argv);

}  // namespace brigade::server
