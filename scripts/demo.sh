#!/usr/bin/env bash
# The main job on this machine, end to end, as a user does it:
#
#   1. installs what is missing (Garage, the worker tool chain, helm and
#      kubectl, kube-apiserver and etcd built from their Go modules; cached
#      under ~/.cache/bucketcors and ~/.cargo/bin, so a second run is quick),
#   2. builds the `bucketcors` binary and the edge worker,
#   3. starts a real Garage (S3), the local edge harness (the worker in
#      workerd with a local Workers KV and a Cloudflare KV REST endpoint) and
#      a real Kubernetes control plane (etcd and kube-apiserver; no nodes),
#   4. installs the chart with `helm install` (CRD, ServiceAccount, RBAC,
#      Deployment) and runs the operator as the chart's pod would run: a
#      local `bucketcors run` with the Deployment's arguments and a token of
#      its ServiceAccount (there is no kubelet to run the pod),
#   5. `kubectl apply -f demo/`, waits for Ready, prints `kubectl get
#      bucketcors` and the Events, and shows the API server refusing a wrong
#      manifest with the field named,
#   6. prints a table of live checks: preflights to the bucket and to the
#      edge for allowed and denied origins, and GETs through the edge, each
#      compared with what `bucketcors eval` says the bucket's dialect answers,
#   7. explains why a denied request is denied (`bucketcors eval`), and shows
#      that `bucketcors apply --dry-run` (the same sync core, no cluster)
#      finds nothing left to change.
#
# Exits 0 when every check passed, and leaves nothing running.
# Environment: BUCKETCORS_CACHE (tool cache), DEMO_KEEP=1 keeps the work
# directory (logs, manifests) for a look afterwards.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export BUCKETCORS_CACHE="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export PATH="$HOME/.cargo/bin:$BUCKETCORS_CACHE/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

work="$(mktemp -d -t bucketcors-demo.XXXXXX)"
harness_pid=""
operator_pid=""
controlplane_pid=""

# Everything started here is stopped here, whatever happens.
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [ -n "$operator_pid" ] && kill -0 "$operator_pid" 2>/dev/null; then
    kill -TERM "$operator_pid" 2>/dev/null || true
    wait "$operator_pid" 2>/dev/null || true
  fi
  if [ -n "$controlplane_pid" ]; then
    # Closing its input stops etcd and kube-apiserver and removes their directory.
    exec {CONTROLPLANE[1]}>&- 2>/dev/null || true
    wait "$controlplane_pid" 2>/dev/null || true
  fi
  if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
    kill -TERM "$harness_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$harness_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$harness_pid" 2>/dev/null || true
    wait "$harness_pid" 2>/dev/null || true
  fi
  declare -F garage_stop >/dev/null && garage_stop
  if [ "${DEMO_KEEP:-}" = 1 ]; then
    echo "demo: work directory kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$SECONDS
step() { printf '\n\033[1m==> %s\033[0m (%ds)\n' "$*" "$((SECONDS - started))"; }
die() { echo "demo: $*" >&2; exit 1; }

# ------------------------------------------------------------ 1. install
step "Installing what is missing (cached under $BUCKETCORS_CACHE)"
for tool in helm controlplane worker-tools garage; do
  script="$root/scripts/install/$tool.sh"
  [ -f "$script" ] || die "missing installer $script"
  echo "    $tool ..."
  t0=$SECONDS
  # The installers' progress goes to a log; a line every 30 s says they live.
  bash "$script" >"$work/install-$tool.log" 2>&1 &
  installer=$!
  while kill -0 "$installer" 2>/dev/null; do
    for _ in $(seq 30); do kill -0 "$installer" 2>/dev/null || break; sleep 1; done
    kill -0 "$installer" 2>/dev/null && echo "      still installing $tool ($((SECONDS - t0)) s): $(tail -n 1 "$work/install-$tool.log" | cut -c1-100)"
  done
  if ! wait "$installer"; then
    tail -n 20 "$work/install-$tool.log" >&2
    die "installing $tool failed (log above)"
  fi
  echo "    $tool ready ($((SECONDS - t0)) s)"
done
command -v garage >/dev/null || die "garage is not on PATH after scripts/install/garage.sh"

# ------------------------------------------------------------ 2. build
step "Building bucketcors, the test kit's control-plane tools and the edge worker"
cargo build -q -p bucketcors-operator --bin bucketcors -p bucketcors-testkit --bins
bucketcors="$CARGO_TARGET_DIR/debug/bucketcors"
local_pod="$CARGO_TARGET_DIR/debug/local-pod"
# Exactly what `wrangler deploy` uploads (its --dry-run bundle), as the tests run it.
"$root/scripts/bundle-worker.sh" >"$work/build-worker.log" 2>&1 || { tail -n 30 "$work/build-worker.log" >&2; die "bundling the worker failed"; }
tail -n 1 "$work/build-worker.log" | sed 's/^/    /'

# ------------------------------------------------------------ 3. start
. "$root/scripts/lib/garage.sh"
step "Starting Garage $(garage --version 2>/dev/null | sed -n 1p | awk '{sub(/^cargo:/, "", $2); print $2}')"
garage_start "$work/garage" || die "Garage did not start; log: $(tail -n 20 "$work/garage/garage.log" 2>/dev/null)"
s3_port="$GARAGE_S3_PORT" web_port="$GARAGE_WEB_PORT"
access_key="$GARAGE_KEY_ID" secret_key="$GARAGE_SECRET"
uploads_id="$(garage_bucket demo-uploads)" || die "creating bucket demo-uploads failed"
garage_bucket demo-assets >/dev/null || die "creating bucket demo-assets failed"
# The web endpoint serves the uploads bucket as http://localhost:$web_port
# (Garage picks the bucket by Host).
garage_website "$uploads_id" localhost || die "enabling the website of demo-uploads failed"
echo "    S3 http://127.0.0.1:$s3_port, web http://localhost:$web_port; buckets demo-uploads, demo-assets"

# An object to GET through the edge, uploaded with SigV4 (curl signs it).
printf 'hello from Garage, through the edge\n' >"$work/hello.txt"
curl -sf --aws-sigv4 "aws:amz:garage:s3" --user "$access_key:$secret_key" \
  -H "x-amz-content-sha256: $(sha256sum "$work/hello.txt" | cut -d' ' -f1)" \
  -T "$work/hello.txt" "http://127.0.0.1:$s3_port/demo-uploads/hello.txt" >/dev/null ||
  die "uploading hello.txt to Garage failed"

step "Starting the edge harness (the worker in workerd, local Workers KV, Cloudflare KV API)"
token="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BUCKETCORS_HARNESS_TOKEN="$token" node "$root/edge-worker/harness/harness.mjs" \
  --worker-bundle "$root/edge-worker/dist" --rules-ttl 1 \
  >"$work/harness.out" 2>"$work/harness.log" &
harness_pid=$!
for _ in $(seq 600); do
  grep -q '^ready' "$work/harness.out" 2>/dev/null && break
  kill -0 "$harness_pid" 2>/dev/null || { tail -n 20 "$work/harness.log" >&2; die "the harness exited at start"; }
  sleep 0.1
done
grep -q '^ready' "$work/harness.out" || die "the harness did not become ready in 60 s"
edge_url="$(awk '$1=="edge"{print $2}' "$work/harness.out")"
api_url="$(awk '$1=="api"{print $2}' "$work/harness.out")"
account="$(awk '$1=="account"{print $2}' "$work/harness.out")"
namespace="$(awk '$1=="namespace"{print $2}' "$work/harness.out")"
echo "    edge $edge_url   Cloudflare KV API $api_url"

step "Starting a Kubernetes control plane (etcd and kube-apiserver, built from their Go modules)"
coproc CONTROLPLANE { "$CARGO_TARGET_DIR/debug/controlplane" 2>"$work/controlplane.log"; }
controlplane_pid=$CONTROLPLANE_PID
kubeconfig=""
while read -r -t 120 line <&"${CONTROLPLANE[0]}"; do
  case "$line" in KUBECONFIG=*) kubeconfig="${line#KUBECONFIG=}"; break ;; esac
done
[ -n "$kubeconfig" ] || { cat "$work/controlplane.log" >&2; die "the control plane did not start"; }
export KUBECONFIG="$kubeconfig"
sed 's/^controlplane: /    /' "$work/controlplane.log"

step "helm install bucketcors (CRD, ServiceAccount, RBAC, Deployment) into bucketcors-system"
kubectl create namespace bucketcors-system >/dev/null
kubectl -n bucketcors-system create secret generic cloudflare-api-token --from-literal=apiToken="$token" >/dev/null
helm install bucketcors "$root/charts/bucketcors" --namespace bucketcors-system \
  --set edge.enabled=true --set edge.cloudflare.accountId="$account" \
  --set edge.cloudflare.kvNamespaceId="$namespace" --set edge.cloudflare.apiUrl="$api_url" \
  --set edge.cloudflare.apiToken.existingSecret=cloudflare-api-token \
  --set 'tenancy.allowedEndpoints={127.0.0.1}' --set-json 'tenancy.edgeHosts={"demo":["uploads.demo.localhost"]}' \
  --set operator.logFormat=text >"$work/helm.log" || { cat "$work/helm.log" >&2; die "helm install failed"; }
kubectl wait --for=condition=Established --timeout=60s crd/bucketcors.bucketcors.dev >/dev/null
echo "    $(helm list -n bucketcors-system | awk 'NR==2 {print $1, $9, "status", $8}')"

step "Starting the operator as the chart's pod (bucketcors run, the chart's ServiceAccount token)"
operator_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$local_pod" "$kubeconfig" bucketcors-system bucketcors bucketcors-demo-0 "$bucketcors" \
  --set-arg "--listen-addr=127.0.0.1:$operator_port" >"$work/operator.log" 2>&1 &
operator_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$operator_port/healthz" >/dev/null 2>&1 && break
  kill -0 "$operator_pid" 2>/dev/null || { tail -n 20 "$work/operator.log" >&2; die "the operator exited at start"; }
  sleep 0.2
done
echo "    args of the Deployment's container: $(kubectl -n bucketcors-system get deploy bucketcors -o jsonpath='{.spec.template.spec.containers[0].args}')"
echo "    as system:serviceaccount:bucketcors-system:bucketcors; log: $work/operator.log"

step "kubectl apply -f demo/ (a team's Secret and two BucketCors)"
mkdir -p "$work/manifests"
for f in "$root"/demo/*.yaml; do
  sed -e "s#http://127.0.0.1:3900#http://127.0.0.1:$s3_port#" \
      -e "s#http://localhost:3902#http://localhost:$web_port#" "$f" >"$work/manifests/$(basename "$f")"
done
kubectl create namespace demo >/dev/null
kubectl -n demo create secret generic garage-credentials \
  --from-literal=accessKeyId="$access_key" --from-literal=secretAccessKey="$secret_key" >/dev/null
kubectl apply -f "$work/manifests" | sed 's/^/    /'
kubectl wait --for=condition=Ready --timeout=120s -n demo bucketcors --all >/dev/null ||
  { kubectl get bucketcors -n demo -o yaml >&2; tail -n 30 "$work/operator.log" >&2; die "the BucketCors did not become Ready"; }
echo "    \$ kubectl get bucketcors -n demo -o wide"
kubectl get bucketcors -n demo -o wide | sed 's/^/    /'
echo "    \$ kubectl get events -n demo"
kubectl get events -n demo --sort-by=.metadata.creationTimestamp \
  -o custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message | sed 's/^/    /'

echo "    A wrong manifest is refused by the API server itself, naming the field:"
sed -e 's/allowedMethods: \[GET, PUT\]/allowedMethods: [GET, PATCH]/' -e 's/name: uploads/name: uploads-typo/' \
  "$work/manifests/uploads.yaml" >"$work/wrong.yaml"
if kubectl apply -f "$work/wrong.yaml" >"$work/wrong.out" 2>&1; then
  die "the API server accepted a PATCH method"
fi
fold -s -w 100 "$work/wrong.out" | sed 's/^/      /'

# ------------------------------------------------------------ 5. checks
step "Live checks"
uploads="$work/manifests/uploads.yaml"
edge_host="uploads.demo.localhost"
failures=0
rows=()
# check WHERE METHOD PATH ORIGIN [ACRM [ACRH]]
#   WHERE: bucket (Garage's S3 endpoint, which answers its own way) or edge.
#   Expected answer: `bucketcors eval` of demo/uploads.yaml for the bucket's
#   dialect, the same engine the worker runs. For the bucket the check is
#   that the decision (allowed or refused) agrees.
check() {
  local where="$1" method="$2" path="$3" origin="$4" acrm="${5:-}" acrh="${6:-}"
  local args=(-s -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" -H "Origin: $origin")
  local eval_args=(--dialect s3 --config "$uploads" --method "$method" --header "Origin: $origin" --json)
  [ -n "$acrm" ] && args+=(-H "Access-Control-Request-Method: $acrm") && eval_args+=(--header "Access-Control-Request-Method: $acrm")
  [ -n "$acrh" ] && args+=(-H "Access-Control-Request-Headers: $acrh") && eval_args+=(--header "Access-Control-Request-Headers: $acrh")
  local url
  if [ "$where" = bucket ]; then
    url="http://127.0.0.1:$s3_port/demo-uploads$path"
  else
    url="$edge_url$path"
    args+=(-H "Host: $edge_host")
  fi
  local status acao want_status want_acao verdict
  status="$(curl "${args[@]}" "$url")" || status="000"
  acao="$(tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1)=="access-control-allow-origin"{print $2}')"
  "$bucketcors" eval "${eval_args[@]}" >"$work/eval.json"
  want_status="$(jq -r '.status' "$work/eval.json")"
  want_acao="$(jq -r '[.headers[] | select((.[0]|ascii_downcase)=="access-control-allow-origin") | .[1]][0] // ""' "$work/eval.json")"
  if [ "$where" = bucket ]; then
    # Garage is a real backend, not the spec: compare the decision only
    # (allowed: 200 with the origin; refused: an error status, whatever
    # headers Garage puts on its error responses).
    if { [ "$want_status" = 200 ] && [ "$status" = 200 ] && [ "$acao" = "$want_acao" ]; } ||
       { [ "$want_status" != 200 ] && [ "$status" -ge 400 ]; }; then
      verdict=ok
    else
      verdict=FAIL
    fi
  else
    if [ "$method" != OPTIONS ]; then want_status=200; fi
    if [ "$status" = "$want_status" ] && [ "$acao" = "$want_acao" ]; then verdict=ok; else verdict=FAIL; fi
  fi
  [ "$verdict" = ok ] || failures=$((failures + 1))
  local req="$method $path"
  [ -n "$acrm" ] && req="$req (for $acrm${acrh:+, $acrh})"
  rows+=("$(printf '%-6s|%-42s|%-28s|%3s %-26s|%3s %-26s|%s' "$where" "$req" "$origin" "$want_status" "${want_acao:--}" "$status" "${acao:--}" "$verdict")")
}

check bucket OPTIONS /hello.txt https://app.example.com PUT content-type
check bucket OPTIONS /hello.txt https://evil.example PUT content-type
check edge OPTIONS /hello.txt https://app.example.com PUT content-type
check edge OPTIONS /hello.txt https://evil.example PUT content-type
check edge OPTIONS /hello.txt https://cdn.partner.example GET
check edge OPTIONS /hello.txt https://cdn.partner.example PUT
check edge GET /hello.txt https://app.example.com
check edge GET /hello.txt https://evil.example

printf '\n%-6s|%-42s|%-28s|%-30s|%-30s|%s\n' where request origin "expected (bucketcors eval)" "got" ""
printf '%s\n' "------+------------------------------------------+----------------------------+------------------------------+------------------------------+----"
printf '%s\n' "${rows[@]}"
echo "(bucket rows: Garage is a real S3 server, not the spec, so only the decision is"
echo " compared there: allowed with the origin, or refused. Garage puts headers of its"
echo " own, such as Access-Control-Allow-Origin: *, on its error responses.)"

# The body of the GET through the edge is the object in Garage.
curl -s -H "Host: $edge_host" -H "Origin: https://app.example.com" "$edge_url/hello.txt" >"$work/got.txt"
if cmp -s "$work/got.txt" "$work/hello.txt"; then
  echo "GET through the edge returned the object stored in Garage: $(cat "$work/got.txt")"
else
  echo "GET through the edge did not return the object stored in Garage"; failures=$((failures + 1))
fi

# ------------------------------------------------------------ 6. explain
step "Why is https://evil.example refused? (bucketcors eval)"
"$bucketcors" eval --dialect s3 --config "$root/demo/uploads.yaml" --method OPTIONS \
  --header 'Origin: https://evil.example' --header 'Access-Control-Request-Method: PUT' \
  --header 'Access-Control-Request-Headers: content-type' || true

step "The same sync core without a cluster: bucketcors apply --dry-run finds nothing to change"
AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" AWS_REGION=garage \
CLOUDFLARE_API_TOKEN="$token" "$bucketcors" apply -f "$work/manifests" --dry-run \
  --cloudflare-api-url "$api_url" --cloudflare-account-id "$account" \
  --cloudflare-namespace-id "$namespace" | sed 's/^/    /'

echo
if [ "$failures" -ne 0 ]; then
  die "$failures check(s) failed; logs in $work (DEMO_KEEP=1 keeps them)"
fi
echo "demo: all checks passed in $((SECONDS - started)) s; stopping the operator, the control plane, Garage and the edge harness."
