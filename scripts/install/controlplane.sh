#!/usr/bin/env bash
# Installs a real Kubernetes control plane for the tests and the demo:
# kube-apiserver and etcd, built from their published Go modules (the only
# way here: no prebuilt binary can be downloaded, but the Go module proxy
# serves the sources). The module that builds them is tests/controlplane/;
# its go.mod pins k8s.io/kubernetes and every staging module, and etcd at the
# version that Kubernetes release is tested with.
#
# Cached by version under $BUCKETCORS_CACHE/controlplane/<version>/, linked
# into $BUCKETCORS_CACHE/bin. Idempotent: present binaries built from the
# same go.mod and go.sum are kept. The Go module and build caches are Go's
# own (~/go/pkg/mod, ~/.cache/go-build) and are kept between runs.
# A cold build takes several minutes on 2 cores; progress is printed every
# 30 s so a long install never looks hung.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
module="$root/tests/controlplane"
cache="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
log() { echo "controlplane: $*" >&2; }

command -v go >/dev/null || { log "Go is required (go version); install Debian's golang or use a machine that has it"; exit 1; }

version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$module/go.mod")"
[ -n "$version" ] || { log "no k8s.io/kubernetes requirement in $module/go.mod"; exit 1; }
# The build is keyed by the module's pins and this script (its flags), so
# editing either rebuilds.
key="$(cat "$module/go.mod" "$module/go.sum" "$module"/cmd/*/main.go "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)"
dest="$cache/controlplane/$version-$key"
mkdir -p "$cache/bin"

if [ -x "$dest/kube-apiserver" ] && [ -x "$dest/etcd" ]; then
  log "kube-apiserver $version and etcd present in $dest"
else
  log "building kube-apiserver $version and etcd from Go modules into $dest ($(go version | cut -d' ' -f3))"
  tmp="$dest.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  start=$SECONDS
  (
    cd "$module"
    log "downloading modules (cached in $(go env GOMODCACHE))"
    go mod download
    log "modules ready ($((SECONDS - start)) s); compiling"
    # The version kube-apiserver reports (kubectl version, /version) is
    # stamped at link time, as Kubernetes' own build does.
    minor="${version#v1.}"; minor="${minor%%.*}"
    stamp="-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1"
    stamp="$stamp -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w $stamp" -o "$tmp/" ./cmd/etcd ./cmd/kube-apiserver
  ) &
  build=$!
  while kill -0 "$build" 2>/dev/null; do
    sleep 30
    kill -0 "$build" 2>/dev/null && log "still compiling ($((SECONDS - start)) s)"
  done
  if ! wait "$build"; then
    rm -rf "$tmp"
    log "build failed (see above)"
    exit 1
  fi
  rm -rf "$dest"; mv "$tmp" "$dest"
  # Builds of other pins are not used any more.
  find "$cache/controlplane" -mindepth 1 -maxdepth 1 ! -name "$(basename "$dest")" -exec rm -rf {} +
  log "built in $((SECONDS - start)) s"
fi
ln -sf "$dest/kube-apiserver" "$cache/bin/kube-apiserver"
ln -sf "$dest/etcd" "$cache/bin/etcd"
"$cache/bin/etcd" --version | sed -n 1p >&2
"$cache/bin/kube-apiserver" --version >&2
