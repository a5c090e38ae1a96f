# Shared by the bench scripts (source it): builds jolt --release and starts it on loopback.
#
# start_jolt WORKDIR [FLAG...]  starts the release binary with every listener on 127.0.0.1:0,
#                               a private state dir under WORKDIR and JSON logs in
#                               WORKDIR/jolt.log; sets JOLT_PID and waits for the listeners.
# jolt_addr LISTENER            prints the address a listener (metrics|control|services) bound.
# free_port                     prints a free TCP port on 127.0.0.1 (for Prometheus, Alertmanager).

# JOLT_BIN=target/debug/jolt (an already built binary) skips the release build.
if [ -z "${JOLT_BIN:-}" ]; then
  cargo build --release --quiet
  JOLT_BIN=${CARGO_TARGET_DIR:-target}/release/jolt
fi
JOLT_LOG=
JOLT_PID=

start_jolt() {
  local work=$1
  shift
  JOLT_LOG=$work/jolt.log
  "$JOLT_BIN" --metrics-listen 127.0.0.1:0 --control-listen 127.0.0.1:0 \
    --services-listen 127.0.0.1:0 --log-format json --state-dir "$work/state" "$@" 2>"$JOLT_LOG" &
  JOLT_PID=$!
  for _ in $(seq 100); do
    [ "$(grep -c '"listener"' "$JOLT_LOG" || true)" -ge 3 ] && return 0
    sleep 0.05
  done
  echo "jolt did not start:" >&2
  cat "$JOLT_LOG" >&2
  return 1
}

jolt_addr() { jq -r "select(.listener == \"$1\") | .addr" "$JOLT_LOG" | head -1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
