# Sourced by the scripts that start the real gRPC server on a free loopback port (make demo,
# bench/fresh_bench.sh, tests/ranker_pipeline_test.sh).
#
# start_server BIN_DIR DATA_DIR PORT_FILE LOG [server flags...]
#   Starts BIN_DIR/serving/server in the background (sets SERVER_PID) and waits up to 60 s
#   for it to write its port to PORT_FILE. When the server exits or does not come up, prints
#   its log to stderr and returns 1.
start_server() {
  local bin="$1" data="$2" port_file="$3" log="$4"
  shift 4
  # OpenBLAS kernels for this CPU (the ranker's forward); see blas_env.sh.
  source "$(dirname "${BASH_SOURCE[0]}")/blas_env.sh"
  rm -f "$port_file"
  # The admin listener on a free port too (builds from before it existed do not know the flag).
  local admin=()
  local help
  help=$("$bin/serving/server" --helpfull 2>&1 || true)  # not piped: grep -q + pipefail = SIGPIPE
  if [[ "$help" == *-admin_address* ]]; then
    admin=(--admin_address=127.0.0.1:0 "--admin_port_file=$port_file.admin")
  fi
  "$bin/serving/server" --data_dir="$data" --port=0 --port_file="$port_file" "${admin[@]}" "$@" 2> "$log" &
  SERVER_PID=$!
  local _
  for _ in $(seq 1 600); do
    [ -s "$port_file" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start within 60 s" >&2
  cat "$log" >&2
  return 1
}

# stop_server: stops the server start_server started (no-op when it is gone).
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}
