#!/usr/bin/env bash
# How closely a fleet scenario start lines up: N jolt daemons on loopback (default 5), one
# `jolt scenario start --fleet` per round (default 10 rounds), and for every instance the time
# from the common start_at to when its run began (run.started_at) and to when the first step's
# action started (action.started_at). Goal of the fleets issue: within 100 ms of start_at.
#
#   bench/fleet-start.sh [INSTANCES] [ROUNDS]
#
# Uses the debug binary (timing here is scheduling, not code speed; JOLT_BIN overrides). Needs
# jq. Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
ROUNDS=${2:-10}
command -v jq >/dev/null || { echo "bench/fleet-start.sh: jq is required" >&2; exit 1; }
[ -n "${JOLT_BIN:-}" ] || { cargo build --quiet --bin jolt; JOLT_BIN=target/debug/jolt; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export JOLT_CONTROL_TOKEN=bench-fleet-token-0123456789
echo "$JOLT_CONTROL_TOKEN" >"$WORK/token"

echo "[" >"$WORK/fleet.json"
for i in $(seq "$N"); do
  log=$WORK/jolt-$i.log
  "$JOLT_BIN" --metrics-listen 127.0.0.1:0 --control-listen 127.0.0.1:0 \
    --services-listen 127.0.0.1:0 --log-format json --state-dir "$WORK/state-$i" \
    --control-token-file "$WORK/token" --baseline-rps 0 2>"$log" &
  PIDS+=($!)
  for _ in $(seq 200); do
    [ "$(grep -c '"listener"' "$log" || true)" -ge 3 ] && break
    sleep 0.05
  done
  metrics=$(jq -r 'select(.listener == "metrics") | .addr' "$log" | head -1)
  control=$(jq -r 'select(.listener == "control") | .addr' "$log" | head -1)
  [ "$i" -gt 1 ] && echo "," >>"$WORK/fleet.json"
  echo "{\"targets\": [\"$metrics\"], \"labels\": {\"jolt_control\": \"$control\"}}" >>"$WORK/fleet.json"
  curl -sf -X PUT -H "Authorization: Bearer $JOLT_CONTROL_TOKEN" -H 'Content-Type: application/json' \
    "http://$control/scenarios/bench-sync" \
    -d '{"title": "bench", "duration": "3s", "steps": [{"at": "0:00", "action": {"kind": "fault", "service": "auth", "latency": "1ms"}, "duration": "3s"}]}' >/dev/null
done
echo "]" >>"$WORK/fleet.json"
controls=$(jq -r '.[].labels.jolt_control' "$WORK/fleet.json")

ms() { # ms FROM TO: milliseconds between two RFC 3339 times
  python3 -c 'import sys,datetime as d;f=lambda s:d.datetime.fromisoformat(s.replace("Z","+00:00"));print(round((f(sys.argv[2])-f(sys.argv[1])).total_seconds()*1000))' "$1" "$2"
}
: >"$WORK/began" ; : >"$WORK/step" ; : >"$WORK/spread"
for r in $(seq "$ROUNDS"); do
  id=bench-$r-$$
  "$JOLT_BIN" scenario start bench-sync --fleet "$WORK/fleet.json" --start-in 1s --run-id "$id" >/dev/null
  sleep 1.6
  round=()
  for c in $controls; do
    run=$(curl -sf -H "Authorization: Bearer $JOLT_CONTROL_TOKEN" "http://$c/runs/$id")
    at=$(jq -r .start_at <<<"$run")
    action=$(jq -r '.steps[0].action' <<<"$run")
    a=$(curl -sf -H "Authorization: Bearer $JOLT_CONTROL_TOKEN" "http://$c/actions/$action")
    b=$(ms "$at" "$(jq -r .started_at <<<"$run")")
    s=$(ms "$at" "$(jq -r .started_at <<<"$a")")
    echo "$b" >>"$WORK/began"; echo "$s" >>"$WORK/step"; round+=("$s")
  done
  printf '%s\n' "${round[@]}" | sort -n | sed -n '1p;$p' | paste -sd' ' | awk '{print $2-$1}' >>"$WORK/spread"
  sleep 2.5
done
summary() { sort -n "$1" | awk '{a[NR]=$1} END {printf "min %d  p50 %d  max %d ms\n", a[1], a[int((NR+1)/2)], a[NR]}'; }
echo "fleet start: $N instances × $ROUNDS rounds, start_at 1 s ahead ($JOLT_BIN)"
echo "  run began after start_at:            $(summary "$WORK/began")"
echo "  first action started after start_at: $(summary "$WORK/step")"
echo "  spread across instances per round:   $(summary "$WORK/spread")"
