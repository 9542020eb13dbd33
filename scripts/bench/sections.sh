# Benchmark sections of scripts/bench.sh (sourced by it and by bench/edge-compare.sh; uses their $root,
# $work, $pids, say). Each bench_NAME FRAGMENT writes Markdown to FRAGMENT
# and returns non-zero when it could not measure.

# ---------------------------------------------------------------- shared
# Components are started once, on first use, and stopped by stop_started,
# which the sourcing script traps on exit.
stop_started() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  declare -F controlplane_stop >/dev/null && controlplane_stop
  declare -F garage_stop >/dev/null && garage_stop
  rm -rf "$work"
}
bc=""
ensure_bucketcors() {
  [ -n "$bc" ] && return 0
  say "   building bucketcors (release)"
  cargo build -q --release -p bucketcors-operator --bin bucketcors || return 1
  bc="$CARGO_TARGET_DIR/release/bucketcors"
}
garage_up=""
ensure_garage() {
  [ -n "$garage_up" ] && return 0
  bash "$root/scripts/install/garage.sh" >&2 || return 1
  . "$root/scripts/lib/garage.sh"
  garage_start "$work/garage" || return 1
  garage_up=1
  export AWS_ACCESS_KEY_ID="$GARAGE_KEY_ID" AWS_SECRET_ACCESS_KEY="$GARAGE_SECRET" AWS_REGION=garage
}
edge_url="" api_url="" kv_account="" kv_namespace=""
ensure_harness() {
  [ -n "$edge_url" ] && return 0
  "$root/scripts/build-worker.sh" >&2 || return 1
  export CLOUDFLARE_API_TOKEN
  CLOUDFLARE_API_TOKEN="bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  BUCKETCORS_HARNESS_TOKEN="$CLOUDFLARE_API_TOKEN" setsid node "$root/edge-worker/harness/harness.mjs" \
    --worker-build "$root/edge-worker/build" >"$work/harness.out" 2>"$work/harness.log" &
  local pid=$!
  pids+=("$pid")
  wait_ready "$work/harness.out" "$pid" || return 1
  edge_url="$(awk '$1=="edge"{print $2}' "$work/harness.out")"
  api_url="$(awk '$1=="api"{print $2}' "$work/harness.out")"
  kv_account="$(awk '$1=="account"{print $2}' "$work/harness.out")"
  kv_namespace="$(awk '$1=="namespace"{print $2}' "$work/harness.out")"
}
origin_url="" empty_url=""
ensure_peers() {
  [ -n "$empty_url" ] && return 0
  "$root/scripts/build-worker.sh" "$root/edge-worker/empty-peer" >&2 || return 1
  setsid node "$root/scripts/bench/edge-peers.mjs" >"$work/peers.out" 2>"$work/peers.log" &
  local pid=$!
  pids+=("$pid")
  wait_ready "$work/peers.out" "$pid" || return 1
  origin_url="$(awk '$1=="origin"{print $2}' "$work/peers.out")"
  empty_url="$(awk '$1=="empty"{print $2}' "$work/peers.out")"
}
wait_ready() { # FILE PID
  local i
  for i in $(seq 600); do
    grep -q '^ready' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "process $2 exited before ready" >&2; return 1; }
    sleep 0.1
  done
  echo "not ready after 60 s" >&2
  return 1
}
# A BucketCors for one Garage bucket behind the edge; MAX_AGE varies so a
# rule change is visible in Access-Control-Max-Age.
edge_manifest() { # BUCKET HOST ORIGIN_URL MAX_AGE
  cat <<EOF
apiVersion: bucketcors.dev/v1alpha1
kind: BucketCors
metadata:
  name: $1
  namespace: bench
spec:
  backend: {provider: s3, bucket: $1, endpoint: "$GARAGE_S3_URL", region: garage, pathStyle: true}
  rules:
    - allowedOrigins: ["https://app.example.com", "https://*.example.org"]
      allowedMethods: [GET, PUT, POST]
      allowedHeaders: ["content-type", "x-amz-*"]
      exposeHeaders: [ETag]
      maxAgeSeconds: $4
    - allowedOrigins: ["*"]
      allowedMethods: [GET, HEAD]
  edge: {enabled: true, hosts: ["$2"], originUrl: "$3"}
EOF
}
apply_edge() { # FILE
  "$bc" apply -f "$1" --cloudflare-api-url "$api_url" \
    --cloudflare-account-id "$kv_account" --cloudflare-namespace-id "$kv_namespace"
}
stats() { # numbers on stdin -> "median p90 min max count"
  python3 -c '
import sys, statistics as s
xs = sorted(float(x) for x in sys.stdin.read().split())
q = lambda p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
print(f"{s.median(xs):.0f} {q(0.9):.0f} {xs[0]:.0f} {xs[-1]:.0f} {len(xs)}")'
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }

# ---------------------------------------------------------------- edge
# The bucketcors worker against its peer, an empty pass-through workers-rs
# worker (edge-worker/empty-peer), both in workerd through the same
# Miniflare, both forwarding to the same local origin, one after the other
# on loopback. Three kinds of request, each like for like:
#   preflight       both answer at the edge (bucketcors: the engine's answer;
#                   empty: an empty 200);
#   forwarded GET   the origin sends `Cache-Control: no-store`, so the
#                   bucketcors body cache keeps nothing and both workers fetch
#                   the origin on every request: the budget ratio (>= 0.9x);
#   cached GET      a cacheable object: bucketcors answers from its body
#                   cache, the empty worker (no cache) still fetches; shown
#                   for context, not like for like.
# For context too, the forwarded GET against a second bucketcors harness
# with its body cache off (BODY_CACHE_TTL_SECONDS=0: no Cache API lookup),
# which shows what that lookup costs in workerd.
# Throughput: `wrk -t2 -c16`; latency: `wrk -t1 -c1 --latency` (one
# request at a time, so the figures are the path's own cost, not queueing).
# WRK_ROUNDS rounds (default 3) of WRK_SECONDS (default 15) per run,
# alternating which worker goes first; the tables give medians of rounds,
# and ratios are medians of the per-round ratios (each round times the two
# back to back, so a drift in machine load hits both alike).
edge_host=edge.bench.test
edge_target() { # NAME -> "URL LUA HOST" (HOST "-" when none)
  local pre="$root/scripts/bench/preflight.lua" get="$root/scripts/bench/get.lua"
  case "$1" in
    origin-get) echo "$origin_url/nostore/obj $get -" ;;
    empty-pre) echo "$empty_url/obj $pre -" ;;
    bucketcors-pre) echo "$edge_url/obj $pre $edge_host" ;;
    empty-get) echo "$empty_url/nostore/obj $get -" ;;
    bucketcors-get) echo "$edge_url/nostore/obj $get $edge_host" ;;
    nocache-get) echo "$nocache_url/nostore/obj $get $edge_host" ;;
    empty-cget) echo "$empty_url/cached/obj $get -" ;;
    bucketcors-cget) echo "$edge_url/cached/obj $get $edge_host" ;;
  esac
}
# One wrk run; appends "req/s p50_us p99_us non2xx socket_errors" to
# $work/edge-MODE-NAME.txt. MODE: load (-t2 -c16), lat (-t1 -c1) or warm.
wrk_measure() { # MODE NAME
  local mode="$1" name="$2" url lua host args=()
  read -r url lua host <<<"$(edge_target "$name")"
  [ "$host" != - ] && args+=(-H "Host: $host")
  case "$mode" in
    load) args+=(-t2 -c16 -d"${WRK_SECONDS:-15}"s) ;;
    lat) args+=(-t1 -c1 -d"${WRK_SECONDS:-15}"s) ;;
    warm) wrk -t2 -c16 -d3s -s "$lua" "${args[@]}" "$url" >/dev/null 2>&1; return 0 ;;
  esac
  local out="$work/wrk-$mode-$name.last"
  wrk "${args[@]}" --latency -s "$lua" "$url" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  say "   wrk $mode $name: $(awk '/^Requests\/sec:/{print $2}' "$out") req/s"
  cat "$out" >&2
  python3 "$root/scripts/bench/wrk_summary.py" "$out" >>"$work/edge-$mode-$name.txt"
}
# Median of column COL (1-based) of the rounds in $work/edge-MODE-NAME.txt.
edge_median() { # MODE NAME COL
  python3 -c '
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(float(r[int(sys.argv[2]) - 1]) for r in rows))' "$work/edge-$1-$2.txt" "$3"
}
ms() { python3 -c "import sys; print(f'{float(sys.argv[1]) / 1000:.3f} ms')" "$1"; }
added_ms() { python3 -c "import sys; print(f'{(float(sys.argv[1]) - float(sys.argv[2])) / 1000:+.3f} ms')" "$1" "$2"; }
round_ratios() { # NAME_A NAME_B -> per-round req/s ratios A/B, "0.91, 0.95, ..."
  paste -d' ' "$work/edge-load-$1.txt" "$work/edge-load-$2.txt" |
    awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1 / $6} END {print ""}'
}
median_ratio() { # NAME_A NAME_B -> median of the per-round req/s ratios A/B
  paste -d' ' "$work/edge-load-$1.txt" "$work/edge-load-$2.txt" | python3 -c '
import sys, statistics
print(statistics.median(float(l.split()[0]) / float(l.split()[5]) for l in sys.stdin if l.strip()))'
}
# A second harness serving the same worker build with its body cache off.
nocache_url=""
ensure_nocache_harness() {
  [ -n "$nocache_url" ] && return 0
  BUCKETCORS_HARNESS_TOKEN="$CLOUDFLARE_API_TOKEN" setsid node "$root/edge-worker/harness/harness.mjs" \
    --worker-build "$root/edge-worker/build" --body-cache-ttl 0 \
    >"$work/harness-nocache.out" 2>"$work/harness-nocache.log" &
  local pid=$!
  pids+=("$pid")
  wait_ready "$work/harness-nocache.out" "$pid" || return 1
  nocache_url="$(awk '$1=="edge"{print $2}' "$work/harness-nocache.out")"
  "$bc" apply -f "$1" --cloudflare-api-url "$(awk '$1=="api"{print $2}' "$work/harness-nocache.out")" \
    --cloudflare-account-id "$kv_account" --cloudflare-namespace-id "$kv_namespace"
}
# `curl -si` of one request to a target; prints the response head.
edge_head() { # NAME [METHOD]
  local url lua host args=()
  read -r url lua host <<<"$(edge_target "$1")"
  [ "$host" != - ] && args+=(-H "Host: $host")
  args+=(-H 'Origin: https://app.example.com')
  [ "${2:-GET}" = OPTIONS ] && args+=(-X OPTIONS -H 'Access-Control-Request-Method: PUT'
    -H 'Access-Control-Request-Headers: content-type, x-amz-date')
  curl -s -D - -o /dev/null "${args[@]}" "$url" | tr -d '\r' | tr 'A-Z' 'a-z'
}
# Every target must answer as the comparison assumes before it is timed.
edge_check() {
  local h i
  for i in empty-pre bucketcors-pre; do
    h="$(edge_head "$i" OPTIONS)"
    grep -q '^http/1.1 200' <<<"$h" || { echo "$i: preflight not answered 200: $h" >&2; return 1; }
  done
  grep -q '^access-control-allow-origin: https://app.example.com' <<<"$(edge_head bucketcors-pre OPTIONS)" ||
    { echo "bucketcors-pre: the preflight was not allowed by the published rules" >&2; return 1; }
  for i in origin-get empty-get empty-cget bucketcors-get bucketcors-cget nocache-get; do
    h="$(edge_head "$i")"
    grep -q '^http/1.1 200' <<<"$h" || { echo "$i: GET not answered 200: $h" >&2; return 1; }
  done
  # The forwarded GET must reach the origin every time: bucketcors reports
  # BYPASS (not stored) on a repeat, never HIT.
  for i in 1 2 3; do
    h="$(edge_head bucketcors-get)"
    grep -q '^x-bucketcors-cache: bypass' <<<"$h" || { echo "bucketcors-get: expected x-bucketcors-cache: BYPASS: $h" >&2; return 1; }
    grep -q '^access-control-allow-origin: https://app.example.com' <<<"$h" || { echo "bucketcors-get: no CORS headers: $h" >&2; return 1; }
    grep -q '^x-bucketcors-cache: bypass' <<<"$(edge_head nocache-get)" || { echo "nocache-get: expected BYPASS" >&2; return 1; }
  done
  # The cacheable GET must be a cache hit once stored (the store runs after
  # the answer, so give it a moment).
  for i in $(seq 50); do
    grep -q '^x-bucketcors-cache: hit' <<<"$(edge_head bucketcors-cget)" && return 0
    sleep 0.1
  done
  echo "bucketcors-cget: the cacheable object never became a body cache HIT" >&2
  return 1
}
bench_edge() {
  local frag="$1" rounds="${WRK_ROUNDS:-3}" secs="${WRK_SECONDS:-15}"
  command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; return 1; }
  ensure_bucketcors && ensure_garage && ensure_harness && ensure_peers || return 1
  garage_bucket bench-edge >/dev/null || return 1
  edge_manifest bench-edge "$edge_host" "$origin_url" 600 >"$work/edge.yaml"
  apply_edge "$work/edge.yaml" || return 1
  ensure_nocache_harness "$work/edge.yaml" || return 1
  edge_check || return 1

  local pairs=(pre get cget) p r n
  for n in origin-get empty-pre bucketcors-pre empty-get bucketcors-get nocache-get empty-cget bucketcors-cget; do
    wrk_measure warm "$n"
  done
  for r in $(seq "$rounds"); do
    say "   round $r/$rounds"
    for p in "${pairs[@]}"; do
      # Alternate which worker goes first, so a drift in machine load
      # does not always favour the same one.
      if [ $((r % 2)) = 1 ]; then
        wrk_measure load "empty-$p" && wrk_measure load "bucketcors-$p" || return 1
      else
        wrk_measure load "bucketcors-$p" && wrk_measure load "empty-$p" || return 1
      fi
    done
    wrk_measure load nocache-get && wrk_measure load origin-get || return 1
    wrk_measure lat origin-get && wrk_measure lat nocache-get || return 1
    for p in "${pairs[@]}"; do
      if [ $((r % 2)) = 1 ]; then
        wrk_measure lat "empty-$p" && wrk_measure lat "bucketcors-$p" || return 1
      else
        wrk_measure lat "bucketcors-$p" && wrk_measure lat "empty-$p" || return 1
      fi
    done
  done
  # Every answer must have been a 2xx; socket errors are reported.
  local f bad=0 errs=0
  for f in "$work"/edge-load-*.txt "$work"/edge-lat-*.txt; do
    bad=$((bad + $(awk '{s += $4} END {print s + 0}' "$f")))
    errs=$((errs + $(awk '{s += $5} END {print s + 0}' "$f")))
  done
  [ "$bad" = 0 ] || { echo "the wrk runs saw $bad non-2xx answers" >&2; return 1; }

  declare -A rps p50 p99
  for n in origin-get empty-pre bucketcors-pre empty-get bucketcors-get nocache-get empty-cget bucketcors-cget; do
    rps[$n]="$(edge_median load "$n" 1)"
    p50[$n]="$(edge_median lat "$n" 2)"
    p99[$n]="$(edge_median lat "$n" 3)"
  done
  local get_ratio verdict
  get_ratio="$(median_ratio bucketcors-get empty-get)"
  if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)" "$get_ratio"; then
    verdict="meets the budget (at least 0.90x the empty worker)"
  else
    verdict="**misses** the budget (at least 0.90x the empty worker)"
  fi
  get_ratio="$(printf '%.2fx' "$get_ratio")"
  mratio() { printf '%.2fx' "$(median_ratio "$1" "$2")"; }
  wasm_kb() { [ -f "$1" ] && gzip -9 -c "$1" | wc -c | awk '{printf "%.1f KB", $1 / 1024}' || echo "?"; }
  {
    echo "The bucketcors worker (\`edge-worker/\`, release wasm, rules published with"
    echo "\`bucketcors apply\` for host \`$edge_host\`) against its peer, an **empty"
    echo "workers-rs worker** (\`edge-worker/empty-peer/\`, the same \`worker\` crate and"
    echo "build) that answers \`OPTIONS\` with an empty 200 and passes every other request"
    echo "through to the origin (method, path, query, headers, streamed body) unchanged."
    echo "Both run in workerd through the same Miniflare (\`edge-worker/harness\` lockfile),"
    echo "same compatibility date, and forward to the same local origin (Node, fixed 1 KiB"
    echo "body; \`scripts/bench/edge-peers.mjs\`). gzipped wasm: bucketcors"
    echo "$(wasm_kb "$root/edge-worker/build/index_bg.wasm"), empty peer $(wasm_kb "$root/edge-worker/empty-peer/build/index_bg.wasm")."
    echo
    echo "- **preflight**: an allowed browser preflight (\`OPTIONS\`, \`Origin\`,"
    echo "  \`Access-Control-Request-Method: PUT\`, two requested headers); bucketcors"
    echo "  answers it with the engine, the empty worker with an empty 200. Neither"
    echo "  reaches the origin."
    echo "- **forwarded GET**: a cross-origin \`GET\` of an object the origin sends with"
    echo "  \`Cache-Control: no-store\`, so the bucketcors body cache stores nothing (checked:"
    echo "  \`x-bucketcors-cache: BYPASS\`) and both workers fetch the origin every time."
    echo "  bucketcors also routes, strips and writes CORS headers; after the first answer"
    echo "  its body cache remembers the object as uncacheable (hit-for-pass) and skips the"
    echo "  cache for it."
    echo "- **cached GET** (context only, not like for like): a cacheable object;"
    echo "  bucketcors answers from its body cache (checked: \`HIT\`), the empty worker has"
    echo "  no cache and fetches the origin."
    echo
    echo "$rounds rounds, each worker in turn (the first alternating), one 3 s warm-up per"
    echo "target before the first round; medians of the rounds. wrk shares the machine's"
    echo "cores with workerd and the origin, so absolute figures are low; the ratio within"
    echo "a run is what compares. Ratios are the median of the per-round ratios (the two
workers timed back to back in each round). Every answer in these runs was 2xx"
    [ "$errs" = 0 ] && echo "and wrk saw no socket errors." || echo "(wrk reported $errs socket errors/timeouts in total)."
    echo
    echo "### Throughput (\`wrk -t2 -c16 -d${secs}s\`, loopback)"
    echo
    echo "| request | empty worker req/s | bucketcors req/s | bucketcors / empty | per round |"
    echo "| --- | ---: | ---: | ---: | --- |"
    echo "| preflight, answered at the edge | ${rps[empty-pre]} | ${rps[bucketcors-pre]} | $(mratio bucketcors-pre empty-pre) | $(round_ratios bucketcors-pre empty-pre) |"
    echo "| **forwarded GET** (both fetch the origin every time) | ${rps[empty-get]} | ${rps[bucketcors-get]} | **$get_ratio** | $(round_ratios bucketcors-get empty-get) |"
    echo "| forwarded GET, bucketcors body cache off (context) | ${rps[empty-get]} | ${rps[nocache-get]} | $(mratio nocache-get empty-get) | $(round_ratios nocache-get empty-get) |"
    echo "| cached GET (bucketcors: body cache; empty: origin) | ${rps[empty-cget]} | ${rps[bucketcors-cget]} | $(mratio bucketcors-cget empty-cget) | $(round_ratios bucketcors-cget empty-cget) |"
    echo
    echo "Budget (issue 5): forwarded-GET throughput at least 0.9x the empty workers-rs"
    echo "worker's. This run: $get_ratio, which $verdict."
    echo "\"Body cache off\" is the same worker build in a second harness with"
    echo "\`BODY_CACHE_TTL_SECONDS=0\`: no Cache API lookup before the origin fetch, so the"
    echo "difference between the two bucketcors rows is what that lookup costs in workerd"
    echo "(Miniflare's local cache, not Cloudflare's). The origin alone (no worker) served"
    echo "${rps[origin-get]} req/s."
    echo
    echo "### Latency (\`wrk -t1 -c1 -d${secs}s --latency\`: one request at a time)"
    echo
    echo "| request | percentile | origin direct | empty worker | bucketcors | added by bucketcors (vs empty) | bucketcors vs origin direct |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    local q v
    for q in p50 p99; do
      declare -n v="$q"
      echo "| preflight | $q | n/a | $(ms "${v[empty-pre]}") | $(ms "${v[bucketcors-pre]}") | **$(added_ms "${v[bucketcors-pre]}" "${v[empty-pre]}")** | n/a |"
    done
    for q in p50 p99; do
      declare -n v="$q"
      echo "| forwarded GET | $q | $(ms "${v[origin-get]}") | $(ms "${v[empty-get]}") | $(ms "${v[bucketcors-get]}") | **$(added_ms "${v[bucketcors-get]}" "${v[empty-get]}")** | $(added_ms "${v[bucketcors-get]}" "${v[origin-get]}") |"
    done
    for q in p50 p99; do
      declare -n v="$q"
      echo "| forwarded GET, body cache off (context) | $q | $(ms "${v[origin-get]}") | $(ms "${v[empty-get]}") | $(ms "${v[nocache-get]}") | $(added_ms "${v[nocache-get]}" "${v[empty-get]}") | $(added_ms "${v[nocache-get]}" "${v[origin-get]}") |"
    done
    for q in p50 p99; do
      declare -n v="$q"
      echo "| cached GET (context) | $q | n/a | $(ms "${v[empty-cget]}") (origin fetch) | $(ms "${v[bucketcors-cget]}") (cache hit) | $(added_ms "${v[bucketcors-cget]}" "${v[empty-cget]}") | n/a |"
    done
    echo
    echo "\"Added by bucketcors\" is the bucketcors worker's latency minus the empty worker's"
    echo "for the same request: what the CORS logic costs on top of workers-rs in workerd."
    echo
    echo "Rerun this section alone: \`scripts/bench.sh edge\` (\`WRK_SECONDS\`, default 15, and"
    echo "\`WRK_ROUNDS\`, default 3, set the run length)."
  } >"$frag"
}

# ---------------------------------------------------------------- publish
# A rule change applied with `bucketcors apply` (bucket, then KV through the
# local Cloudflare KV API) until the edge answers with it.
bench_publish() {
  local frag="$1" n="${PUBLISH_ROUNDS:-20}"
  ensure_bucketcors && ensure_garage && ensure_harness && ensure_peers || return 1
  garage_bucket bench-publish >/dev/null || return 1
  local i t0 t1 t2 got want
  : >"$work/publish-serve.txt"
  : >"$work/publish-total.txt"
  for i in $(seq "$n"); do
    want=$((1000 + i))
    edge_manifest bench-publish publish.bench.test "$origin_url" "$want" >"$work/publish.yaml"
    t0=$(date +%s%N)
    apply_edge "$work/publish.yaml" >/dev/null || return 1
    t1=$(date +%s%N)
    while :; do
      got="$(curl -s -D - -o /dev/null -X OPTIONS -H 'Host: publish.bench.test' -H 'Origin: https://app.example.com' \
        -H 'Access-Control-Request-Method: PUT' "$edge_url/obj" | tr -d '\r' |
        awk -F': ' 'tolower($1)=="access-control-max-age"{print $2}')"
      [ "$got" = "$want" ] && break
      [ $(( ($(date +%s%N) - t1) / 1000000 )) -lt 30000 ] || { echo "round $i: the edge never served max-age $want" >&2; return 1; }
      sleep 0.01
    done
    t2=$(date +%s%N)
    echo $(( (t2 - t1) / 1000000 )) >>"$work/publish-serve.txt"
    echo $(( (t2 - t0) / 1000000 )) >>"$work/publish-total.txt"
  done
  local serve total
  serve=($(stats <"$work/publish-serve.txt"))
  total=($(stats <"$work/publish-total.txt"))
  {
    echo "$n rule changes (\`maxAgeSeconds\` edited each time), each applied with"
    echo "\`bucketcors apply\` against Garage with the edge publish pointed at the harness's"
    echo "Cloudflare KV API; the edge polled every 10 ms with a preflight until it answered"
    echo "with the new \`Access-Control-Max-Age\`. The worker re-reads a route's record after"
    echo "its rules TTL (harness default: 5 s), which bounds publish-to-serve. No peer: this"
    echo "is a latency of the pipeline itself."
    echo
    echo "| interval | median | p90 | min | max |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    echo "| publish acknowledged → edge serves the change | ${serve[0]} ms | ${serve[1]} ms | ${serve[2]} ms | ${serve[3]} ms |"
    echo "| \`bucketcors apply\` started → edge serves the change | ${total[0]} ms | ${total[1]} ms | ${total[2]} ms | ${total[3]} ms |"
  } >"$frag"
}

# ---------------------------------------------------------------- apply
bench_apply() {
  local frag="$1" n="${APPLY_BUCKETS:-1000}"
  ensure_bucketcors && ensure_garage || return 1
  local dir="$work/apply-manifests" i
  mkdir -p "$dir"
  say "   creating $n buckets in Garage (admin API, 8 at a time)"
  # `wait` on these jobs only: Garage itself is a child of this shell too.
  local jobs=() j
  for i in $(seq -w 1 "$n"); do
    garage_bucket "bulk-$i" >/dev/null &
    jobs+=($!)
    if [ "${#jobs[@]}" -ge 8 ]; then
      for j in "${jobs[@]}"; do wait "$j" || { echo "creating bucket bulk-$i failed" >&2; return 1; }; done
      jobs=()
    fi
  done
  for j in "${jobs[@]}"; do wait "$j" || return 1; done
  for i in $(seq -w 1 "$n"); do
    cat >"$dir/bulk-$i.yaml" <<EOF
apiVersion: bucketcors.dev/v1alpha1
kind: BucketCors
metadata: {name: bulk-$i, namespace: bench}
spec:
  backend: {provider: s3, bucket: bulk-$i, endpoint: "$GARAGE_S3_URL", region: garage, pathStyle: true}
  rules:
    - allowedOrigins: ["https://app-$i.example.com"]
      allowedMethods: [GET, PUT]
      allowedHeaders: ["content-type"]
      maxAgeSeconds: 600
    - allowedOrigins: ["*"]
      allowedMethods: [GET]
EOF
  done
  /usr/bin/time -v "$bc" apply -f "$dir" >"$work/apply1.out" 2>"$work/apply1.time" ||
    { tail -n 20 "$work/apply1.out" "$work/apply1.time" >&2; return 1; }
  /usr/bin/time -v "$bc" apply -f "$dir" >"$work/apply2.out" 2>"$work/apply2.time" ||
    { tail -n 20 "$work/apply2.out" "$work/apply2.time" >&2; return 1; }
  local wall1 wall2 rss1 rss2
  wall1="$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$work/apply1.time")"
  wall2="$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$work/apply2.time")"
  rss1="$(awk -F': ' '/Maximum resident set size/{printf "%.1f MiB", $2/1024}' "$work/apply1.time")"
  rss2="$(awk -F': ' '/Maximum resident set size/{printf "%.1f MiB", $2/1024}' "$work/apply2.time")"
  {
    echo "\`/usr/bin/time -v bucketcors apply -f DIR\` (release build) with $n manifests, one"
    echo "per bucket, against one local Garage node (same machine). The second run finds"
    echo "every bucket already in the desired state: it reads and compares, and writes"
    echo "nothing. Goal: 30 s or less for the first run."
    echo
    echo "| run | wall time (m:ss) | peak RSS |"
    echo "| --- | ---: | ---: |"
    echo "| first apply: $n buckets written and read back | $wall1 | $rss1 |"
    echo "| second apply: $n buckets unchanged | $wall2 | $rss2 |"
  } >"$frag"
}

# ---------------------------------------------------------------- operator
# The operator against a real control plane (the test kit's `controlplane`:
# etcd + kube-apiserver on loopback), installed with the chart, with N
# BucketCors (default 1,000) in one namespace, each for its own bucket in
# the same Garage. Measured: the time from the operator's start until every
# object is Ready for its generation, the operator's peak RSS, and the API
# requests it made (kube-apiserver's own counters, less the benchmark's
# polls and the server's own idle traffic; scripts/bench/apiserver_requests.py).
# The peer, in the same run and the same Garage: the reconcile core alone
# (operator/examples/controller_bench.rs) on N fresh buckets, no Kubernetes.
cp_pid=""
controlplane_stop() {
  [ -n "$cp_pid" ] || return 0
  # The control plane stops etcd and kube-apiserver when its input closes.
  [ -n "${CP[1]:-}" ] && exec {CP[1]}>&-
  local i
  for i in $(seq 100); do kill -0 "$cp_pid" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$cp_pid" 2>/dev/null
  wait "$cp_pid" 2>/dev/null
  cp_pid=""
}
ensure_controlplane() { # exports KUBECONFIG
  [ -n "$cp_pid" ] && return 0
  bash "$root/scripts/install/controlplane.sh" >&2 || return 1
  bash "$root/scripts/install/helm.sh" >&2 || return 1
  say "   building the test kit's controlplane and local-pod"
  cargo build -q -p bucketcors-testkit --bins || return 1
  coproc CP { exec "$CARGO_TARGET_DIR/debug/controlplane" 2>"$work/controlplane.log"; }
  cp_pid=$CP_PID
  local line=""
  read -r -t 120 line <&"${CP[0]}" || { cat "$work/controlplane.log" >&2; echo "the control plane did not start" >&2; return 1; }
  case "$line" in KUBECONFIG=*) export KUBECONFIG="${line#KUBECONFIG=}" ;; *) echo "controlplane said: $line" >&2; return 1 ;; esac
  say "   $(tail -n 1 "$work/controlplane.log")"
}
# Buckets named on stdin, created 8 at a time through Garage's admin API.
create_buckets() {
  local jobs=() j name count=0
  while read -r name; do
    garage_bucket "$name" >/dev/null &
    jobs+=($!)
    count=$((count + 1))
    if [ "${#jobs[@]}" -ge 8 ]; then
      # `wait` on these jobs only: Garage itself is a child of this shell too.
      for j in "${jobs[@]}"; do wait "$j" || { echo "creating bucket $name failed" >&2; return 1; }; done
      jobs=()
      [ $((count % 200)) -eq 0 ] && say "   $count buckets"
    fi
  done
  for j in "${jobs[@]}"; do wait "$j" || return 1; done
}
# The operator's objects; controller_bench.rs builds the peer's with the same spec.
operator_manifests() { # FROM TO
  local i
  for i in $(seq "$1" "$2"); do
    cat <<EOF
---
apiVersion: bucketcors.dev/v1alpha1
kind: BucketCors
metadata: {name: bc-$i, namespace: bench}
spec:
  backend: {provider: s3, bucket: bench-$i, endpoint: "$GARAGE_S3_URL", region: garage, pathStyle: true, credentialsSecretRef: {name: garage}}
  rules:
    - allowedOrigins: ["https://app$i.example.com", "https://*.example.org"]
      allowedMethods: [GET, PUT]
      allowedHeaders: ["content-type", "x-amz-*"]
      exposeHeaders: [ETag]
      maxAgeSeconds: 600
    - allowedOrigins: ["*"]
      allowedMethods: [GET, HEAD]
EOF
  done
}
scrape_apiserver() { kubectl get --raw /metrics >"$1"; }
now_ns() { date +%s%N; }
secs() { python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / 1e9:.1f}')" "$1" "$2"; }
bench_operator() {
  local frag="$1" n="${OPERATOR_OBJECTS:-1000}" idle_s="${OPERATOR_IDLE_SECONDS:-20}"
  [ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; return 1; }
  ensure_bucketcors && ensure_garage || return 1
  say "   building the peer (operator/examples/controller_bench.rs, release)"
  cargo build -q --release -p bucketcors-operator --example controller_bench || return 1
  ensure_controlplane || return 1
  local t0 t1
  say "   creating $((2 * n)) buckets in Garage ($n for the operator, $n for the peer)"
  seq 0 $((2 * n - 1)) | sed 's/^/bench-/' | create_buckets || return 1

  say "   helm install of charts/bucketcors (no kubelet: the Deployment's pod is played by local-pod)"
  kubectl create namespace bucketcors-system >/dev/null || return 1
  helm install bucketcors "$root/charts/bucketcors" -n bucketcors-system >"$work/helm.out" || { cat "$work/helm.out" >&2; return 1; }
  kubectl wait --for=condition=Established crd/bucketcors.bucketcors.dev --timeout=60s >/dev/null || return 1
  kubectl create namespace bench >/dev/null || return 1
  kubectl apply -f - >/dev/null <<EOF || return 1
apiVersion: v1
kind: Secret
metadata: {name: garage, namespace: bench}
type: Opaque
stringData: {accessKeyId: "$GARAGE_KEY_ID", secretAccessKey: "$GARAGE_SECRET"}
EOF
  operator_manifests 0 $((n - 1)) >"$work/operator-objects.yaml"
  say "   kubectl apply --server-side of $n BucketCors (one file; not counted as the operator's)"
  t0=$(now_ns)
  kubectl apply --server-side -f "$work/operator-objects.yaml" >"$work/apply.out" || { tail -n 20 "$work/apply.out" >&2; return 1; }
  t1=$(now_ns)
  local apply_s
  apply_s="$(secs "$t0" "$t1")"
  [ "$(kubectl get bucketcors -n bench --no-headers | wc -l)" -eq "$n" ] || { echo "not all $n objects were created" >&2; return 1; }
  say "   applied in $apply_s s"

  # kube-apiserver's own traffic with no operator: the background rate.
  say "   idle window: ${idle_s} s of kube-apiserver's own requests"
  scrape_apiserver "$work/metrics-idle0.txt" || return 1
  sleep "$idle_s"
  scrape_apiserver "$work/metrics-idle1.txt" || return 1

  # The poller talks to kube-apiserver directly with the admin token: one LIST per poll.
  local server ca="$work/ca.crt" token="$work/admin.token"
  server="$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')"
  kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$ca"
  kubectl config view --raw --minify -o jsonpath='{.users[0].user.token}' >"$token"
  [ -s "$ca" ] && [ -s "$token" ] || { echo "cannot read the admin kubeconfig" >&2; return 1; }
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

  scrape_apiserver "$work/metrics-start.txt" || return 1
  say "   starting the operator (release build, the chart's Deployment through local-pod, /usr/bin/time -v)"
  local start op
  start=$(now_ns)
  # Its own process group, so that a failed run stops it with the others.
  setsid /usr/bin/time -v -o "$work/operator.time" "$CARGO_TARGET_DIR/debug/local-pod" "$KUBECONFIG" bucketcors-system \
    bucketcors bucketcors-bench-0 "$bc" --set-arg "--listen-addr=127.0.0.1:$port" \
    >"$work/operator.out" 2>"$work/operator.log" &
  op=$!
  pids+=("$op")
  local poll
  poll="$(python3 "$root/scripts/bench/ready_poll.py" "$server" "$ca" "$token" bench "$n" "$start" \
    "${OPERATOR_POLL_SECONDS:-0.5}" "${OPERATOR_TIMEOUT_SECONDS:-1800}")" || {
    tail -n 20 "$work/operator.log" >&2; return 1; }
  scrape_apiserver "$work/metrics-end.txt" || return 1
  local ready polls ready_s
  ready="$(sed -n 's/.*ready=\([0-9]*\).*/\1/p' <<<"$poll")"
  polls="$(sed -n 's/.*polls=\([0-9]*\).*/\1/p' <<<"$poll")"
  ready_s="$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' <<<"$poll")"
  # The operator is the child of /usr/bin/time (local-pod exec'd into it).
  local opid hwm="?"
  opid="$(pgrep -P "$op" | sed -n 1p)"
  [ -n "$opid" ] && hwm="$(awk '/^VmHWM/{printf "%.1f MiB", $2/1024}' "/proc/$opid/status")"
  say "   all $ready Ready after $ready_s s ($polls polls); VmHWM $hwm; SIGTERM to the operator"
  [ -n "$opid" ] && kill -TERM "$opid"
  local op_rc=0
  wait "$op" || op_rc=$?
  python3 "$root/scripts/bench/apiserver_requests.py" "$work/metrics-idle0.txt" "$work/metrics-idle1.txt" "$idle_s" \
    "$work/metrics-start.txt" "$work/metrics-end.txt" "$ready_s" "$polls" "$n" \
    >"$work/requests.md" 2>"$work/requests.sum" || { cat "$work/requests.sum" >&2; return 1; }
  cat "$work/requests.md" "$work/requests.sum" >&2
  local total per
  total="$(sed -n 's/.*total=\([0-9]*\).*/\1/p' "$work/requests.sum")"
  per="$(sed -n 's/.*per_object=\([0-9.]*\).*/\1/p' "$work/requests.sum")"
  local apiserver_version
  apiserver_version="$(kube-apiserver --version 2>/dev/null | awk '{print $2}')"
  controlplane_stop

  say "   the peer: reconcile core alone on buckets bench-$n..bench-$((2 * n - 1))"
  jq -n --arg e "$GARAGE_S3_URL" --arg k "$GARAGE_KEY_ID" --arg s "$GARAGE_SECRET" \
    '{endpoint: $e, region: "garage", accessKeyId: $k, secretAccessKey: $s}' >"$work/garage.json"
  RUST_LOG=warn /usr/bin/time -v -o "$work/core.time" "$CARGO_TARGET_DIR/release/examples/controller_bench" \
    run --mode core --garage "$work/garage.json" --objects "$n" --offset "$n" >"$work/core.out" 2>"$work/core.log" ||
    { tail -n 20 "$work/core.log" "$work/core.time" >&2; return 1; }
  cat "$work/core.out" >&2
  local core_s core_tp
  core_s="$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$work/core.out")"
  core_tp="$(sed -n 's/.*throughput_per_s=\([0-9.]*\).*/\1/p' "$work/core.out")"

  rss() { awk -F': ' '/Maximum resident set size/{printf "%.1f MiB", $2/1024}' "$1"; }
  cpu() { awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.1f s", u+s}' "$1"; }
  local op_rss op_rss_kib core_rss verdict tp
  op_rss="$(rss "$work/operator.time")"
  op_rss_kib="$(awk -F': ' '/Maximum resident set size/{print $2}' "$work/operator.time")"
  core_rss="$(rss "$work/core.time")"
  tp="$(python3 -c "import sys; print(f'{int(sys.argv[1]) / float(sys.argv[2]):.1f}')" "$ready" "$ready_s")"
  if [ "${op_rss_kib:-999999}" -le $((64 * 1024)) ]; then verdict="within the goal"; else verdict="**above** the goal"; fi
  {
    echo "The operator (\`bucketcors run\`, release build) against a real Kubernetes control"
    echo "plane on loopback: etcd and kube-apiserver $apiserver_version (the test kit's \`controlplane\`),"
    echo "the chart installed with \`helm install\` (CRD, RBAC, the Deployment), and the"
    echo "Deployment's pod played by the test kit's \`local-pod\`: the chart's own arguments"
    echo "(leader election on, JSON logs at \`info\`) and a token of the chart's ServiceAccount,"
    echo "so RBAC applies as in a cluster; only \`--listen-addr\` is moved to a free loopback port."
    echo "$n BucketCors in namespace \`bench\`, each for its own bucket in one local Garage,"
    echo "credentials in a Secret of that namespace; created with \`kubectl apply --server-side\`"
    echo "of one file before the operator starts ($apply_s s, not counted). Time to all Ready:"
    echo "from starting the operator (local-pod resolving the pod and minting its token"
    echo "included) until one LIST shows every object with \`Ready=True\` for its generation"
    echo "(polled every ${OPERATOR_POLL_SECONDS:-0.5} s). Peak RSS: \`/usr/bin/time -v\`. Everything shares the"
    echo "machine's $(nproc) cores: kube-apiserver, etcd, Garage, the poller and the operator."
    echo
    echo "The peer, in the same run and against the same Garage: the reconcile core alone"
    echo "(\`operator/examples/controller_bench.rs\`: the same objects' specs, the same"
    echo "\`Reconciler::apply\`, the operator's concurrency of 16 and its two-thread runtime)"
    echo "on $n fresh buckets, with no Kubernetes at all, run after the operator with the"
    echo "control plane stopped. What the operator takes beyond it is the controller and"
    echo "the API server."
    echo
    echo "| run | objects Ready | time to all Ready | throughput | peak RSS | CPU (user + sys) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    echo "| **operator** against kube-apiserver | $ready | ${ready_s} s | ${tp}/s | **$op_rss** | $(cpu "$work/operator.time") |"
    echo "| reconcile core alone (peer) | $n | ${core_s} s | ${core_tp}/s | $core_rss | $(cpu "$work/core.time") |"
    echo
    echo "Goal: operator RSS at most 64 MiB with 1,000 objects. This run: $op_rss, $verdict."
    echo "The operator's own VmHWM, read from /proc when all were Ready: $hwm. It exited"
    echo "$op_rc on SIGTERM."
    echo
    echo "### API requests the operator made"
    echo
    echo "kube-apiserver's \`apiserver_request_total\` from the operator's start until all"
    echo "were Ready ($ready_s s), less the benchmark's own requests ($polls LISTs of the poller, one"
    echo "\`/metrics\` scrape, local-pod's GET of the Deployment and POST of the token) and less kube-apiserver's own clients at the rate measured in"
    echo "an idle ${idle_s} s window just before (no operator running). Watches still open at the"
    echo "end are counted from \`apiserver_longrunning_requests\`. **$total requests in total,"
    echo "$per per object.**"
    echo
    cat "$work/requests.md"
    echo
    echo "Rerun this section alone: \`scripts/bench.sh operator\` (\`OPERATOR_OBJECTS\`,"
    echo "default 1000; \`OPERATOR_POLL_SECONDS\`, default 0.5)."
  } >"$frag"
}
