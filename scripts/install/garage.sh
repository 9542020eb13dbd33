#!/usr/bin/env bash
# Installs Garage 2.5.0 (a real S3-compatible server) into ~/.cargo/bin.
# Idempotent: does nothing when `garage --version` already reports 2.5.0.
# Only crates.io is reachable here, so Garage is built from source
# (about 20 minutes cold on 2 cores); `--locked` pins its dependency tree.
set -euo pipefail
version="2.5.0"
export PATH="$HOME/.cargo/bin:$PATH"

if command -v garage >/dev/null 2>&1 && garage --version 2>/dev/null | grep -E "(^|[^0-9.])${version//./\\.}([^0-9.]|$)" >/dev/null; then
  echo "garage: $(garage --version | sed -n 1p) already installed at $(command -v garage)"
  exit 0
fi

echo "garage: building ${version} from crates.io (cargo install --locked); this takes a while"
cargo install garage --locked --version "$version"
garage --version | sed -n 1p
