#!/usr/bin/env bash
# Runs issue 2's engine comparison in one go on this machine: Brigade's
# examples/bench-server and the Node socket.io 4.8 comparator, each started
# fresh for every scenario on 127.0.0.1, measured by bench/load/loadgen, then
# stopped (SIGTERM, SIGKILL after 5 s). Prints a Markdown table with both
# servers' figures and their ratios. --tls adds Brigade over TLS (WSS, a fresh
# self-signed certificate in the out dir) after Brigade plain for every
# scenario, and a table of TLS against plain. See bench/load/README.md.
#
#   bench/load/run-engine-bench.sh [--only brigade|node|brigade-tls] [--tls]
#       [--scenarios a,b,...] [--quick] [--build-dir DIR] [--loadgen PATH]
#       [--bench-server PATH] [--port BASE] [--out DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
only=all
build_dir="$root/build/release"
# Below the ephemeral range (32768-60999 here): a server port inside it can be
# held by one of loadgen's TIME_WAIT sockets from the previous run (EADDRINUSE).
base_port=29400
out=""
quick=0
tls=0
scenarios=""
loadgen=""
bench_server=""

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --tls) tls=1; shift ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --loadgen) loadgen="$2"; shift 2 ;;
    --bench-server) bench_server="$2"; shift 2 ;;
    --port) base_port="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
case "$only" in
  all|brigade|node) ;;
  brigade-tls) tls=1 ;;
  *) echo "--only must be brigade, node or brigade-tls" >&2; exit 2 ;;
esac
case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac

[ -n "$loadgen" ] || loadgen="$build_dir/bench/load/loadgen"
[ -n "$bench_server" ] || bench_server="$build_dir/examples/bench-server/bench-server"
node_server="$root/bench/load/node-server/server.mjs"
# Brigade plain and over TLS run one after the other for every scenario, so
# that the two are measured under the same conditions (the Node comparator has
# no TLS variant).
servers=()
case "$only" in
  all) servers=(brigade) ;;
  brigade) servers=(brigade) ;;
esac
if [ "$tls" = 1 ]; then servers+=(brigade-tls); fi
case "$only" in all|node) servers+=(node) ;; esac

# Build only what is missing.
targets=()
[ -x "$loadgen" ] || targets+=(loadgen)
if [ "$only" != node ] && [ ! -x "$bench_server" ]; then targets+=(bench-server); fi
if [ ${#targets[@]} -gt 0 ]; then
  echo "building ${targets[*]} in $build_dir" >&2
  cmake --build "$build_dir" --target "${targets[@]}"
fi
if [ "$tls" = 1 ]; then
  # Binaries built before the TLS options: say so rather than fail every run.
  case "$("$loadgen" --help 2>&1 || true)" in
    *--tls*) ;;
    *) echo "$loadgen has no --tls: rebuild it (--target loadgen)" >&2; exit 2 ;;
  esac
  case "$("$bench_server" --help 2>&1 || true)" in
    *--tls-cert*) ;;
    *) echo "$bench_server has no --tls-cert: rebuild it (--target bench-server)" >&2; exit 2 ;;
  esac
fi
if [[ " ${servers[*]} " == *" node "* ]] && [ ! -d "$root/node_modules/socket.io" ]; then
  echo "node_modules/socket.io missing: run npm ci in $root" >&2
  exit 2
fi

read -r eph_low eph_high </proc/sys/net/ipv4/ip_local_port_range || true
if [ -n "${eph_low:-}" ] && [ "$base_port" -ge "$eph_low" ] && [ "$base_port" -le "$eph_high" ]; then
  echo "warning: --port $base_port is in the ephemeral range $eph_low-$eph_high" >&2
fi

[ -n "$out" ] || out=$(mktemp -d /tmp/engine-bench.XXXXXX)
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
tls_cert="$out/tls-cert.pem"
tls_key="$out/tls-key.pem"
if [ "$tls" = 1 ]; then
  # A throwaway P-256 certificate for 127.0.0.1, valid 2 days; loadgen does not verify it.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -keyout "$tls_key" -out "$tls_cert" 2>"$out/openssl.log" ||
    { cat "$out/openssl.log" >&2; exit 2; }
fi

# name|loadgen arguments. Each scenario gets a freshly started server so that
# RSS and CPU figures are not polluted by the previous one.
if [ "$quick" = 1 ]; then
  all_scenarios=(
    "mem-1k|connect --n 1000 --settle 1"
    "mem-2k|connect --n 2000 --settle 1"
    "accept|connect --n 2000 --settle 0 --concurrency 256"
    "fanout-sat-1k|fanout --n 1000 --rate 0 --count 200"
    "fanout-2hz-1k|fanout --n 1000 --rate 2 --count 6"
    "fanout-20hz-1k|fanout --n 1000 --rate 20 --count 40"
    "echo-100x10|echo --n 100 --window 10 --duration 3"
  )
else
  all_scenarios=(
    "mem-1k|connect --n 1000 --settle 2"
    "mem-5k|connect --n 5000 --settle 2"
    "mem-10k|connect --n 10000 --settle 2"
    "mem-15k|connect --n 15000 --settle 2"
    "accept|connect --n 10000 --settle 0 --concurrency 256"
    "fanout-sat-1k|fanout --n 1000 --rate 0 --count 600"
    "fanout-sat-10k|fanout --n 10000 --rate 0 --count 50"
    "fanout-2hz-10k|fanout --n 10000 --rate 2 --count 20"
    "fanout-20hz-1k|fanout --n 1000 --rate 20 --count 200"
    "echo-100x10|echo --n 100 --window 10 --duration 10"
  )
fi

server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "server $server_pid ignored SIGTERM for 5 s: SIGKILL" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# start_server NAME PORT LOG: sets server_pid and measured_pid.
start_server() {
  local name=$1 port=$2 log=$3
  case "$name" in
    brigade) "$bench_server" --listen "127.0.0.1:$port" >"$log" 2>&1 & ;;
    brigade-tls)
      "$bench_server" --listen "127.0.0.1:$port" --tls-cert "$tls_cert" --tls-key "$tls_key" \
        >"$log" 2>&1 &
      ;;
    node) node "$node_server" --listen "127.0.0.1:$port" >"$log" 2>&1 & ;;
  esac
  server_pid=$!
  measured_pid=""
  for _ in $(seq 100); do
    measured_pid=$(sed -n 's/^PID=\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$measured_pid" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$measured_pid" ]; then
    echo "$name did not print PID=<pid>; log:" >&2
    cat "$log" >&2
    return 1
  fi
  for _ in $(seq 100); do
    ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  echo "$name is not listening on 127.0.0.1:$port" >&2
  return 1
}

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "node: $(node --version 2>/dev/null || echo none), socket.io:" \
    "$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$root/node_modules/socket.io/package.json" 2>/dev/null | head -n 1)"
  echo "brigade: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ "$tls" = 1 ]; then
    echo "tls: $(openssl version), P-256 self-signed certificate (brigade-tls)"
  fi
} | tee "$out/machine.txt" >&2

failures=0
index=0
for entry in "${all_scenarios[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  if [ -n "$scenarios" ] && [[ ",$scenarios," != *",$name,"* ]]; then continue; fi
  for server in "${servers[@]}"; do
    index=$((index + 1))
    port=$((base_port + index))
    log="$out/$server-$name.server.log"
    extra=""
    if [ "$server" = brigade-tls ]; then extra=" --tls"; fi
    echo "== $server $name: loadgen $args$extra" >&2
    if ! start_server "$server" "$port" "$log"; then
      failures=$((failures + 1))
      stop_server
      continue
    fi
    rc=0
    # shellcheck disable=SC2086 # args is a word list on purpose
    timeout -k 5 180 "$loadgen" $args$extra --port "$port" --pid "$measured_pid" \
      --label "$server/$name" >"$out/$server-$name.out" 2>"$out/$server-$name.err" || rc=$?
    grep -v '^{' "$out/$server-$name.out" >&2 || true
    sed -n '1,5p' "$out/$server-$name.err" >&2
    grep '^{' "$out/$server-$name.out" >>"$results" || true
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "!! $server died during $name (see $log)" >&2
      rc=1
    fi
    if [ "$rc" != 0 ]; then
      echo "!! loadgen exited with $rc for $server $name" >&2
      failures=$((failures + 1))
    fi
    stop_server
    sleep 1
  done
done

echo >&2
node "$root/bench/load/make-table.mjs" "$results" "$out/machine.txt" | tee "$out/table.md"
echo >&2
echo "raw results: $results (logs in $out)" >&2
[ "$failures" = 0 ] || { echo "$failures run(s) failed" >&2; exit 1; }
