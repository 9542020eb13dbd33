#!/usr/bin/env bash
# Builds the edge worker (edge-worker/build/) on a fresh machine.
#   scripts/build-worker.sh [CRATE_DIR]   # default: edge-worker; the
#   benchmark's empty peer worker is built the same way from its own dir.
# Installs its tools first (scripts/install/worker-tools.sh, cached), then
# runs worker-build with the local wasm-bindgen, wasm-opt (npm binaryen@132)
# and esbuild (npm, from the harness lockfile): worker-build's own downloads
# come from GitHub, which is unreachable here.
# Env: BUCKETCORS_EDGE_TARGET_DIR (default target/edge) keeps wasm builds
# out of the host target dir's lock; BUCKETCORS_EDGE_OUT_DIR and
# BUCKETCORS_EDGE_KEEP_NAMES: see below; BUCKETCORS_CACHE as for the
# installers.
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
# BUCKETCORS_EDGE_OUT_DIR (absolute) builds somewhere other than the crate's
# build/, which the tests and the harness run, e.g. to measure a change.
out_dir="${BUCKETCORS_EDGE_OUT_DIR:-$crate_dir/build}"
cd "$crate_dir"
"$WORKER_BUILD_BIN" --release --out-dir "$out_dir"

wasm="$out_dir/index_bg.wasm"
if [[ ! -f "$wasm" ]]; then
  echo "build-worker: $wasm was not produced" >&2
  exit 1
fi
# worker-build runs wasm-opt with `--debuginfo`, which keeps the names
# section (a fifth of the file, nothing the runtime needs), and the crates'
# metadata may turn its wasm-opt off. So optimise once more here, for size,
# without names (`--converge` repeats -Oz while it still shrinks: ~0.5 KB
# gzipped); the features are worker-build's list (what workerd runs).
# BUCKETCORS_EDGE_KEEP_NAMES=1 also writes a copy with names next to the
# wasm build (`index_bg.names.wasm` in the target dir) for `twiggy`.
wasm_opt_features=(--enable-mutable-globals --enable-sign-ext
  --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue
  --enable-reference-types --enable-exception-handling)
if [[ "${BUCKETCORS_EDGE_KEEP_NAMES:-0}" == 1 ]]; then
  "$WASM_OPT_BIN" "$wasm" -Oz --debuginfo "${wasm_opt_features[@]}" \
    -o "$CARGO_TARGET_DIR/index_bg.names.wasm"
  echo "build-worker: with names: $CARGO_TARGET_DIR/index_bg.names.wasm"
fi
"$WASM_OPT_BIN" "$wasm" -Oz --converge --strip-debug --strip-dwarf "${wasm_opt_features[@]}" \
  -o "$wasm.tmp"
mv "$wasm.tmp" "$wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "build-worker: $wasm: $raw bytes, $gz bytes gzipped (budget 122880)"
