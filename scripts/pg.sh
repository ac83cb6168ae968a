#!/usr/bin/env bash
# Runs a throwaway PostgreSQL 15 (from /usr/lib/postgresql/15/bin, or $PG_BIN) in a
# directory of its own, for tests, benchmarks and scripts/cluster.sh. It listens on
# 127.0.0.1 only, trusts every local connection, and never touches the system cluster.
#
# Usage:
#   scripts/pg.sh start   --dir DIR [--port P]   initdb if needed, start, print the URL
#   scripts/pg.sh stop    --dir DIR              fast shutdown (fine if not running)
#   scripts/pg.sh restart --dir DIR [--mode fast|immediate]   same port, prints the URL
#   scripts/pg.sh url     --dir DIR              postgres://brigade@127.0.0.1:P/brigade
#   scripts/pg.sh psql    --dir DIR [--] [psql args...]
#
# DIR holds pgdata/ (the cluster), postgres.log, port (remembered across starts) and the
# server's unix socket. `start` prints exactly one line on stdout, the URL of database
# `brigade` owned by role `brigade` (a superuser: tests only); everything else goes to
# stderr. As root, the server runs as the `postgres` user (initdb refuses root), which
# must be able to reach DIR: use a directory under /tmp. PG_EXTRA_SETTINGS (lines of
# postgresql.conf) is added to the settings at start, e.g. for pg_stat_statements.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
START_TIMEOUT=60

die() {
  echo "pg.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '6,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
command="$1"
shift

dir=""
port=""
mode="fast"
psql_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) [[ $# -ge 2 ]] || usage; dir="$2"; shift 2 ;;
    --port) [[ $# -ge 2 ]] || usage; port="$2"; shift 2 ;;
    --mode) [[ $# -ge 2 ]] || usage; mode="$2"; shift 2 ;;
    --) [[ "$command" == psql ]] || usage; shift; psql_args+=("$@"); break ;;
    *)
      if [[ "$command" == psql ]]; then
        psql_args+=("$1")
        shift
      else
        usage
      fi
      ;;
  esac
done
[[ -n "$dir" ]] || die "--dir DIR is required"
[[ -z "$port" || "$port" =~ ^[0-9]+$ && "$port" -ge 1024 && "$port" -le 65535 ]] ||
  die "--port must be a number in 1024..65535"
[[ "$mode" == fast || "$mode" == immediate ]] || die "--mode must be fast or immediate"
[[ -x "$PG_BIN/pg_ctl" ]] || die "no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15)"

# Absolute, without symlinks, so that the guards below and the socket path are exact.
dir="$(realpath -m -- "$dir")"
case "$dir" in
  / | /var/lib/postgresql | /var/lib/postgresql/* | /etc/postgresql*)
    die "refusing to use $dir: pick a directory of its own (e.g. under /tmp)" ;;
esac
pgdata="$dir/pgdata"
log="$dir/postgres.log"
port_file="$dir/port"

as_root=false
[[ "$(id -u)" -eq 0 ]] && as_root=true
# runuser lives in /usr/sbin, which a root shell's PATH may lack.
runuser=$(command -v runuser || echo /usr/sbin/runuser)
if $as_root && [[ ! -x "$runuser" ]]; then
  die "runuser (util-linux) not found: it runs PostgreSQL as the postgres user"
fi

# Runs a server-side command as the user that owns the cluster (from / so that an
# unreadable working directory does not bother it).
as_owner() {
  if $as_root; then
    (cd / && "$runuser" -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

running() {
  [[ -f "$pgdata/PG_VERSION" ]] && as_owner "$PG_BIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1
}

url_for() {
  echo "postgres://brigade@127.0.0.1:$1/brigade"
}

remembered_port() {
  [[ -f "$port_file" ]] || die "$dir has no cluster started by pg.sh (no $port_file)"
  cat "$port_file"
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null && return
  fi
  # No python3: random ports until one refuses a connection.
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

# unix_socket_directories: DIR when the socket path fits in sun_path (107 bytes),
# otherwise a short directory under /tmp named after DIR.
socket_dir() {
  local socket="$dir/.s.PGSQL.65535"
  if [[ ${#socket} -le 100 ]]; then
    echo "$dir"
  else
    echo "/tmp/brigade-pg.$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"
  fi
}

prepare_dir() {
  mkdir -p "$dir"
  local sockets
  sockets="$(socket_dir)"
  [[ "$sockets" == "$dir" || -d "$sockets" ]] || mkdir -m 700 "$sockets"
  if $as_root; then
    chown postgres: "$dir" "$sockets"
    "$runuser" -u postgres -- test -w "$dir" -a -x "$dir" ||
      die "the postgres user cannot write to $dir (a parent directory is closed to it?)"
    touch "$log"
    chown postgres: "$log"
  fi
}

initdb_if_needed() {
  [[ -f "$pgdata/PG_VERSION" ]] && return
  [[ ! -e "$pgdata" ]] || [[ -z "$(ls -A "$pgdata")" ]] ||
    die "$pgdata exists but holds no cluster; remove it first"
  if ! as_owner "$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C \
      --no-instructions >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  fi
  # Our settings live in a file of their own, rewritten at every start.
  echo "include_if_exists = 'brigade.conf'" >>"$pgdata/postgresql.conf"
}

write_settings() {
  local p="$1" sockets="$2"
  local conf="$pgdata/brigade.conf"
  cat >"$conf" <<EOF
# Written by scripts/pg.sh at every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $p
unix_socket_directories = '$sockets'
max_connections = 300
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
log_timezone = 'UTC'
timezone = 'UTC'
EOF
  # More settings for one run (profiling: "shared_preload_libraries = 'pg_stat_statements'").
  [[ -z "${PG_EXTRA_SETTINGS:-}" ]] || printf '%s\n' "$PG_EXTRA_SETTINGS" >>"$conf"
  $as_root && chown postgres: "$conf"
  return 0
}

ensure_database() {
  local p="$1"
  local admin=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U postgres)
  if [[ "$("${admin[@]}" -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'brigade'")" != 1 ]]; then
    "${admin[@]}" -d postgres -c "CREATE ROLE brigade LOGIN SUPERUSER" >&2
  fi
  if [[ "$("${admin[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'brigade'")" != 1 ]]; then
    "${admin[@]}" -d postgres -c "CREATE DATABASE brigade OWNER brigade" >&2
  fi
}

cmd_start() {
  if running; then
    local current
    current="$(remembered_port)"
    [[ -z "$port" || "$port" == "$current" ]] ||
      die "already running on port $current (stop it first to change the port)"
    ensure_database "$current"
    url_for "$current"
    return
  fi
  prepare_dir
  initdb_if_needed
  local p="$port"
  if [[ -z "$p" && -f "$port_file" ]]; then p="$(cat "$port_file")"; fi
  if [[ -z "$p" ]]; then p="$(free_port)"; fi
  write_settings "$p" "$(socket_dir)"
  echo "$p" >"$port_file"
  if ! as_owner "$PG_BIN/pg_ctl" -D "$pgdata" -l "$log" -w -t "$START_TIMEOUT" start \
      >"$dir/pg_ctl.log" 2>&1; then
    cat "$dir/pg_ctl.log" >&2
    tail -n 20 "$log" >&2 || true
    die "the server did not start (port $p taken?)"
  fi
  ensure_database "$p"
  url_for "$p"
}

cmd_stop() {
  local stop_mode="${1:-fast}"
  running || return 0
  as_owner "$PG_BIN/pg_ctl" -D "$pgdata" -m "$stop_mode" -w -t "$START_TIMEOUT" stop \
    >"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" >&2; die "pg_ctl stop failed"; }
}

case "$command" in
  start) cmd_start ;;
  stop) cmd_stop fast ;;
  restart)
    port="$(remembered_port)"
    cmd_stop "$mode"
    cmd_start
    ;;
  url)
    p="$(remembered_port)"
    url_for "$p"
    ;;
  psql)
    p="$(remembered_port)"
    exec "$PG_BIN/psql" -X -d "$(url_for "$p")" "${psql_args[@]}"
    ;;
  *) usage ;;
esac
