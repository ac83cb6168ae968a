#!/usr/bin/env bash
# Builds and runs Brigade on its embedded default (SQLite in ./data) with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target brigade
bash scripts/build-web.sh
exec ./build/release/src/server/brigade --data-dir ./data "$@"
