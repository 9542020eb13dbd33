#!/usr/bin/env bash
# The whole bucketcors test suite, as CI runs it (`.ci/run` calls this).
# Installs missing components (cached), then: formatting, lints, the wasm
# builds, every Rust test (unit, property, mock API server, Garage, workerd,
# Chromium), and the Helm chart checks. Every step runs; the script exits
# non-zero when any step failed and names the failed steps at the end.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export BUCKETCORS_CACHE="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export PATH="$HOME/.cargo/bin:$BUCKETCORS_CACHE/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

failed=()
step() {
  local name="$1"; shift
  echo
  echo "==== $name"
  local start=$SECONDS
  if "$@"; then
    echo "==== $name: ok ($((SECONDS - start)) s)"
  else
    echo "==== $name: FAILED ($((SECONDS - start)) s)"
    failed+=("$name")
  fi
}

# Without the tools nothing below can be trusted: stop here.
if ! scripts/install-tools.sh; then
  echo "test.sh: installing the components failed; see above" >&2
  exit 1
fi
PATH="$(scripts/install/nextest.sh 2>/dev/null):$PATH"

step "shell scripts (parse; no pipe into head or grep -q)" scripts/check-scripts.sh
step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --workspace --exclude bucketcors-edge --all-targets -- -D warnings
step "engine for wasm32" cargo build -p bucketcors-engine --target wasm32-unknown-unknown
step "worker build" scripts/build-worker.sh
step "empty peer worker build (edge_soak's memory peer)" scripts/build-worker.sh edge-worker/empty-peer
step "worker bundle (wrangler deploy --dry-run)" scripts/bundle-worker.sh
step "worker unit tests (host)" cargo test -p bucketcors-edge --lib
step "fuzz library tests" cargo test --manifest-path fuzz/Cargo.toml --lib
# The console's page is checked in (console/dist) and not rebuilt here:
# tests/tests/console_assets.rs fails when it is stale. Its browser tests
# need console/web's npm packages.
step "console page tools (npm ci in console/web)" scripts/build-console.sh --tools
step "console engine for wasm32" cargo build -p bucketcors-console-wasm --target wasm32-unknown-unknown
step "worker clippy (wasm32)" cargo clippy -p bucketcors-edge --target wasm32-unknown-unknown -- -D warnings
# Every test as its own process, four at a time (.config/nextest.toml says
# why and keeps the CPU-bound soaks apart); doc tests, which nextest does
# not run, after.
# A developer's own cluster (BUCKETCORS_TEST_KUBECONFIG) is shared by every
# test that uses it: one at a time then.
threads=()
if [ -n "${BUCKETCORS_TEST_KUBECONFIG:-}" ]; then threads=(--test-threads 1); fi
step "cargo test (nextest)" cargo nextest run --workspace --exclude bucketcors-edge --no-fail-fast "${threads[@]}"
step "doc tests" cargo test --workspace --exclude bucketcors-edge --doc
step "helm chart checks" scripts/check-chart.sh

echo
if [ "${#failed[@]}" -ne 0 ]; then
  echo "test.sh: FAILED steps: ${failed[*]}"
  exit 1
fi
echo "test.sh: all steps passed"
