#!/usr/bin/env bash
# Builds the console's page into console/dist/, which is checked in and
# embedded in the `bucketcors` binary (operator/src/cli/console/assets.rs),
# so `cargo build` works on a fresh clone without npm or a wasm toolchain.
#   scripts/build-console.sh          # build
#   scripts/build-console.sh --hash   # print the inputs' hash only
#   scripts/build-console.sh --tools  # only npm ci in console/web (the
#                                     # browser tests' playwright-core, axe-core)
# Steps: the engine for the page (console/wasm) for wasm32 with size flags,
# wasm-bindgen (the cached CLI at the Cargo.lock version, see
# scripts/install/worker-tools.sh), esbuild (npm, console/web's lockfile)
# for the TypeScript, then the inputs' hash into console/dist/inputs.sha256.
# tests/tests/console_assets.rs recomputes that hash: a change to any input
# without a rebuild fails CI (cheaper and steadier than comparing wasm bytes).
# Env: BUCKETCORS_CONSOLE_TARGET_DIR (default target/console); BUCKETCORS_CACHE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The inputs, as the test lists them: every file under these paths
# (node_modules excluded), sorted bytewise, hashed as `sha256sum` prints
# them, and that listing hashed again.
inputs_hash() {
  find console/web/src console/web/index.html console/web/style.css \
    console/web/package-lock.json console/web/package.json console/wasm/Cargo.toml console/wasm/src \
    engine/Cargo.toml engine/src fetch/Cargo.toml fetch/src Cargo.lock scripts/build-console.sh -type f \
    | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
}
if [[ "${1:-}" == "--hash" ]]; then
  inputs_hash
  exit 0
fi

cache="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
bindgen="$cache/wasm-bindgen-$bindgen_version/bin/wasm-bindgen"
if [[ ! -x "$bindgen" ]]; then
  echo "build-console: installing wasm-bindgen-cli $bindgen_version" >&2
  cargo install wasm-bindgen-cli --version "=$bindgen_version" --root "$cache/wasm-bindgen-$bindgen_version"
fi

web="$root/console/web"
stamp="$web/node_modules/.bucketcors-lock.sha256"
lock_sum="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  echo "build-console: npm ci in $web" >&2
  (cd "$web" && npm_config_cache="$cache/npm" npm ci --no-audit --no-fund >&2)
  echo "$lock_sum" > "$stamp"
fi
if [[ "${1:-}" == "--tools" ]]; then
  exit 0
fi

# Size over speed (budget: page + wasm 300 KB gzipped); through the
# environment so the workspace's release profile stays as it is.
export CARGO_TARGET_DIR="${BUCKETCORS_CONSOLE_TARGET_DIR:-$root/target/console}"
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z
export CARGO_PROFILE_RELEASE_PANIC=abort
cargo build -q --release --target wasm32-unknown-unknown -p bucketcors-console-wasm

gen="$CARGO_TARGET_DIR/console-bindgen"
rm -rf "$gen"
"$bindgen" --target web --no-typescript --out-dir "$gen" --out-name engine \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/bucketcors_console_wasm.wasm"

dist="$root/console/dist"
mkdir -p "$dist"
cp "$gen/engine_bg.wasm" "$dist/engine.wasm"
# The glue is bundled into app.js; the page hands it the wasm's URL.
"$web/node_modules/.bin/esbuild" "$web/src/main.ts" --bundle --minify --format=esm \
  --target=es2022 --alias:engine-glue="$gen/engine.js" --outfile="$dist/app.js" --log-level=warning --log-override:import-is-undefined=error
cp "$web/index.html" "$dist/index.html"
"$web/node_modules/.bin/esbuild" "$web/style.css" --minify --outfile="$dist/style.css" --log-level=warning
inputs_hash > "$dist/inputs.sha256"

total=0
for f in index.html app.js style.css engine.wasm; do
  gz=$(gzip -9 -c "$dist/$f" | wc -c)
  total=$((total + gz))
  echo "build-console: $f: $(stat -c %s "$dist/$f") bytes, $gz gzipped"
done
echo "build-console: total $total bytes gzipped (budget 307200)"
if (( total > 307200 )); then
  echo "build-console: over the 300 KB budget" >&2
  exit 1
fi
