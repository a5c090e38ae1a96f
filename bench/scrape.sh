#!/usr/bin/env bash
# Scrape benchmark: jolt against node_exporter (Debian `prometheus-node-exporter`) side by side
# on loopback, from one run:
#   series count, p50/p99 scrape latency over N scrapes, CPU time per scrape (utime+stime from
#   /proc/PID/stat, minus the idle rate measured first), RSS after N scrapes, idle CPU over a
#   quiet window (jolt's process sampler runs every 2 s), the ratios jolt / node_exporter, and
#   100*(1-avg(rate(node_cpu_seconds_total{mode="idle"}[w]))) from two scrapes of each taken
#   at the same moments, with the difference in points.
# Loopback only; bounded (about a minute after the build); cleans up everything it started.
#
# With JOLT_BASELINE=PATH (another jolt binary, e.g. one built from main), that binary is
# measured in the same run under the same load, in its own column: before/after from one run.
#
# usage: [JOLT_BASELINE=PATH] bench/scrape.sh [SCRAPES=300] [IDLE_SECONDS=20]
set -euo pipefail
cd "$(dirname "$0")/.."

scrapes=${1:-300}
idle_secs=${2:-20}
ne_bin=/usr/bin/prometheus-node-exporter
[ -x "$ne_bin" ] || { echo "bench/scrape.sh: $ne_bin is missing (apt-get install prometheus-node-exporter)"; exit 1; }
command -v curl >/dev/null || { echo "bench/scrape.sh: curl is missing"; exit 1; }

cargo build --release --quiet
jolt_bin=target/release/jolt

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_jolt() { # binary name -> sets started_pid
  "$1" --metrics-listen 127.0.0.1:0 --control-listen 127.0.0.1:0 --services-listen 127.0.0.1:0 \
    --state-dir "$work/state-$2" --log-format json 2>"$work/$2.log" &
  started_pid=$!
  pids+=("$started_pid")
}
wait_jolt() { # name -> metrics URL
  local addr=
  for _ in $(seq 100); do
    addr=$(grep -o '"listener":"metrics","addr":"[^"]*"' "$work/$1.log" | sed 's/.*"addr":"//;s/"$//' || true)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "$1 did not start:" >&2; cat "$work/$1.log" >&2; exit 1; }
  echo "http://$addr/metrics"
}
base_bin=${JOLT_BASELINE:-}
[ -z "$base_bin" ] || [ -x "$base_bin" ] || { echo "bench/scrape.sh: JOLT_BASELINE=$base_bin is not executable"; exit 1; }
start_jolt "$jolt_bin" jolt
jolt_pid=$started_pid
if [ -n "$base_bin" ]; then
  start_jolt "$base_bin" base
  base_pid=$started_pid
fi

# Debian patches node_exporter's defaults (skips lo, /run, /mnt, /media): give it upstream's,
# which are jolt's, so both expose the same devices and mounts.
mounts_exclude='^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)'
ne_port=$(free_port)
"$ne_bin" --web.listen-address="127.0.0.1:$ne_port" --collector.netdev.device-exclude='^$' \
  --collector.filesystem.mount-points-exclude="$mounts_exclude" >"$work/ne.log" 2>&1 &
ne_pid=$!
pids+=("$ne_pid")

jolt_url=$(wait_jolt jolt)
[ -z "$base_bin" ] || base_url=$(wait_jolt base)
ne_url="http://127.0.0.1:$ne_port/metrics"
for _ in $(seq 100); do curl -fsS -o /dev/null "$ne_url" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$ne_url" || { echo "node_exporter did not start:"; cat "$work/ne.log"; exit 1; }

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }

# 1. Idle CPU over a quiet window (one warm-up scrape each first).
curl -fsS -o /dev/null "$jolt_url"; curl -fsS -o /dev/null "$ne_url"
[ -z "$base_bin" ] || curl -fsS -o /dev/null "$base_url"
sleep 2.5
echo "measuring idle CPU for ${idle_secs}s..." >&2
t0=$(now); j0=$(cpu_ticks "$jolt_pid"); n0=$(cpu_ticks "$ne_pid")
[ -z "$base_bin" ] || b0=$(cpu_ticks "$base_pid")
sleep "$idle_secs"
t1=$(now); j1=$(cpu_ticks "$jolt_pid"); n1=$(cpu_ticks "$ne_pid")
[ -z "$base_bin" ] || b1=$(cpu_ticks "$base_pid")
idle_j=$(awk -v a="$j0" -v b="$j1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN { print (b-a)/hz/(e-s) }')
idle_n=$(awk -v a="$n0" -v b="$n1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN { print (b-a)/hz/(e-s) }')
[ -z "$base_bin" ] || idle_b=$(awk -v a="$b0" -v b="$b1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN { print (b-a)/hz/(e-s) }')

# 2. Same-moment CPU busy check: two scrapes of each, ~8 s apart, with some load between.
idle_of() { grep '^node_cpu_seconds_total{' | grep 'mode="idle"' | awk '{ s += $NF; n++ } END { printf "%.6f %d\n", s, n }'; }
echo "comparing CPU busy over 8s..." >&2
ja=$(curl -fsS "$jolt_url" | idle_of); na=$(curl -fsS "$ne_url" | idle_of); ta=$(now)
if command -v stress-ng >/dev/null; then
  timeout 10 stress-ng --cpu 1 --cpu-load 60 --timeout 5s >/dev/null 2>&1 &
  pids+=("$!")
fi
sleep 8
jb=$(curl -fsS "$jolt_url" | idle_of); nb=$(curl -fsS "$ne_url" | idle_of); tb=$(now)
busy() { # idle_sum_a n idle_sum_b n seconds
  awk -v a="$1" -v n="$2" -v b="$3" -v s="$4" 'BEGIN { printf "%.2f", 100 * (1 - (b - a) / s / n) }'
}
secs=$(awk -v a="$ta" -v b="$tb" 'BEGIN { print b - a }')
busy_j=$(busy ${ja% *} ${ja#* } ${jb% *} "$secs")
busy_n=$(busy ${na% *} ${na#* } ${nb% *} "$secs")

# 3. Latency and CPU per scrape: N scrapes each over one keep-alive connection.
latencies() { # url file
  local args=()
  for _ in $(seq "$scrapes"); do args+=(-o /dev/null "$1"); done
  curl -fsS -w '%{time_total}\n' "${args[@]}" >"$2"
}
measure() { # pid url name -> "cpu_ms_per_scrape"
  local c0 c1 s e
  c0=$(cpu_ticks "$1"); s=$(now)
  latencies "$2" "$work/$3.lat"
  c1=$(cpu_ticks "$1"); e=$(now)
  awk -v a="$c0" -v b="$c1" -v hz="$hz" -v n="$scrapes" -v idle="$4" -v s="$s" -v e="$e" \
    'BEGIN { v = ((b - a) / hz - idle * (e - s)) / n * 1000; if (v < 0) v = 0; printf "%.3f", v }'
}
echo "scraping each $scrapes times..." >&2
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.3f", v[i] * 1000 }'; }
cpu_j=$(measure "$jolt_pid" "$jolt_url" jolt "$idle_j")
cpu_n=$(measure "$ne_pid" "$ne_url" ne "$idle_n")
if [ -n "$base_bin" ]; then
  cpu_b=$(measure "$base_pid" "$base_url" base "$idle_b")
  p50_b=$(pct "$work/base.lat" 50); p99_b=$(pct "$work/base.lat" 99)
  rss_b=$(rss_kib "$base_pid")
fi
p50_j=$(pct "$work/jolt.lat" 50); p99_j=$(pct "$work/jolt.lat" 99)
p50_n=$(pct "$work/ne.lat" 50); p99_n=$(pct "$work/ne.lat" 99)
rss_j=$(rss_kib "$jolt_pid"); rss_n=$(rss_kib "$ne_pid")
series_j=$(curl -fsS "$jolt_url" | grep -vc '^#')
series_n=$(curl -fsS "$ne_url" | grep -vc '^#')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
row() { printf '%-34s %14s %14s %10s\n' "$@"; }
echo
echo "jolt $("$jolt_bin" --version | awk '{print $2}') vs $("$ne_bin" --version 2>&1 | head -1 | awk '{print $1, $3}'), $scrapes scrapes each, $(nproc) cores"
row "" "jolt" "node_exporter" "ratio"
row "series (samples)" "$series_j" "$series_n" "$(ratio "$series_j" "$series_n")"
row "p50 scrape latency (ms)" "$p50_j" "$p50_n" "$(ratio "$p50_j" "$p50_n")"
row "p99 scrape latency (ms)" "$p99_j" "$p99_n" "$(ratio "$p99_j" "$p99_n")"
row "CPU per scrape (ms, idle-corrected)" "$cpu_j" "$cpu_n" "$(ratio "$cpu_j" "$cpu_n")"
row "RSS after scrapes (MiB)" "$(awk -v k="$rss_j" 'BEGIN { printf "%.1f", k / 1024 }')" \
  "$(awk -v k="$rss_n" 'BEGIN { printf "%.1f", k / 1024 }')" "$(ratio "$rss_j" "$rss_n")"
row "idle CPU (% of one core, ${idle_secs}s)" "$(awk -v v="$idle_j" 'BEGIN { printf "%.3f", v * 100 }')" \
  "$(awk -v v="$idle_n" 'BEGIN { printf "%.3f", v * 100 }')" "$(ratio "$idle_j" "$idle_n")"
row "CPU busy % over ${secs%.*}s (PromQL)" "$busy_j" "$busy_n" \
  "$(awk -v a="$busy_j" -v b="$busy_n" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "diff %.2f pt", d }')"
if [ -n "$base_bin" ]; then
  mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
  echo
  echo "baseline $base_bin, same run:"
  row "" "baseline" "jolt" "jolt/base"
  row "p50 scrape latency (ms)" "$p50_b" "$p50_j" "$(ratio "$p50_j" "$p50_b")"
  row "p99 scrape latency (ms)" "$p99_b" "$p99_j" "$(ratio "$p99_j" "$p99_b")"
  row "CPU per scrape (ms, idle-corrected)" "$cpu_b" "$cpu_j" "$(ratio "$cpu_j" "$cpu_b")"
  row "RSS after scrapes (MiB)" "$(mib "$rss_b")" "$(mib "$rss_j")" "$(ratio "$rss_j" "$rss_b")"
  row "baseline / node_exporter p99, CPU" "$(ratio "$p99_b" "$p99_n")" "$(ratio "$cpu_b" "$cpu_n")" ""
fi
echo
echo "targets: CPU/scrape <= 0.1x, p50 <= 1 ms, p99 <= 0.25x, RSS <= 10 MiB, idle CPU <= 0.5 % of one core, busy diff <= 2 pt"
