#!/usr/bin/env bash
# Benchmark of jolt's traffic action against its own /echo route, on loopback only:
#   - traffic at 1,000 and 10,000 rps for 10 s: achieved rate (sent / duration, from the
#     action's `achieved`) against the target — goal: within 1 %;
#   - the maximum rate jolt sustains: a 10 s traffic action far above capacity with 64
#     connections, counting answered requests per second, against `wrk -t2 -c64 -d10s` on the
#     same route — goal: jolt ≥ 0.8× wrk.
# Builds --release, runs once (about a minute after the build), prints a table, and stops
# everything it started. Needs curl, jq and wrk (Debian packages).
#
# usage: bench/traffic.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in curl jq wrk; do
  command -v "$tool" >/dev/null || { echo "bench/traffic.sh: $tool is required" >&2; exit 1; }
done

source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
cleanup() {
  [ -n "$JOLT_PID" ] && kill "$JOLT_PID" 2>/dev/null && wait "$JOLT_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_jolt "$work" --baseline-rps 0 --log-level warn,jolt::server=info
addr() { jolt_addr "$1"; }
control=http://$(addr control)
echo_url=http://$(addr services)/echo

# Runs a traffic action with JSON params $1 until it ends; prints its final action object.
traffic() {
  local id
  id=$(curl -sf -X POST "$control/actions/traffic" -d "$1" | jq -r .id)
  while [ "$(curl -sf "$control/actions/$id" | jq -r .state)" = running ]; do sleep 0.2; done
  curl -sf "$control/actions/$id"
}

printf '%-34s %12s %12s %8s %10s %8s\n' "case" "target/s" "achieved/s" "ratio" "p99 ms" "dropped"
for rps in 1000 10000; do
  a=$(traffic "{\"rps\": $rps, \"duration\": \"10s\", \"target\": \"echo\"}")
  jq -r --argjson t "$rps" '.achieved |
    [("traffic " + ($t|tostring) + " rps, 10 s (goal ±1 %)"), $t, .requests_per_second,
     (.requests_per_second / $t), (.p99_seconds * 1000), .dropped] |
    "\(.[0])|\(.[1])|\(.[2]*10|round/10)|\(.[3]*10000|round/10000)|\(.[4]*100|round/100)|\(.[5])"' <<<"$a" |
    awk -F'|' '{ printf "%-34s %12s %12s %8s %10s %8s\n", $1, $2, $3, $4, $5, $6 }'
done

# Maximum: far above what loopback can carry, so the answered rate is the ceiling. The
# action's elapsed time includes draining its backlog after the 10 s, so answered / elapsed
# is the rate it really sustained.
a=$(traffic '{"rps": 1000000, "duration": "10s", "target": "echo", "max_in_flight": 64}')
jolt_max=$(jq '.achieved.answered / .elapsed_seconds' <<<"$a")
wrk_max=$(wrk -t2 -c64 -d10s "$echo_url" | awk '/Requests\/sec/ { print $2 }')
ratio=$(jq -n "$jolt_max / $wrk_max * 1000 | round / 1000")
printf '%-34s %12s %12s %8s\n' "max answered/s, 64 conns" "wrk: ${wrk_max%.*}" "jolt: ${jolt_max%.*}" "$ratio"
echo "goal: jolt ≥ 0.8× wrk (ratio column)"
