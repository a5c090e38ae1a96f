#!/usr/bin/env bash
# The five built-in scenarios played verified (`jolt scenario start NAME --verify`) at speed 1,
# each on a fresh live stack on loopback (jolt, Prometheus and Alertmanager with the shipped
# files, a fake Slack). For each: the verdict and score, every check with its result, detection
# delay and budget, the warning/critical alerts that fired, those the built-in's own `fires`
# checks name, the false positives (fired, not named) and the named alerts that stayed silent.
# Then over all five: precision = fired alerts named by a `fires` check / alerts fired, and
# recall = `fires` checks whose alert fired / `fires` checks. Goal: 5/5 pass, 100 % / 100 %.
#
# About 20 minutes; needs prometheus and prometheus-alertmanager (scripts/test installs them).
# Run it on an otherwise idle machine: other load fires HostHighCpu on its own (the load
# average before and after each run is printed, so such an alert can be told apart).
#
# usage: bench/scenario-alerts.sh            (all five)
#        SCENARIOS=ddos-attack,memory-leak bench/scenario-alerts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo nextest run --test it --run-ignored only -E "test(/^stack_scenarios::/)" --no-capture >"$log" 2>&1 || status=$?
grep -E '^scenario-alerts:' "$log" | sed 's/^scenario-alerts: //' || true
if [ "$status" -ne 0 ]; then
  grep -vE '^scenario-alerts:' "$log" | tail -40 >&2
  exit "$status"
fi
