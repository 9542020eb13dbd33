# Benchmark sections of scripts/bench.sh (sourced by it and by bench/edge-compare.sh; uses their $root,
# $work, $pids, say). Each bench_NAME FRAGMENT writes Markdown to FRAGMENT
# and returns non-zero when it could not measure.

# ---------------------------------------------------------------- shared
# Components are started once, on first use, and stopped by stop_started,
# which the sourcing script traps on exit.
stop_started() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
  declare -F garage_stop >/dev/null && garage_stop
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
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
# The operator engineer's benchmark (scripts/bench-controller.sh): the real
# controller against a mock API server with N objects and a real Garage,
# and the reconcile core alone on as many buckets as the peer.
bench_operator() {
  local frag="$1" n="${OPERATOR_OBJECTS:-1000}"
  [ -x "$root/scripts/bench-controller.sh" ] || { echo "scripts/bench-controller.sh is missing" >&2; return 1; }
  "$root/scripts/bench-controller.sh" "$n" >"$work/operator.out" || { cat "$work/operator.out" >&2; return 1; }
  cat "$work/operator.out" >&2
  local ctl core
  ctl="$(grep '^mode=controller' "$work/operator.out")" || return 1
  core="$(grep '^mode=core' "$work/operator.out")" || return 1
  field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }
  mib() { awk -v k="$1" 'BEGIN{printf "%.1f MiB", k/1024}'; }
  {
    echo "\`scripts/bench-controller.sh $n\` (release build, \`/usr/bin/time -v\`): the real controller"
    echo "(watch, finalizer, reconcile core, Events, server-side-apply status) against an"
    echo "in-process mock API server holding $n BucketCors objects, each applied to its own"
    echo "bucket in a real Garage (a separate process, not counted); the peer is the"
    echo "reconcile core alone on as many fresh buckets, same concurrency, no Kubernetes."
    echo "Goal: operator RSS at most 64 MiB."
    echo
    echo "| run | objects Ready | wall time | throughput | peak RSS |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    echo "| controller | $(field "$ctl" ready) | $(field "$ctl" wall) | $(field "$ctl" throughput_per_s)/s | $(mib "$(field "$ctl" max_rss_kib)") |"
    echo "| reconcile core alone (peer) | $(field "$core" ready) | $(field "$core" wall) | $(field "$core" throughput_per_s)/s | $(mib "$(field "$core" max_rss_kib)") |"
  } >"$frag"
}
