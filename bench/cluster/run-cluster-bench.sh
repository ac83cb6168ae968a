#!/usr/bin/env bash
# Issue 11's pipeline benchmark, side by side in one run: orders over REST at fixed
# rates, measured from POST sent to the admins' order:changed, on
#   sqlite    one node on SQLite (the embedded default),
#   pg1       one node on PostgreSQL (scripts/cluster.sh up --nodes 1, straight to the node),
#   cluster3  three nodes on one PostgreSQL behind HAProxy (scripts/cluster.sh up --nodes 3),
# each started fresh for every rate, with pipeline-loadgen (bench/pipeline) as the
# client: customers and 3 admins connect through the given URL (for cluster3 HAProxy
# spreads them over the nodes). Everything on 127.0.0.1; everything it starts is stopped.
# Prints one JSON result line per case and a Markdown table at the end. Builds nothing.
#
#   bench/cluster/run-cluster-bench.sh [--build-dir DIR] [--rates "400 1000 2000"]
#       [--setups "sqlite pg1 cluster3"] [--duration 20] [--customers 1000] [--out DIR]
#       [--brigade BIN]   (another brigade binary, to compare two builds with one loadgen)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir="$root/build/release"
rates="400 1000 2000"
setups="sqlite pg1 cluster3"
duration=20
customers=1000
out=""
brigade=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --rates) rates="$2"; shift 2 ;;
    --setups) setups="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --customers) customers="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --brigade) brigade="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -n "$brigade" ] || brigade="$build_dir/src/server/brigade"
loadgen="$build_dir/bench/pipeline/pipeline-loadgen"
for binary in "$brigade" "$loadgen"; do
  [ -x "$binary" ] || { echo "missing $binary: build the release preset first" >&2; exit 2; }
done
[ -n "$out" ] || out=$(mktemp -d /tmp/cluster-bench.XXXXXX)
mkdir -p "$out"

# Every client connects from 127.0.0.1: no per-address caps, sign-up or connect limits.
node_args="--pwhash-memlimit 8192 --max-connections-per-address 0 --max-pending-per-address 0 \
--max-handshakes-per-address 0 --register-limit 1000000 --connect-rate 1000000 --log-level warn"

cluster_dir=""
server_pid=""
data_dir=""
cleanup() {
  if [ -n "$cluster_dir" ]; then
    BRIGADE_BIN="$brigade" bash "$root/scripts/cluster.sh" down --dir "$cluster_dir" >/dev/null 2>&1 || true
    rm -rf "$cluster_dir"
    cluster_dir=""
  fi
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
  if [ -n "$data_dir" ]; then
    rm -rf "$data_dir"
    data_dir=""
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
  echo "brigade: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cases: setups [$setups] x rates [$rates] orders/s, $duration s each, $customers customers, 3 admins"
} | tee "$out/machine.txt" >&2

# Starts a setup; sets port (where clients go), pid (a node, for its memory), admin.
start_setup() {
  local setup="$1"
  case "$setup" in
    sqlite)
      local log
      data_dir=$(mktemp -d /tmp/cluster-bench-data.XXXXXX)
      log="$out/sqlite.log"
      # shellcheck disable=SC2086
      (ulimit -n "$(ulimit -Hn)"; exec "$brigade" --listen 127.0.0.1:0 --data-dir "$data_dir" $node_args >"$log" 2>"$log.err") &
      server_pid=$!
      for _ in $(seq 150); do grep -q '^{"listening"' "$log" 2>/dev/null && break; sleep 0.1; done
      port=$(sed -n 's/^{"listening":"[^"]*:\([0-9]*\)".*/\1/p' "$log" | head -n 1)
      pid=$server_pid
      admin_email=$(sed -n 's/.*"role":"admin","email":"\([^"]*\)".*/\1/p' "$log" | head -n 1)
      admin_password=$(sed -n 's/.*"role":"admin","email":"[^"]*","password":"\([^"]*\)".*/\1/p' "$log" | head -n 1)
      ;;
    pg1 | cluster3)
      local nodes=1 json
      [ "$setup" = cluster3 ] && nodes=3
      cluster_dir=$(mktemp -d /tmp/cluster-bench-pg.XXXXXX)
      json=$(ulimit -n "$(ulimit -Hn)"; BRIGADE_BIN="$brigade" CLUSTER_NODE_ARGS="$node_args" \
        bash "$root/scripts/cluster.sh" up --nodes "$nodes" --dir "$cluster_dir")
      echo "$json" >"$out/$setup.cluster.json"
      if [ "$setup" = pg1 ]; then
        port=$(node -e 'const c=JSON.parse(process.argv[1]).cluster; console.log(new URL(c.nodes[0].url).port)' "$json")
      else
        port=$(node -e 'console.log(new URL(JSON.parse(process.argv[1]).cluster.url).port)' "$json")
      fi
      pid=$(node -e 'console.log(JSON.parse(process.argv[1]).cluster.nodes[0].pid)' "$json")
      admin_email=$(node -e 'console.log(JSON.parse(process.argv[1]).cluster.demo_accounts.find(a=>a.role==="admin").email)' "$json")
      admin_password=$(node -e 'console.log(JSON.parse(process.argv[1]).cluster.demo_accounts.find(a=>a.role==="admin").password)' "$json")
      ;;
    *) echo "unknown setup $setup" >&2; exit 2 ;;
  esac
  [ -n "$port" ] && [ -n "$admin_email" ] || { echo "$setup did not start" >&2; exit 1; }
}

# CPU seconds used so far by the PostgreSQL server's processes (the nodes keep their
# connections for the whole run, so their backends live through it).
pg_cpu_s() {
  local ticks=0 p t
  for p in $(pgrep -x postgres || true); do
    t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    ticks=$((ticks + t))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { print t / hz }'
}

results="$out/results.jsonl"
: >"$results"
for setup in $setups; do
  for rate in $rates; do
    start_setup "$setup"
    echo "== $setup at $rate orders/s (port $port)" >&2
    pg_before=$(pg_cpu_s)
    line=$(timeout -k 5 $((duration + 240)) "$loadgen" --port "$port" --pid "$pid" \
      --admin-email "$admin_email" --admin-password "$admin_password" \
      --customers "$customers" --rate "$rate" --duration "$duration" --grace 5 \
      --label "$setup-$rate" 2>"$out/$setup-$rate.err" | grep '^{' | tail -n 1 || true)
    pg_used=$(awk -v a="$pg_before" -v b="$(pg_cpu_s)" 'BEGIN { print b - a }')
    cleanup
    if [ -z "$line" ]; then
      echo "!! $setup at $rate: no result (see $out/$setup-$rate.err)" >&2
      continue
    fi
    # PostgreSQL's CPU for the whole run (connecting included), per order placed.
    line=$(node -e 'const r = JSON.parse(process.argv[1]); const s = Number(process.argv[2]);
      if (process.argv[3] !== "sqlite") { r.pg_cpu_s = s; r.pg_cpu_us_per_order = r.placed ? (s * 1e6) / r.placed : null; }
      console.log(JSON.stringify(r));' "$line" "$pg_used" "$setup")
    echo "$line" | tee -a "$results"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2

node - "$results" <<'JS'
const fs = require("fs");
const rows = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const f = (x, d = 1) => (x === undefined || x === null ? "–" : Number(x).toFixed(d));
console.log("| setup | rate | placed/s | POST→admin p50 ms | p99 ms | p99.9 ms | lost | duplicated | misdelivered | node CPU µs/order | PostgreSQL CPU µs/order |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const [setup, rate] = r.label.split("-");
  const placedPerS = r.placed && r.duration_s ? r.placed / r.duration_s : r.placed_per_s;
  console.log(`| ${setup} | ${rate} | ${f(placedPerS, 0)} | ${f(r.admin_p50_ms, 2)} | ${f(r.admin_p99_ms, 2)} | ${f(r.admin_p999_ms, 2)} | ${r.lost ?? "–"} | ${r.duplicates ?? "–"} | ${r.misdelivered ?? "–"} | ${f(r.server_cpu_us_per_order, 0)} | ${f(r.pg_cpu_us_per_order, 0)} |`);
}
JS
echo "logs in $out" >&2
