# Benchmark sections of scripts/bench.sh (sourced by it; uses its $root,
# $work, $pids, say). Each bench_NAME FRAGMENT writes Markdown to FRAGMENT
# and returns non-zero when it could not measure.

# ---------------------------------------------------------------- shared
# Components are started once, on first use, and stopped by bench.sh's
# cleanup.
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
# wrk on loopback against the bucketcors worker and the empty worker, both
# in workerd through Miniflare, same machine, same run, one after the other.
wrk_run() { # NAME URL LUA [HOST]
  local out="$work/wrk-$1.txt"
  local host_args=()
  [ -n "${4:-}" ] && host_args=(-H "Host: $4")
  wrk -t2 -c16 -d3s -s "$3" "${host_args[@]}" "$2" >/dev/null 2>&1 || true # warm-up
  wrk -t2 -c16 -d"${WRK_SECONDS:-15}"s --latency -s "$3" "${host_args[@]}" "$2" >"$out" 2>&1 || return 1
  cat "$out" >&2
  local rps p50 p99 non2xx
  rps="$(awk '/^Requests\/sec:/{print $2}' "$out")"
  p50="$(awk '$1=="50%"{print $2}' "$out")"
  p99="$(awk '$1=="99%"{print $2}' "$out")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$out")"
  echo "$rps $p50 $p99 ${non2xx:-0}"
}
bench_edge() {
  local frag="$1"
  command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; return 1; }
  ensure_bucketcors && ensure_garage && ensure_harness && ensure_peers || return 1
  garage_bucket bench-edge >/dev/null || return 1
  edge_manifest bench-edge edge.bench.test "$origin_url" 600 >"$work/edge.yaml"
  apply_edge "$work/edge.yaml" || return 1
  # Both paths must really work before they are timed.
  local st
  st="$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Host: edge.bench.test' -H 'Origin: https://app.example.com' \
    -H 'Access-Control-Request-Method: PUT' "$edge_url/obj")"
  [ "$st" = 200 ] || { echo "edge preflight answered $st, not 200" >&2; return 1; }
  st="$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: edge.bench.test' -H 'Origin: https://app.example.com' "$edge_url/obj")"
  [ "$st" = 200 ] || { echo "edge GET answered $st, not 200" >&2; return 1; }
  local e_pre b_pre e_get b_get r
  e_pre=($(wrk_run empty-preflight "$empty_url/obj" "$root/scripts/bench/preflight.lua")) || return 1
  b_pre=($(wrk_run bucketcors-preflight "$edge_url/obj" "$root/scripts/bench/preflight.lua" edge.bench.test)) || return 1
  e_get=($(wrk_run empty-get "$empty_url/obj" "$root/scripts/bench/get.lua")) || return 1
  b_get=($(wrk_run bucketcors-get "$edge_url/obj" "$root/scripts/bench/get.lua" edge.bench.test)) || return 1
  for r in "${b_pre[3]}" "${b_get[3]}" "${e_pre[3]}" "${e_get[3]}"; do
    [ "$r" = 0 ] || { echo "a wrk run saw $r non-2xx answers" >&2; return 1; }
  done
  {
    echo "\`wrk -t2 -c16 -d${WRK_SECONDS:-15}s --latency\` on loopback after a 3 s warm-up, against the"
    echo "bucketcors worker (\`edge-worker/\`, release wasm, rules published with"
    echo "\`bucketcors apply\`, host route) and an empty worker served the same way"
    echo "(Miniflare/workerd, same compatibility date) that answers \`OPTIONS\` with an empty"
    echo "200 and passes other requests through to the same origin"
    echo "(\`scripts/bench/edge-peers.mjs\`). wrk shares the two cores with workerd, so the"
    echo "absolute figures are low; the ratio is what compares."
    echo
    echo "| request | empty worker req/s | bucketcors req/s | bucketcors / empty | p50 empty → bucketcors | p99 empty → bucketcors |"
    echo "| --- | ---: | ---: | ---: | --- | --- |"
    echo "| preflight (answered at the edge) | ${e_pre[0]} | ${b_pre[0]} | $(ratio "${b_pre[0]}" "${e_pre[0]}") | ${e_pre[1]} → ${b_pre[1]} | ${e_pre[2]} → ${b_pre[2]} |"
    echo "| GET (forwarded, CORS headers applied) | ${e_get[0]} | ${b_get[0]} | $(ratio "${b_get[0]}" "${e_get[0]}") | ${e_get[1]} → ${b_get[1]} | ${e_get[2]} → ${b_get[2]} |"
    echo
    echo "Every answer in these runs was 2xx. After the first request the bucketcors GET"
    echo "is served from the worker's body cache (CORS headers added per request after the"
    echo "cache); the empty worker has no cache and fetches the origin each time."
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
