#!/usr/bin/env bash
# Bundles the edge worker exactly as a deploy does, without deploying:
#   scripts/bundle-worker.sh        # -> edge-worker/dist/ (shim.js + wasm)
# runs `wrangler deploy --dry-run --outdir DIR` on edge-worker/wrangler.toml
# (wrangler pinned in edge-worker/harness/package.json). Wrangler runs the
# [build] command (scripts/build-worker.sh) and bundles `main`; nothing
# goes over the network. The harness and every edge test run this output
# (`harness.mjs --worker-bundle edge-worker/dist`), so the tested worker
# is byte for byte what `wrangler deploy` (the same command without
# --dry-run, docs/install.md) uploads.
# Env: BUCKETCORS_EDGE_DIST_DIR (absolute; default edge-worker/dist).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The harness's npm packages (wrangler) and the build tools.
"$root/scripts/install/worker-tools.sh" >/dev/null
out="${BUCKETCORS_EDGE_DIST_DIR:-$root/edge-worker/dist}"
rm -rf "$out"
cd "$root/edge-worker"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
harness/node_modules/.bin/wrangler deploy --dry-run --outdir "$out"
if [[ ! -f "$out/shim.js" ]]; then
  echo "bundle-worker: wrangler wrote no $out/shim.js" >&2
  ls -la "$out" >&2 || true
  exit 1
fi
echo "bundle-worker: $out: $(cd "$out" && ls | tr '\n' ' ')"
