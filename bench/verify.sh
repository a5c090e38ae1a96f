#!/usr/bin/env bash
# Benchmark of verified scenarios: the CPU that following and judging checks costs, and the
# detection delays a built-in observes, against a real Prometheus and Alertmanager on loopback
# with the shipped prometheus.yml, rules and alertmanager.yml (only addresses substituted).
#
#   bench/verify.sh [SCENARIO]   # default ddos-attack (2 min); builds --release; ~2.5 minutes
#
# Prints:
#   - CPU of check evaluation: jolt_scenario_verify_cpu_seconds_total (thread CPU time of the
#     follower's polls, range queries and judging) over the run's wall time, as % of one core
#     — goal < 1 %; and jolt's whole process CPU over the same time, for scale;
#   - each check with its result, delay and budget (the detection delays).
# Needs curl, jq, python3, prometheus and prometheus-alertmanager (Debian packages); everything
# started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO=${1:-ddos-attack}

for tool in curl jq python3 prometheus; do
  command -v "$tool" >/dev/null || { echo "bench/verify.sh: $tool is required" >&2; exit 1; }
done
AM=$(command -v alertmanager || command -v prometheus-alertmanager) || {
  echo "bench/verify.sh: alertmanager is required" >&2; exit 1; }

source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d)
PROM_PID=
AM_PID=
cleanup() {
  for p in "$PROM_PID" "$AM_PID" "$JOLT_PID"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

PROM_PORT=$(free_port)
AM_PORT=$(free_port)

start_jolt "$WORK" --prometheus-url "http://127.0.0.1:$PROM_PORT" \
  --alertmanager-url "http://127.0.0.1:$AM_PORT"
METRICS=$(jolt_addr metrics)
CONTROL=$(jolt_addr control)

# Prometheus: the shipped config beside the shipped rules, scraping this jolt.
mkdir -p "$WORK/prom/targets"
sed "s/alertmanager:9093/127.0.0.1:$AM_PORT/" prometheus/prometheus.yml >"$WORK/prom/prometheus.yml"
ln -s "$PWD/alerts" "$WORK/prom/alerts"
for f in prometheus/targets/*.yml; do
  sed "s/jolt:9477/$METRICS/" "$f" >"$WORK/prom/targets/$(basename "$f")"
done
prometheus --config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!

# Alertmanager: the shipped config and templates; Slack points nowhere, jolt's webhook is real.
mkdir -p "$WORK/am"
ln -s "$PWD/alerts/templates" "$WORK/am/templates"
echo "http://127.0.0.1:9/slack-disabled" >"$WORK/am/slack_url"
sed -e "s#/run/secrets/slack_webhook_url#$WORK/am/slack_url#" \
  -e "s#http://jolt:9478#http://$CONTROL#" alerts/alertmanager.yml >"$WORK/am/alertmanager.yml"
"$AM" --config.file="$WORK/am/alertmanager.yml" --storage.path="$WORK/am-data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= >"$WORK/am.log" 2>&1 &
AM_PID=$!

for _ in $(seq 120); do
  up=$(curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=up{job="jolt"} == 1' 2>/dev/null |
    jq '.data.result | length' 2>/dev/null || echo 0)
  [ "$up" = 1 ] && curl -fsS "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
[ "$up" = 1 ] || { echo "Prometheus never scraped jolt" >&2; tail "$WORK/prometheus.log" >&2; exit 1; }

metric() { curl -fsS "http://$METRICS/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
proc_cpu() { awk '{print ($14 + $15) / 100}' "/proc/$JOLT_PID/stat"; }

echo "bench/verify.sh: $SCENARIO at speed 1 against Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
cpu0=$(metric jolt_scenario_verify_cpu_seconds_total)
proc0=$(proc_cpu)
t0=$(date +%s.%N)
set +e
"$JOLT_BIN" scenario start "$SCENARIO" --verify --control "$CONTROL" >"$WORK/verify.out"
code=$?
set -e
t1=$(date +%s.%N)
cpu1=$(metric jolt_scenario_verify_cpu_seconds_total)
proc1=$(proc_cpu)
curl -fsS "http://$CONTROL/runs/run-1" >"$WORK/run.json"
window=$(python3 -c "import math; print(math.ceil($t1 - $t0) + 5)")
curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode \
  "query=max_over_time(ALERTS{alertstate=\"firing\",severity=~\"warning|critical\"}[${window}s])" |
  jq -r '.data.result[].metric | "\(.alertname){\(.service // "")} \(.severity)"' | sort -u |
  sed 's/^/fired during the run: /'

python3 - "$cpu0" "$cpu1" "$proc0" "$proc1" "$t0" "$t1" "$code" "$WORK/run.json" <<'PY'
import json, sys
cpu0, cpu1, p0, p1, t0, t1 = map(float, sys.argv[1:7])
code = int(sys.argv[7])
run = json.load(open(sys.argv[8]))
wall = t1 - t0
print(f"wall time of the verified run: {wall:.1f} s, verdict {run['verdict']} (score {run['score']}), exit {code}")
print(f"check evaluation CPU: {cpu1 - cpu0:.3f} s = {100 * (cpu1 - cpu0) / wall:.3f} % of one core (goal < 1 %)")
print(f"jolt process CPU (load actions included): {p1 - p0:.1f} s = {100 * (p1 - p0) / wall:.1f} % of one core")
print()
print(f"{'CHECK':<45} {'RESULT':<13} {'DELAY':>7} {'BUDGET':>7}")
for c in run["checks"]:
    budget = c["spec"].get("within")
    delay = c["delay_seconds"]
    print(f"{c['name']:<45} {c['result']:<13} {'' if delay is None else f'{delay:.1f} s':>7} {'' if budget is None else f'{budget:.0f} s':>7}")
PY
