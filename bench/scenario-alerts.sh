#!/usr/bin/env bash
# Which alerts each built-in scenario raises, at speed 1, against the live stack on loopback
# (jolt, Prometheus and Alertmanager with the shipped files, a fake Slack): for each of the five
# built-ins, the warning/critical alerts that fired, those its story does not name, those it
# names that stayed silent, then the precision (fired alerts the story names / alerts fired) and
# recall (named alerts that fired) over all five. Goal: 100 % / 100 %.
#
# About 20 minutes; needs prometheus and prometheus-alertmanager (scripts/test installs them).
# Run it on an otherwise idle machine: other load fires HostHighCpu on its own.
#
# usage: bench/scenario-alerts.sh            (all five)
#        SCENARIOS=ddos-attack,memory-leak bench/scenario-alerts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo nextest run --test stack_scenarios --run-ignored only --no-capture >"$log" 2>&1 || status=$?
grep -E '^scenario-alerts:' "$log" || true
if [ "$status" -ne 0 ]; then
  tail -40 "$log" >&2
  exit "$status"
fi
