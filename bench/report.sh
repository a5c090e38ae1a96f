#!/usr/bin/env bash
# Benchmark of run reports: the time to record a 5-minute run from Prometheus (the range
# queries and the bundle write, after the run's margin) and to render its HTML report, and the
# sizes of the bundle's files and of the page. Real Prometheus on loopback with the shipped
# prometheus.yml and rules (addresses substituted), a 5-minute scenario with CPU, traffic,
# a slow and a down service, played at speed 1.
#
#   bench/report.sh [SECONDS]   # scenario length, default 300; builds --release; ~6 minutes
#
# Goals (issue 9): record <= 1 s, render HTML <= 1 s, HTML < 1 MB.
# Needs curl, jq, python3 and prometheus; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
LEN=${1:-300}

for tool in curl jq python3 prometheus; do
  command -v "$tool" >/dev/null || { echo "bench/report.sh: $tool is required" >&2; exit 1; }
done

source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d)
PROM_PID=
cleanup() {
  for p in "$PROM_PID" "$JOLT_PID"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

PROM_PORT=$(free_port)
start_jolt "$WORK" --prometheus-url "http://127.0.0.1:$PROM_PORT"
METRICS=$(jolt_addr metrics)
CONTROL=$(jolt_addr control)

mkdir -p "$WORK/prom/targets"
cp prometheus/prometheus.yml "$WORK/prom/prometheus.yml"
ln -s "$PWD/alerts" "$WORK/prom/alerts"
for f in prometheus/targets/*.yml; do
  sed "s/jolt:9477/$METRICS/" "$f" >"$WORK/prom/targets/$(basename "$f")"
done
prometheus --config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 120); do
  up=$(curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=up{job="jolt"} == 1' 2>/dev/null |
    jq '.data.result | length' 2>/dev/null || echo 0)
  [ "$up" = 1 ] && break
  sleep 0.5
done
[ "$up" = 1 ] || { echo "Prometheus never scraped jolt" >&2; tail "$WORK/prometheus.log" >&2; exit 1; }

q=$((LEN / 5))
cat >"$WORK/scenario.yaml" <<YAML
title: Report benchmark ($LEN s)
duration: ${LEN}s
steps:
  - {id: cpu, at: 0, note: CPU at 60 %, action: {kind: cpu, percent: 60, cores: 1}, duration: ${q}s}
  - {id: rush, at: $q, note: Traffic on search, action: {kind: traffic, target: search, rps: 100}, duration: $((2 * q))s}
  - {id: slow, at: $((2 * q)), note: Payment slows down, action: {kind: fault, service: payment, latency: 400ms}, duration: ${q}s}
  - {id: down, at: $((3 * q)), note: Payment goes down, action: {kind: fault, service: payment, down: true}, duration: ${q}s}
expect:
  - alert: ServiceDown
    labels: {service: payment}
    fires: {after: down, within: 30s}
    resolves: {after: down.end, within: 30s}
  - alert: HostOomKill
    never: true
YAML
curl -fsS -X PUT "http://$CONTROL/scenarios/report-bench" -H 'Content-Type: application/yaml' \
  --data-binary @"$WORK/scenario.yaml" >/dev/null
echo "bench/report.sh: a ${LEN}-second scenario at speed 1, then the recording and the report"
curl -fsS -X POST "http://$CONTROL/scenarios/report-bench/start" >/dev/null
for _ in $(seq $((LEN * 2 + 600))); do
  [ "$(curl -fsS "http://$CONTROL/runs/run-1" | jq -r .recorded)" = true ] && break
  sleep 0.5
done
jq -r 'select(.message == "run recorded") | "recording: \(.recording_ms) ms for \(.series) series (goal <= 1000 ms)"' "$JOLT_LOG"

for i in 1 2 3 4 5; do
  t=$(curl -fsS -o "$WORK/report.html" -w '%{time_total}' "http://$CONTROL/runs/run-1/report?format=html")
  echo "render HTML, try $i: $(python3 -c "print(round($t * 1000))") ms"
done
for f in md json csv junit promtool; do
  t=$(curl -fsS -o "$WORK/report.$f" -w '%{time_total}' "http://$CONTROL/runs/run-1/report?format=$f")
  echo "render $f: $(python3 -c "print(round($t * 1000))") ms, $(stat -c %s "$WORK/report.$f") bytes"
done
echo "HTML page: $(stat -c %s "$WORK/report.html") bytes (goal < 1000000), $(grep -o '<svg' "$WORK/report.html" | wc -l) charts"
for f in manifest.json events.ndjson series.csv; do
  echo "bundle $f: $(stat -c %s "$WORK/state/runs/run-1/$f") bytes"
done
echo "verdict: $(curl -fsS "http://$CONTROL/runs/run-1" | jq -r .verdict)"
# REPORT_OUT=FILE keeps a copy of the page.
if [ -n "${REPORT_OUT:-}" ]; then cp "$WORK/report.html" "$REPORT_OUT"; fi
