#!/usr/bin/env bash
# Installs what building and running the edge worker needs, cached under
# ~/.cache/bucketcors (or $BUCKETCORS_CACHE) so a second run is instant:
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock
#     (worker-build would download it from GitHub, which is unreachable here);
#   - worker-build 0.8.x;
#   - the harness's npm packages from its lockfile: wrangler/miniflare
#     (workerd), binaryen@132 (wasm-opt; Debian's is too old), playwright-core.
# Prints the tool locations as shell assignments on the last lines.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
mkdir -p "$cache"

# The wasm-bindgen CLI must match the library version byte for byte.
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")"
if [[ -z "$bindgen_version" ]]; then
  echo "worker-tools: no wasm-bindgen in Cargo.lock; run 'cargo metadata' at the workspace root first" >&2
  exit 1
fi
bindgen_root="$cache/wasm-bindgen-$bindgen_version"
if [[ ! -x "$bindgen_root/bin/wasm-bindgen" ]]; then
  echo "worker-tools: installing wasm-bindgen-cli $bindgen_version into $bindgen_root" >&2
  # No --locked: the CLI's own lockfile pins crates that no longer build on
  # current compilers (see shared/components.md).
  cargo install wasm-bindgen-cli --version "=$bindgen_version" --root "$bindgen_root"
fi

worker_build_version="${WORKER_BUILD_VERSION:-0.8.6}"
worker_build_root="$cache/worker-build-$worker_build_version"
if [[ ! -x "$worker_build_root/bin/worker-build" ]]; then
  echo "worker-tools: installing worker-build $worker_build_version into $worker_build_root" >&2
  cargo install worker-build --version "=$worker_build_version" --locked --root "$worker_build_root"
fi

harness="$root/edge-worker/harness"
stamp="$harness/node_modules/.bucketcors-lock.sha256"
lock_sum="$(sha256sum "$harness/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  echo "worker-tools: npm ci in $harness" >&2
  (cd "$harness" && npm_config_cache="$cache/npm" npm ci --no-audit --no-fund >&2)
  echo "$lock_sum" > "$stamp"
fi

echo "WASM_BINDGEN_BIN=$bindgen_root/bin/wasm-bindgen"
echo "WORKER_BUILD_BIN=$worker_build_root/bin/worker-build"
echo "WASM_OPT_BIN=$harness/node_modules/.bin/wasm-opt"
