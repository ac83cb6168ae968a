# Sourced by the bench scripts that run a brigade of their own: stop_server stops
# the one whose pid is in $server_pid (SIGTERM, SIGKILL after 5 s) and removes
# $data_dir; both are cleared. Installed as the EXIT trap by the caller.
server_pid=""
data_dir=""
stop_server() {
  if [ -n "$server_pid" ]; then
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
  fi
  if [ -n "$data_dir" ]; then
    rm -rf "$data_dir"
    data_dir=""
  fi
}
