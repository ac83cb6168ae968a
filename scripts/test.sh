#!/usr/bin/env bash
# Builds Brigade and runs every test: unit, end-to-end (real socket.io-client), store.
# Usage: scripts/test.sh [preset]   (default: release; also debug, asan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
bash scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
bash scripts/build-web.sh
ctest --preset "$preset" --output-on-failure -j2
