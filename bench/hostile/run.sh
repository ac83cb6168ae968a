#!/usr/bin/env bash
# Memory under hostile clients: raises the descriptor limit, runs hostile_bench.mjs
# against the release build (BRIGADE_BIN to use another). Bounded: about 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)"
exec timeout 600 node bench/hostile/hostile_bench.mjs "$@"
