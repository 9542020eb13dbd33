#!/usr/bin/env bash
# Installs cargo-nextest (from crates.io, built with cargo; its prebuilt
# archives come from GitHub, which is unreachable here), the test runner
# scripts/test.sh uses. It runs every test as its own process, several at a
# time across test binaries: most of the end-to-end tests wait on a
# component (a lease running out, a resync interval, a browser) rather than
# use the CPU, and cargo test runs binaries one after another. The CPU-bound
# soaks are kept from running together by .config/nextest.toml.
# Cached by version under $BUCKETCORS_CACHE; prints the binary's directory.
set -euo pipefail
version=0.9.151
cache="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
root="$cache/nextest-$version"
if [[ -x "$root/bin/cargo-nextest" ]]; then
  echo "nextest: $root/bin/cargo-nextest ($version) present" >&2
  echo "$root/bin"
  exit 0
fi
echo "nextest: building cargo-nextest $version from crates.io (a few minutes, once)" >&2
start=$SECONDS
cargo install cargo-nextest --version "$version" --locked --root "$root.partial" >&2
rm -rf "$root"
mv "$root.partial" "$root"
echo "nextest: built in $((SECONDS - start)) s" >&2
echo "$root/bin"
