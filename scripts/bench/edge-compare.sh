#!/usr/bin/env bash
# A quick, repeatable A/B of edge worker builds against the empty workers-rs
# peer, without regenerating docs/benchmarks.md (scripts/bench.sh edge does
# the full, documented run):
#
#   scripts/bench/edge-compare.sh [BUILD_DIR...]   # default: edge-worker/build
#
# Every BUILD_DIR (a worker-build output, e.g. made with
# BUCKETCORS_EDGE_OUT_DIR=/tmp/x scripts/build-worker.sh) is served by its
# own harness with the same published rules (bench.sh's edge manifest, via
# `bucketcors apply` against a local Garage), next to the empty peer
# (edge-worker/empty-peer/build) and the Node origin of edge-peers.mjs.
# Each round times every target once with `wrk -t2 -c16` for each kind of
# request, the order rotating from round to round, and prints each build's
# req/s divided by the empty peer's in the same round (and, with several
# builds, each later build's divided by the first's); the last lines give
# the median of those per-round ratios and their range.
#
# Each target line also shows wrk's median latency (p50, microseconds), and
# the summary its ratio as empty / build (above 1: faster than the peer);
# with EDGE_LOAD="-t1 -c1" (one request at a time) that is the cost of the
# path itself, which drifts less with machine load than throughput does.
#
# Env: WRK_SECONDS (default 10), WRK_ROUNDS (default 5), EDGE_LOAD (wrk's
# threads and connections, default "-t2 -c16"), EDGE_KINDS (default
# "get pre": the forwarded no-store GET and the preflight), BUCKETCORS_BIN
# (a built `bucketcors`; default: cargo build --release).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export BUCKETCORS_CACHE="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export PATH="$HOME/.cargo/bin:$BUCKETCORS_CACHE/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

builds=("$@")
[ "${#builds[@]}" -gt 0 ] || builds=("$root/edge-worker/build")
secs="${WRK_SECONDS:-10}" rounds="${WRK_ROUNDS:-5}" kinds=(${EDGE_KINDS:-get pre})

work="$(mktemp -d -t bucketcors-edge-compare.XXXXXX)"
pids=()
. "$root/scripts/bench/sections.sh"
trap stop_started EXIT INT TERM
say() { echo "edge-compare: $*" >&2; }
die() { say "$*"; exit 1; }

command -v wrk >/dev/null || die "wrk is missing: apt-get install wrk"
if [ -n "${BUCKETCORS_BIN:-}" ]; then bc="$BUCKETCORS_BIN"; else ensure_bucketcors || die "building bucketcors failed"; fi
for b in "${builds[@]}"; do
  [ -f "$b/worker/shim.mjs" ] || die "$b is not a worker build (no worker/shim.mjs)"
done
[ -f "$root/edge-worker/empty-peer/build/worker/shim.mjs" ] ||
  "$root/scripts/build-worker.sh" "$root/edge-worker/empty-peer" >&2 || die "building the empty peer failed"

ensure_garage || die "Garage did not start"
garage_bucket bench-edge >/dev/null || die "no Garage bucket"
setsid node "$root/scripts/bench/edge-peers.mjs" >"$work/peers.out" 2>"$work/peers.log" &
pids+=("$!")
wait_ready "$work/peers.out" "$!" || die "edge-peers did not start: $(tail -n 5 "$work/peers.log")"
origin_url="$(awk '$1=="origin"{print $2}' "$work/peers.out")"
empty_url="$(awk '$1=="empty"{print $2}' "$work/peers.out")"

export CLOUDFLARE_API_TOKEN
CLOUDFLARE_API_TOKEN="compare-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
edge_manifest bench-edge "$edge_host" "$origin_url" 600 >"$work/edge.yaml"
names=(empty) urls=("$empty_url")
for i in "${!builds[@]}"; do
  BUCKETCORS_HARNESS_TOKEN="$CLOUDFLARE_API_TOKEN" setsid node "$root/edge-worker/harness/harness.mjs" \
    --worker-build "${builds[$i]}" >"$work/harness-$i.out" 2>"$work/harness-$i.log" &
  pids+=("$!")
  wait_ready "$work/harness-$i.out" "$!" || die "harness for ${builds[$i]} did not start"
  "$bc" apply -f "$work/edge.yaml" --cloudflare-api-url "$(awk '$1=="api"{print $2}' "$work/harness-$i.out")" \
    --cloudflare-account-id local-account --cloudflare-namespace-id local-namespace >/dev/null ||
    die "publishing to the harness of ${builds[$i]} failed"
  names+=("b$i") urls+=("$(awk '$1=="edge"{print $2}' "$work/harness-$i.out")")
  say "b$i = ${builds[$i]}"
done

# URL, Lua script and Host of target NAME for KIND.
target() { # IDX KIND
  local url="${urls[$1]}" lua
  case "$2" in
    get) lua=get.lua url="$url/nostore/obj" ;;
    cget) lua=get.lua url="$url/cached/obj" ;;
    pre) lua=preflight.lua url="$url/obj" ;;
  esac
  echo "$url $root/scripts/bench/$lua"
}
run_wrk() { # IDX KIND SECONDS -> req/s
  local url lua args=()
  read -r url lua <<<"$(target "$1" "$2")"
  [ "$1" != 0 ] && args+=(-H "Host: $edge_host")
  wrk ${EDGE_LOAD:--t2 -c16} -d"$3"s "${args[@]}" --latency -s "$lua" "$url" >"$work/last.txt" 2>&1 || { cat "$work/last.txt" >&2; return 1; }
  python3 "$root/scripts/bench/wrk_summary.py" "$work/last.txt" >"$work/last.sum"
  local got p50 non2xx
  read -r got p50 _ non2xx _ <"$work/last.sum"
  [ "$non2xx" = 0 ] || { say "${names[$1]} $2: $non2xx non-2xx answers"; return 1; }
  echo "$got $p50"
}

# Every bucketcors build must report BYPASS on the no-store object.
for i in "${!builds[@]}"; do
  for n in 1 2 3; do
    h="$(curl -s -D - -o /dev/null -H "Host: $edge_host" -H 'Origin: https://app.example.com' "${urls[$((i + 1))]}/nostore/obj" | tr -d '\r' | tr 'A-Z' 'a-z')"
  done
  grep -q '^x-bucketcors-cache: bypass' <<<"$h" || die "b$i: the no-store GET is not a BYPASS: $h"
  grep -q '^access-control-allow-origin: https://app.example.com' <<<"$h" || die "b$i: no CORS headers: $h"
done

n="${#names[@]}"
for k in "${kinds[@]}"; do
  for i in $(seq 0 $((n - 1))); do run_wrk "$i" "$k" 3 >/dev/null || die "warm-up failed"; done
done
for r in $(seq "$rounds"); do
  for k in "${kinds[@]}"; do
    line="round $r $k:"
    declare -A rps=() p50=()
    for j in $(seq 0 $((n - 1))); do
      i=$(( (j + r) % n ))
      read -r rps[$i] p50[$i] <<<"$(run_wrk "$i" "$k" "$secs")" || die "wrk failed"
      [ -n "${p50[$i]}" ] || die "wrk failed"
    done
    for i in $(seq 0 $((n - 1))); do line+=" ${names[$i]}=${rps[$i]}/s,p50=${p50[$i]}us"; done
    for i in $(seq 1 $((n - 1))); do
      ratio="$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "${p50[0]}" "${p50[$i]}")"
      echo "$k p50:empty/${names[$i]} $ratio" >>"$work/ratios.txt"
    done
    for i in $(seq 1 $((n - 1))); do
      ratio="$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "${rps[$i]}" "${rps[0]}")"
      line+=" ${names[$i]}/empty=$ratio"
      echo "$k ${names[$i]}/empty $ratio" >>"$work/ratios.txt"
    done
    # With several builds, each later one against the first, too.
    for i in $(seq 2 $((n - 1))); do
      ratio="$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "${rps[$i]}" "${rps[1]}")"
      line+=" ${names[$i]}/b0=$ratio"
      echo "$k ${names[$i]}/b0 $ratio" >>"$work/ratios.txt"
    done
    echo "$line"
    unset rps p50
  done
done
echo "medians of per-round ratios (min-max):"
python3 - "$work/ratios.txt" <<'EOF'
import sys, statistics, collections
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    kind, name, ratio = line.split()
    by[(kind, name)].append(float(ratio))
for (kind, name), xs in sorted(by.items()):
    print(f"  {kind} {name}: {statistics.median(xs):.3f} ({min(xs):.3f}-{max(xs):.3f}, {len(xs)} rounds)")
EOF
