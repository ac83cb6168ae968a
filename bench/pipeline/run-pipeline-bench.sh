#!/usr/bin/env bash
# Runs issue 5's live pipeline benchmark on this machine: for every rate a fresh
# brigade (empty temp data dir, demo data, --pwhash-memlimit 8192) on
# 127.0.0.1, 3 admin + 5,000 customer sockets, orders over REST at a fixed
# rate, measured by pipeline-loadgen; then the server is stopped (SIGTERM,
# SIGKILL after 5 s). Fixed rates first, then a search for the highest rate
# held. Prints a Markdown table. Builds nothing. See bench/pipeline/README.md.
#
#   bench/pipeline/run-pipeline-bench.sh [--build-dir DIR] [--rates "200 400 800"]
#       [--duration S] [--search-duration S] [--search-steps N] [--budget S]
#       [--customers N] [--pool P] [--no-search] [--quick] [--port BASE] [--out DIR]
#       [--data-parent DIR]   (where the temp data dirs go; default /tmp)
#       [--status-changed]    (the admins listen to statusChanged, issue 15; runs "...-sc")
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir="$root/build/release"
rates="200 400 800"
duration=20
search_duration=10
search_steps=6
budget=900 # seconds for the whole search, setup included
customers=5000
pool=256
search=1
# Below the ephemeral range (32768-60999 here), so that no TIME_WAIT socket of
# an earlier run holds it.
base_port=29600
out=""
data_parent=/tmp
status_changed=()

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --rates) rates="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --search-duration) search_duration="$2"; shift 2 ;;
    --search-steps) search_steps="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    --customers) customers="$2"; shift 2 ;;
    --pool) pool="$2"; shift 2 ;;
    --no-search) search=0; shift ;;
    --quick) rates="200 400"; duration=5; search_duration=5; search_steps=2; customers=1000
      shift ;;
    --port) base_port="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --data-parent) data_parent="$2"; shift 2 ;;
    --status-changed) status_changed=(--status-changed); shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac

brigade="$build_dir/src/server/brigade"
loadgen="$build_dir/bench/pipeline/pipeline-loadgen"
for binary in "$brigade" "$loadgen"; do
  if [ ! -x "$binary" ]; then
    echo "missing $binary: build it first, e.g." >&2
    echo "  cmake --build $build_dir --target brigade pipeline-loadgen" >&2
    exit 2
  fi
done
if [ "$base_port" -ge 32768 ]; then
  echo "--port must be below 32768 (the ephemeral range starts there)" >&2
  exit 2
fi

[ -n "$out" ] || out=$(mktemp -d /tmp/pipeline-bench.XXXXXX)
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

. "$root/bench/lib/server.sh"  # stop_server, server_pid, data_dir
trap stop_server EXIT
trap 'exit 130' INT TERM

# start_server PORT LOG: a fresh brigade; sets server_pid once it listens.
start_server() {
  local port=$1 log=$2
  data_dir=$(mktemp -d "$data_parent/pipeline-bench-data.XXXXXX")
  # 5,000 sockets + the HTTP pool: the server needs more than the default 1,024 fds.
  (ulimit -n "$(ulimit -Hn)"
    # Every load client connects from 127.0.0.1: no per-address connection caps,
    # and no per-address sign-up limit (5,000 customers register from it).
    exec "$brigade" --listen "127.0.0.1:$port" --data-dir "$data_dir" --pwhash-memlimit 8192 \
      --max-connections-per-address 0 --max-pending-per-address 0 --max-handshakes-per-address 0 \
      --register-limit 1000000 --connect-rate 1000000 \
      --log-level warn >"$log" 2>"$log.err") &
  server_pid=$!
  for _ in $(seq 150); do
    grep -q '^{"listening"' "$log" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "brigade did not print {\"listening\":...}; logs:" >&2
  cat "$log" "$log.err" >&2
  return 1
}

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "brigade: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $brigade"
  echo "data dirs in $data_parent ($(df --output=source,fstype "$data_parent" | tail -n 1 | tr -s ' '))"
  echo "customers $customers, admins 3, pool $pool, fixed rates: $rates ($duration s each)," \
    "search: $search_duration s per step, at most $search_steps steps"
} | tee "$out/machine.txt" >&2

failures=0
index=0
last_held=""
# run_rate RATE DURATION KIND: one fresh server, one loadgen run; sets last_held.
run_rate() {
  local rate=$1 secs=$2 kind=$3
  index=$((index + 1))
  local port=$((base_port + index)) name="$kind-$rate${status_changed:+-sc}"
  # A rate run twice (e.g. --rates "400 400 400") keeps every run's files.
  if [ -e "$out/$name.out" ]; then name="$name.$index"; fi
  local log="$out/$name.server.log"
  echo "== $name: $rate orders/s for $secs s (port $port, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  last_held=false
  if ! start_server "$port" "$log"; then
    failures=$((failures + 1))
    stop_server
    return 0
  fi
  local rc=0
  local limit=$((secs * 2 + 180))
  timeout -k 5 "$limit" "$loadgen" --port "$port" --pid "$server_pid" --server-log "$log" \
    --customers "$customers" --rate "$rate" --duration "$secs" --pool "$pool" \
    --timeout "$((limit - 10))" --label "$name" "${status_changed[@]}" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
  grep -v '^{' "$out/$name.out" >&2 || true
  sed -n '1,5p' "$out/$name.err" >&2
  grep '^{' "$out/$name.out" >>"$results" || true
  if grep -q '^{.*"held":true' "$out/$name.out"; then last_held=true; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "!! brigade died during $name (see $log.err)" >&2
    rc=1
  fi
  if [ "$rc" != 0 ]; then
    echo "!! pipeline-loadgen exited with $rc for $name" >&2
    failures=$((failures + 1))
  fi
  stop_server
  sleep 2
}

best=0
for rate in $rates; do
  run_rate "$rate" "$duration" fixed
  if [ "$last_held" = true ] && [ "$rate" -gt "$best" ]; then best=$rate; fi
done

if [ "$search" = 1 ]; then
  # Doubling from the highest fixed rate held, then bisecting between the highest
  # rate held and the lowest not held, until they are within 10% or the steps or
  # the time budget run out.
  start=$SECONDS
  low=$best
  high=""
  max_fixed=0
  for rate in $rates; do [ "$rate" -gt "$max_fixed" ] && max_fixed=$rate; done
  if [ "$best" = "$max_fixed" ]; then rate=$((best * 2)); else high=$max_fixed; rate=$(((low + high) / 2)); fi
  for _ in $(seq "$search_steps"); do
    if [ $((SECONDS - start)) -ge "$budget" ]; then
      echo "search: time budget of $budget s spent" >&2
      break
    fi
    if [ -n "$high" ] && [ $((high - low)) -le $((low / 10)) ]; then break; fi
    run_rate "$rate" "$search_duration" search
    if [ "$last_held" = true ]; then low=$rate; else high=$rate; fi
    if [ -z "$high" ]; then rate=$((low * 2)); else rate=$(((low + high) / 2)); fi
  done
  best=$low
  echo "search: highest rate held $best orders/s (lowest not held: ${high:-none})" >&2
  echo "highest rate held: $best orders/s (lowest not held: ${high:-none tried})" >>"$out/machine.txt"
fi

echo >&2
node "$root/bench/pipeline/make-table.mjs" "$results" "$out/machine.txt" | tee "$out/table.md"
echo >&2
echo "raw results: $results (logs in $out)" >&2
[ "$failures" = 0 ] || { echo "$failures run(s) failed" >&2; exit 1; }
