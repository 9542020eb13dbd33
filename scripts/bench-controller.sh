#!/usr/bin/env bash
# Controller benchmark: reconcile throughput and peak RSS with N BucketCors
# objects (default 1,000) served by an in-process mock API server, against a
# real Garage started in a separate process so that /usr/bin/time -v
# measures the operator alone. The peer, measured in the same run, is the
# reconcile core driven directly on as many fresh buckets (no Kubernetes).
#
#   scripts/bench-controller.sh [N]
#
# Needs Garage (scripts/install/garage.sh) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
cargo build --release -q -p bucketcors-operator --example controller_bench
BIN=target/release/examples/controller_bench
WORK="$(mktemp -d)"
trap 'kill "$GARAGE_PID" 2>/dev/null; wait "$GARAGE_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
"$BIN" serve-garage --buckets $((2 * N)) --out "$WORK/garage.json" >"$WORK/garage.log" 2>&1 &
GARAGE_PID=$!
for _ in $(seq 1 600); do [ -s "$WORK/garage.json" ] && break; sleep 0.5; done
[ -s "$WORK/garage.json" ] || { cat "$WORK/garage.log" >&2; echo "Garage did not start" >&2; exit 1; }

run() {
  local mode=$1 offset=$2
  RUST_LOG=warn /usr/bin/time -v "$BIN" run --mode "$mode" --garage "$WORK/garage.json" \
    --objects "$N" --offset "$offset" >"$WORK/$mode.out" 2>"$WORK/$mode.time"
  local line rss wall
  line=$(grep '^mode=' "$WORK/$mode.out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$mode.time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/$mode.time")
  echo "$line max_rss_kib=$rss wall=$wall"
}
run core 0
run controller "$N"
