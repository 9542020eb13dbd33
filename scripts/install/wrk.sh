#!/usr/bin/env bash
# Installs wrk (Debian package), the HTTP load generator the edge soak test
# (tests/tests/edge_soak.rs) runs next to its own random traffic, and that
# scripts/bench.sh's edge section uses. Idempotent: does nothing when wrk
# is on PATH.
set -euo pipefail
if command -v wrk >/dev/null; then
  echo "wrk: $(command -v wrk) present" >&2
  exit 0
fi
echo "wrk: installing the Debian package" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "wrk: not root; run: sudo apt-get install -y wrk" >&2
  exit 1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2 \
  || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2; }
echo "wrk: $(command -v wrk) installed" >&2
