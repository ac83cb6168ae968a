#!/usr/bin/env bash
# Runs issue 10's soak on this machine: a fresh release brigade (empty temp data
# dir, demo data, --pwhash-memlimit 8192, per-address caps, sign-up and connect
# limits lifted) on 127.0.0.1; 3 admin + N customer + R rider sockets; orders
# over REST at a fixed rate for M minutes while riders share their location and
# P% of the customer sockets reconnect (resuming from their last offset) every
# minute; measured by pipeline-loadgen, one JSON line per window, then the
# server is stopped (SIGTERM, SIGKILL after 5 s). Builds nothing. The last line
# printed is the JSON result line. See bench/soak/README.md.
#
#   bench/soak/run-soak.sh [--build-dir DIR] [--minutes 30] [--rate 200]
#       [--customers 5000] [--riders 20] [--reconnect-percent 10]
#       [--sample-seconds 60] [--warmup 60] [--pool 256] [--port 29550]
#       [--out DIR] [--data-parent DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir="$root/build/release"
minutes=30
rate=200
customers=5000
riders=20
reconnect_percent=10
sample_seconds=60
warmup=60
pool=256
# Below the ephemeral range (32768-60999 here), and apart from run-pipeline-bench.sh's.
port=29550
out=""
data_parent=/tmp

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --minutes) minutes="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --customers) customers="$2"; shift 2 ;;
    --riders) riders="$2"; shift 2 ;;
    --reconnect-percent) reconnect_percent="$2"; shift 2 ;;
    --sample-seconds) sample_seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --pool) pool="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --data-parent) data_parent="$2"; shift 2 ;;
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
if [ "$port" -ge 32768 ]; then
  echo "--port must be below 32768 (the ephemeral range starts there)" >&2
  exit 2
fi

[ -n "$out" ] || out=$(mktemp -d /tmp/soak.XXXXXX)
mkdir -p "$out"
log="$out/server.log"

. "$root/bench/lib/server.sh"  # stop_server, server_pid, data_dir
trap stop_server EXIT
trap 'exit 130' INT TERM

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "brigade: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $brigade"
  echo "soak: $minutes min at $rate orders/s, $customers customers, 3 admins, $riders riders," \
    "$reconnect_percent% of customer sockets reconnecting per minute, windows of $sample_seconds s"
} | tee "$out/machine.txt" >&2

data_dir=$(mktemp -d "$data_parent/soak-data.XXXXXX")
# N sockets + the HTTP pool: the server needs more than the default 1,024 fds.
(ulimit -n "$(ulimit -Hn)"
  # Every load client connects from 127.0.0.1: no per-address caps; every customer
  # signs up from it and reconnects more than 30 times an hour: no sign-up or
  # per-user connect limit either.
  exec "$brigade" --listen "127.0.0.1:$port" --data-dir "$data_dir" --pwhash-memlimit 8192 \
    --max-connections-per-address 0 --max-pending-per-address 0 --max-handshakes-per-address 0 \
    --register-limit 1000000 --connect-rate 1000000 \
    --log-level warn >"$log" 2>"$log.err") &
server_pid=$!
listening=0
for _ in $(seq 150); do
  if grep -q '^{"listening"' "$log" 2>/dev/null; then listening=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$listening" = 0 ]; then
  echo "brigade did not print {\"listening\":...}; logs:" >&2
  cat "$log" "$log.err" >&2
  exit 1
fi

secs=$((minutes * 60))
# Setup (registrations, sockets) takes about a minute; grace and the end 10 s.
limit=$((secs + 300))
rc_file="$out/loadgen.rc"
# stdout: the JSON lines only (windows, then the result line); the rest to stderr.
{
  rc=0
  timeout -k 5 "$limit" "$loadgen" --port "$port" --pid "$server_pid" --server-log "$log" \
    --customers "$customers" --riders "$riders" --rate "$rate" --duration "$secs" --pool "$pool" \
    --reconnect-percent "$reconnect_percent" --sample-seconds "$sample_seconds" \
    --warmup "$warmup" --grace 10 --timeout "$((limit - 10))" --label "soak-${minutes}min" \
    2>"$out/loadgen.err" || rc=$?
  echo "$rc" >"$rc_file"
} | tee "$out/loadgen.out" | while IFS= read -r line; do
  # Line by line as they come (awk would read its input in blocks).
  case "$line" in
    "{"*) printf '%s\n' "$line" ;;
    *) printf '%s\n' "$line" >&2 ;;
  esac
done
rc=$(cat "$rc_file")
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "!! brigade died during the soak (see $log.err)" >&2
  rc=1
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
stop_server
sed -n '1,10p' "$out/loadgen.err" >&2
echo "logs in $out" >&2
[ "$rc" = 0 ] || echo "!! pipeline-loadgen exited with $rc" >&2
exit "$rc"
