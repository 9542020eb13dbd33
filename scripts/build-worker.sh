#!/usr/bin/env bash
# Builds the edge worker (edge-worker/build/) on a fresh machine.
#   scripts/build-worker.sh [CRATE_DIR]   # default: edge-worker; the
#   benchmark's empty peer worker is built the same way from its own dir.
# Installs its tools first (scripts/install/worker-tools.sh, cached), then
# runs worker-build with the local wasm-bindgen, wasm-opt (npm binaryen@132)
# and esbuild (npm, from the harness lockfile): worker-build's own downloads
# come from GitHub, which is unreachable here.
# Env: BUCKETCORS_EDGE_TARGET_DIR (default target/edge) keeps wasm builds
# out of the host target dir's lock; BUCKETCORS_CACHE as for the installers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

tools="$("$root/scripts/install/worker-tools.sh")"
eval "$(grep -E '^[A-Z_]+=' <<<"$tools")"
export WASM_BINDGEN_BIN WASM_OPT_BIN
export ESBUILD_BIN="$root/edge-worker/harness/node_modules/.bin/esbuild"
export CARGO_TARGET_DIR="${BUCKETCORS_EDGE_TARGET_DIR:-$root/target/edge}"
# Size matters more than speed for the wasm (budget: 120 KB gzipped): fat
# LTO, one codegen unit, optimise for size. Set through the environment so
# the workspace's release profile (host binaries) stays as it is.
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${BUCKETCORS_EDGE_OPT_LEVEL:-z}"
export CARGO_PROFILE_RELEASE_PANIC=abort

crate_dir="$(cd "${1:-$root/edge-worker}" && pwd)"
cd "$crate_dir"
"$WORKER_BUILD_BIN" --release

wasm="$crate_dir/build/index_bg.wasm"
if [[ ! -f "$wasm" ]]; then
  echo "build-worker: $wasm was not produced" >&2
  exit 1
fi
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "build-worker: $wasm: $raw bytes, $gz bytes gzipped (budget 122880)"
