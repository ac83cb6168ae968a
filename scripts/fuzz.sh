#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset) and, for each one, replays its
# saved corpus (tests/fuzz/corpus/<target>/, -runs=0) then fuzzes it for a bounded time.
# New inputs go to build/fuzz/corpus/<target>/ and crashes to build/fuzz/artifacts/,
# so the checked-in seeds only change on purpose.
# Usage: scripts/fuzz.sh [seconds per target]   (default: 20)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers

bin=build/fuzz/tests/fuzz
status=0
for source in tests/fuzz/*_fuzz.cpp; do
  target="$(basename "$source" .cpp)"
  if [[ ! -x "$bin/$target" ]]; then
    echo "== $target: not built by tests/fuzz/CMakeLists.txt, skipped"
    continue
  fi
  seeds="tests/fuzz/corpus/$target"
  work="build/fuzz/corpus/$target"
  artifacts="build/fuzz/artifacts/$target/"
  mkdir -p "$seeds" "$work" "$artifacts"
  echo "== $target: replaying $(ls "$seeds" | wc -l) saved inputs"
  if ! "$bin/$target" -runs=0 -artifact_prefix="$artifacts" "$seeds" 2>"build/fuzz/$target.replay.log"; then
    tail -n 30 "build/fuzz/$target.replay.log"
    status=1
    continue
  fi
  echo "== $target: fuzzing for ${seconds}s"
  if ! "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "$seeds" \
      2>"build/fuzz/$target.log"; then
    tail -n 40 "build/fuzz/$target.log"
    status=1
    continue
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added" "build/fuzz/$target.log" | tr '\n' ' '
  echo
done
exit $status
