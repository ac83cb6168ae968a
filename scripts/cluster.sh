#!/usr/bin/env bash
# Runs a throwaway Brigade cluster on this machine: one PostgreSQL 15 (scripts/pg.sh),
# N brigade nodes sharing it, and HAProxy in front, all on 127.0.0.1. For tests, demos
# and fault drills (kill a node, restart PostgreSQL), not for production (see
# deploy/haproxy.cfg and README.md, "Scale out").
#
# Usage:
#   scripts/cluster.sh up --dir DIR [--nodes N] [--port P]   start everything, print one JSON line
#   scripts/cluster.sh kill ID --dir DIR          SIGKILL node ID (a crash)
#   scripts/cluster.sh stop ID --dir DIR          SIGTERM node ID (SIGKILL after 10 s)
#   scripts/cluster.sh start ID --dir DIR         start node ID again (same port and flags)
#   scripts/cluster.sh pg-restart fast|immediate --dir DIR   restart PostgreSQL, wait for the nodes
#   scripts/cluster.sh status --dir DIR           one JSON line: who runs and answers
#   scripts/cluster.sh down --dir DIR             stop HAProxy, every node and PostgreSQL
#
# `up` (N nodes, default 3, ids a, b, c, ...; HAProxy on 127.0.0.1:P, default a free
# port) prints exactly one line on stdout once every node and HAProxy answer /healthz:
#   {"cluster":{"url":"http://127.0.0.1:P","nodes":[{"id":"a","url":...,"pid":...},...],
#               "postgres":"postgres://...","demo_accounts":[...]}}
# and returns with everything running in the background. Progress and diagnostics go
# to stderr; a failure is one line on stderr and a non-zero exit, after stopping what
# it started.
#
# DIR (use a directory under /tmp: as root, PostgreSQL runs as the `postgres` user,
# which must reach DIR/pg) holds pg/ (scripts/pg.sh's folder), node-ID/ (a node's
# --data-dir), node-ID.log (its stdout and stderr, appended), node-ID.pid, node-ID.port,
# haproxy.cfg (generated from the rules of deploy/haproxy.cfg), haproxy.log,
# haproxy.pid, and what later commands need (nodes, node-args, brigade.bin, url,
# demo_accounts.json).
#
# The brigade binary is $BRIGADE_BIN when set, else build/release/src/server/brigade
# of this checkout (built with the release preset if missing); `start` reuses the one
# `up` used. CLUSTER_FAST_HASH=1 (tests) adds --pwhash-memlimit 8388608 (a small
# Argon2id memory); CLUSTER_NODE_ARGS adds flags to every node (split on spaces, e.g.
# "--register-limit 100000 --log-level warn"). Nodes share the machine's cores: each runs
# nproc/N event loops (at least one) and, with N > 1, one writer connection, unless
# CLUSTER_NODE_ARGS gives --threads or --db-writers.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PG_SH="$ROOT/scripts/pg.sh"
NODE_IDS=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
START_TIMEOUT=60 # seconds for a node, HAProxy or PostgreSQL to come up
STOP_GRACE=10    # seconds between SIGTERM and SIGKILL

die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

say() {
  echo "cluster.sh: $*" >&2
}

usage() {
  sed -n '7,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
command="$1"
shift

target=""
case "$command" in
  kill | stop | start | pg-restart)
    [[ $# -ge 1 && "$1" != --* ]] || usage
    target="$1"
    shift
    ;;
  up | down | status) ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac

dir=""
nodes=3
port=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) [[ $# -ge 2 ]] || usage; dir="$2"; shift 2 ;;
    --nodes) [[ $# -ge 2 && "$command" == up ]] || usage; nodes="$2"; shift 2 ;;
    --port) [[ $# -ge 2 && "$command" == up ]] || usage; port="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[[ -n "$dir" ]] || die "--dir DIR is required"
[[ "$nodes" =~ ^[0-9]+$ && "$nodes" -ge 1 && "$nodes" -le ${#NODE_IDS[@]} ]] ||
  die "--nodes must be a number in 1..${#NODE_IDS[@]}"
[[ -z "$port" || "$port" =~ ^[0-9]+$ && "$port" -ge 1024 && "$port" -le 65535 ]] ||
  die "--port must be a number in 1024..65535"
dir="$(realpath -m -- "$dir")"
[[ "$dir" != / ]] || die "refusing to use / as the cluster directory"

# --- small helpers -----------------------------------------------------------------------

# Does PID run (a zombie counts as gone)? For our own child just started: it may not have
# exec'd the binary yet (its command line is still this script's), so only whether it runs
# is asked, not what it is.
running() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ "$state" != Z && "$state" != X ]]
}

# Is PID alive and the process we think it is (its command line contains MARK)?
alive() {
  local pid="$1" mark="$2"
  running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$mark"
}

# Waits up to SECONDS for PID to be gone.
wait_gone() {
  local pid="$1" mark="$2" seconds="$3" i
  for ((i = 0; i < seconds * 10; i++)); do
    alive "$pid" "$mark" || return 0
    sleep 0.1
  done
  ! alive "$pid" "$mark"
}

# SIGTERM, then SIGKILL after GRACE seconds; fine if not running.
terminate() {
  local pid="$1" mark="$2" grace="$3"
  alive "$pid" "$mark" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" "$mark" "$grace" && return 0
  say "pid $pid did not stop within ${grace} s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" "$mark" 5 || die "pid $pid survived SIGKILL"
}

healthy() {
  curl -sf -o /dev/null --max-time 2 "$1/healthz"
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null && return
  fi
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

read_file() {
  [[ -f "$1" ]] || die "$dir has no cluster started by cluster.sh (no $1)"
  cat "$1"
}

# The last line of LOG written after byte OFFSET (not our own markers), for one-line errors.
# HAProxy's first [ALERT] says more than its last line.
last_line() {
  local text
  text="$(tail -c +$(($2 + 1)) "$1" 2>/dev/null | grep -v '^--- cluster.sh' | grep . || true)"
  if grep -q '\[ALERT\]' <<<"$text"; then
    grep -m1 '\[ALERT\]' <<<"$text"
  else
    tail -n 1 <<<"$text"
  fi
}

node_pid() { cat "$dir/node-$1.pid" 2>/dev/null || true; }
node_port() { cat "$dir/node-$1.port" 2>/dev/null || true; }
node_mark() { echo "--data-dir $dir/node-$1 "; }
haproxy_mark() { echo "-f $dir/haproxy.cfg"; }

known_node() {
  local id="$1"
  grep -qx -- "$id" "$dir/nodes" 2>/dev/null || die "no node '$id' in the cluster of $dir"
}

brigade_binary() {
  if [[ -n "${BRIGADE_BIN:-}" ]]; then
    [[ -x "$BRIGADE_BIN" ]] || die "BRIGADE_BIN=$BRIGADE_BIN is not an executable"
    realpath -- "$BRIGADE_BIN"
    return
  fi
  local bin="$ROOT/build/release/src/server/brigade"
  if [[ ! -x "$bin" ]]; then
    say "building brigade (release preset)"
    (cd "$ROOT" && cmake --preset release >&2 && cmake --build --preset release >&2) ||
      die "the build failed"
  fi
  echo "$bin"
}

# --- nodes ---------------------------------------------------------------------------------

# Starts node ID in the background and waits until it printed its listening line and
# answers /healthz. The first start listens on port 0 and remembers the port it got;
# later starts reuse it (retried while the kernel still holds it).
start_node() {
  local id="$1" bin db
  bin="$(read_file "$dir/brigade.bin")"
  db="$(read_file "$dir/postgres.url")"
  local -a args
  mapfile -t args <"$dir/node-args"
  if [[ "$id" != a || -f "$dir/demo_accounts.json" ]]; then
    args+=(--no-demo)
  fi
  local pid p log="$dir/node-$id.log" mark
  mark="$(node_mark "$id")"
  pid="$(node_pid "$id")"
  if alive "$pid" "$mark"; then die "node $id is already running (pid $pid)"; fi
  mkdir -p "$dir/node-$id"
  p="$(node_port "$id")"
  local attempt offset line="" port_used
  for attempt in $(seq 1 20); do
    echo "--- cluster.sh: starting node $id at $(date -u +%FT%TZ)" >>"$log"
    offset=$(($(stat -c %s "$log")))
    # --data-dir last, so that node_mark ("--data-dir DIR ") matches the command line
    # exactly; setsid: the node outlives this script and its terminal.
    setsid "$bin" --db "$db" --node-id "$id" --listen "127.0.0.1:${p:-0}" \
      "${args[@]}" --data-dir "$dir/node-$id" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/node-$id.pid"
    local i
    line=""
    for ((i = 0; i < START_TIMEOUT * 10; i++)); do
      line="$(tail -c +$((offset + 1)) "$log" | grep -m1 '^{"listening":' || true)"
      [[ -z "$line" ]] || break
      running "$pid" || break
      sleep 0.1
    done
    [[ -z "$line" ]] || break
    if running "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      die "node $id printed no listening line within ${START_TIMEOUT} s (log: $log)"
    fi
    # Exited before listening: the remembered port may still be held for a moment.
    if [[ -n "$p" ]] && tail -c +$((offset + 1)) "$log" | grep -qiE 'in use|another process is listening' &&
      [[ $attempt -lt 20 ]]; then
      sleep 0.5
      continue
    fi
    local code=0
    wait "$pid" || code=$?
    die "node $id exited at start (status $code): $(last_line "$log" "$offset") (log: $log)"
  done
  [[ -n "$line" ]] || die "node $id could not listen on 127.0.0.1:$p (log: $log)"
  port_used="${line#*\"listening\":\"127.0.0.1:}"
  port_used="${port_used%%\"*}"
  [[ "$port_used" =~ ^[0-9]+$ ]] || die "node $id printed an unexpected listening line: $line"
  echo "$port_used" >"$dir/node-$id.port"
  if [[ ! -f "$dir/demo_accounts.json" ]]; then
    local demo
    demo="$(tail -c +$((offset + 1)) "$log" | grep -m1 '^{"demo_accounts":' || true)"
    if [[ -n "$demo" ]]; then
      demo="${demo#\{\"demo_accounts\":}"
      echo "${demo%\}}" >"$dir/demo_accounts.json"
    fi
  fi
  say "node $id (pid $pid) listens on 127.0.0.1:$port_used"
}

wait_healthy() {
  local what="$1" url="$2" pid="$3" mark="$4" log="$5" i
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    healthy "$url" && return 0
    if [[ -n "$pid" ]] && ! alive "$pid" "$mark"; then
      die "$what exited before answering $url/healthz: $(last_line "$log" 0) (log: $log)"
    fi
    sleep 0.1
  done
  die "$what did not answer $url/healthz within ${START_TIMEOUT} s (log: $log)"
}

wait_node_healthy() {
  local id="$1"
  wait_healthy "node $id" "http://127.0.0.1:$(node_port "$id")" "$(node_pid "$id")" \
    "$(node_mark "$id")" "$dir/node-$id.log"
}

stop_node() {
  local id="$1" grace="$2"
  terminate "$(node_pid "$id")" "$(node_mark "$id")" "$grace"
}

# --- HAProxy -------------------------------------------------------------------------------

# The rules of deploy/haproxy.cfg with this cluster's ports. Nodes are not started with
# --trusted-proxy 127.0.0.1: the tests connect from 127.0.0.1 too (directly and through
# HAProxy), so every client already counts as one address; a real deployment sets it.
write_haproxy_cfg() {
  local hport="$1" id
  {
    cat <<EOF
# Generated by scripts/cluster.sh (the rules of deploy/haproxy.cfg); do not edit.
global
    log stderr format raw local0 info
    maxconn 4096
    # Idle node connections are kept for REST requests (see deploy/haproxy.cfg).
    tune.pool-low-fd-ratio 80
    tune.pool-high-fd-ratio 90

defaults
    mode http
    log global
    option httplog
    option forwardfor
    option redispatch 1
    retries 3
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout client-fin 30s

frontend brigade
    bind 127.0.0.1:$hport
    default_backend brigade_nodes

backend brigade_nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz
    http-check expect status 200
    default-server check inter 1s fastinter 500ms downinter 1s fall 2 rise 1
    acl engine_io path_beg /socket.io/
EOF
    while read -r id; do
      echo "    use-server $id if engine_io { urlp(sid) -m beg $id. }"
    done <"$dir/nodes"
    while read -r id; do
      echo "    server $id 127.0.0.1:$(node_port "$id")"
    done <"$dir/nodes"
  } >"$dir/haproxy.cfg"
}

start_haproxy() {
  # /usr/sbin is not on every user's PATH.
  local haproxy
  haproxy="$(command -v haproxy || echo /usr/sbin/haproxy)"
  [[ -x "$haproxy" ]] ||
    die "haproxy is not installed (apt-get install haproxy, or scripts/install-deps.sh)"
  local out
  out="$("$haproxy" -c -q -f "$dir/haproxy.cfg" 2>&1)" ||
    die "the generated $dir/haproxy.cfg is invalid: $(echo "$out" | tr '\n' ' ')"
  # -db: stay in the foreground (of our background job), so that $! is its pid.
  setsid "$haproxy" -db -f "$dir/haproxy.cfg" </dev/null >>"$dir/haproxy.log" 2>&1 &
  echo $! >"$dir/haproxy.pid"
}

stop_haproxy() {
  terminate "$(cat "$dir/haproxy.pid" 2>/dev/null || true)" "$(haproxy_mark)" "$STOP_GRACE"
}

# --- output ----------------------------------------------------------------------------------

nodes_json() {
  local id first=true out="["
  while read -r id; do
    $first || out+=","
    first=false
    out+="{\"id\":\"$id\",\"url\":\"http://127.0.0.1:$(node_port "$id")\",\"pid\":$(node_pid "$id")}"
  done <"$dir/nodes"
  echo "$out]"
}

# --- commands --------------------------------------------------------------------------------

cmd_down() {
  [[ -d "$dir" ]] || return 0
  stop_haproxy
  local id pids=()
  if [[ -f "$dir/nodes" ]]; then
    while read -r id; do
      stop_node "$id" "$STOP_GRACE" &
      pids+=($!)
    done <"$dir/nodes"
  fi
  local p failed=false
  for p in "${pids[@]}"; do wait "$p" || failed=true; done
  if [[ -d "$dir/pg" ]]; then "$PG_SH" stop --dir "$dir/pg" || failed=true; fi
  ! $failed || die "some processes could not be stopped (see above)"
}

# The EXIT trap of `up`: a failed start stops whatever it had started.
cleanup_failed_up() {
  local code=$?
  [[ $code -eq 0 ]] || (cmd_down >/dev/null 2>&1 || true)
  return "$code"
}

cmd_up() {
  if [[ -f "$dir/nodes" ]]; then
    local id
    while read -r id; do
      if alive "$(node_pid "$id")" "$(node_mark "$id")"; then
        die "a cluster is already running in $dir (scripts/cluster.sh down --dir $dir)"
      fi
    done <"$dir/nodes"
  fi
  [[ ! -e "$dir/pg" ]] || die "$dir holds an old cluster: remove it or pick a fresh directory"
  mkdir -p "$dir"
  # As root PostgreSQL runs as `postgres`: it must be able to traverse DIR.
  [[ "$(id -u)" -ne 0 ]] || chmod a+x "$dir"

  local bin
  bin="$(brigade_binary)"
  echo "$bin" >"$dir/brigade.bin"
  local -a args=()
  [[ "${CLUSTER_FAST_HASH:-0}" != 1 ]] || args+=(--pwhash-memlimit 8388608)
  # The nodes share this machine's cores with each other, PostgreSQL and HAProxy: each gets
  # an equal share of event loops (a node's default is one per core), and with several
  # nodes one writer connection (fewer, larger commits on the shared stream_head). On
  # three nodes at 400 orders/s on two cores this halved the p99 (docs/BENCHMARKS.md).
  # Nodes on machines of their own keep the defaults; CLUSTER_NODE_ARGS overrides these.
  local given=" ${CLUSTER_NODE_ARGS:-} "
  if [[ "$given" != *" --threads "* && "$given" != *" --threads="* ]]; then
    local share=$(($(nproc) / nodes))
    args+=(--threads "$((share > 0 ? share : 1))")
  fi
  if ((nodes > 1)) && [[ "$given" != *" --db-writers "* && "$given" != *" --db-writers="* ]]; then
    args+=(--db-writers 1)
  fi
  if [[ -n "${CLUSTER_NODE_ARGS:-}" ]]; then
    local -a extra
    read -r -a extra <<<"$CLUSTER_NODE_ARGS"
    args+=("${extra[@]}")
  fi
  if [[ ${#args[@]} -gt 0 ]]; then printf '%s\n' "${args[@]}" >"$dir/node-args"; else : >"$dir/node-args"; fi
  printf '%s\n' "${NODE_IDS[@]:0:$nodes}" >"$dir/nodes"
  [[ -n "$port" ]] || port="$(free_port)"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is already taken (pick another --port)"
  fi
  echo "http://127.0.0.1:$port" >"$dir/url"

  # From here on, a failure stops everything this command started.
  trap cleanup_failed_up EXIT

  say "starting PostgreSQL in $dir/pg"
  local pg_url
  pg_url="$("$PG_SH" start --dir "$dir/pg")" || die "PostgreSQL did not start (see above)"
  echo "$pg_url" >"$dir/postgres.url"

  # Node a first, alone: it migrates the database and seeds the demo data.
  start_node a
  wait_node_healthy a
  [[ -f "$dir/demo_accounts.json" ]] ||
    die "node a printed no demo accounts (not an empty database?) (log: $dir/node-a.log)"
  local id
  for id in "${NODE_IDS[@]:1:$((nodes - 1))}"; do start_node "$id"; done
  for id in "${NODE_IDS[@]:1:$((nodes - 1))}"; do wait_node_healthy "$id"; done

  write_haproxy_cfg "$port"
  say "starting HAProxy on 127.0.0.1:$port"
  start_haproxy
  wait_healthy "HAProxy" "http://127.0.0.1:$port" "$(cat "$dir/haproxy.pid")" "$(haproxy_mark)" \
    "$dir/haproxy.log"
  for id in "${NODE_IDS[@]:0:$nodes}"; do wait_node_healthy "$id"; done

  trap - EXIT
  echo "{\"cluster\":{\"url\":\"http://127.0.0.1:$port\",\"nodes\":$(nodes_json),\"postgres\":\"$pg_url\",\"demo_accounts\":$(cat "$dir/demo_accounts.json")}}"
}

cmd_status() {
  local url pg_url pg_running=false
  read_file "$dir/nodes" >/dev/null
  url="$(read_file "$dir/url")"
  pg_url="$(read_file "$dir/postgres.url")"
  if "$PG_SH" psql --dir "$dir/pg" -qAtc 'SELECT 1' >/dev/null 2>&1; then pg_running=true; fi
  local hpid hrunning=false hhealthy=false
  hpid="$(cat "$dir/haproxy.pid" 2>/dev/null || true)"
  if alive "$hpid" "$(haproxy_mark)"; then hrunning=true; fi
  if healthy "$url"; then hhealthy=true; fi
  local id first=true nodes_out="[" pid running healthy_ nurl
  while read -r id; do
    pid="$(node_pid "$id")"
    nurl="http://127.0.0.1:$(node_port "$id")"
    running=false
    healthy_=false
    if alive "$pid" "$(node_mark "$id")"; then running=true; fi
    if $running && healthy "$nurl"; then healthy_=true; fi
    $first || nodes_out+=","
    first=false
    nodes_out+="{\"id\":\"$id\",\"url\":\"$nurl\",\"pid\":${pid:-null},\"running\":$running,\"healthy\":$healthy_}"
  done <"$dir/nodes"
  nodes_out+="]"
  echo "{\"status\":{\"url\":\"$url\",\"haproxy\":{\"pid\":${hpid:-null},\"running\":$hrunning,\"healthy\":$hhealthy},\"nodes\":$nodes_out,\"postgres\":{\"url\":\"$pg_url\",\"running\":$pg_running}}}"
}

case "$command" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill)
    known_node "$target"
    pid="$(node_pid "$target")"
    if alive "$pid" "$(node_mark "$target")"; then
      kill -KILL "$pid"
      wait_gone "$pid" "$(node_mark "$target")" 10 || die "node $target survived SIGKILL"
      say "node $target (pid $pid) killed"
    else
      say "node $target was not running"
    fi
    ;;
  stop)
    known_node "$target"
    stop_node "$target" "$STOP_GRACE"
    ;;
  start)
    known_node "$target"
    start_node "$target"
    wait_node_healthy "$target"
    ;;
  pg-restart)
    [[ "$target" == fast || "$target" == immediate ]] || die "pg-restart takes fast or immediate"
    [[ -d "$dir/pg" ]] || die "$dir has no cluster started by cluster.sh (no $dir/pg)"
    "$PG_SH" restart --dir "$dir/pg" --mode "$target" >/dev/null
    say "PostgreSQL restarted ($target)"
    # The nodes that run find it again by themselves; wait until they say so.
    while read -r id; do
      if alive "$(node_pid "$id")" "$(node_mark "$id")"; then wait_node_healthy "$id"; fi
    done <"$dir/nodes"
    ;;
esac
