#!/usr/bin/env bash
# Installs every real component the tests and the demo use, cached under
# ~/.cache/bucketcors and ~/.cargo/bin so that a second run is quick.
# Each installer in scripts/install/ is idempotent and says what it does.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export BUCKETCORS_CACHE="${BUCKETCORS_CACHE:-$HOME/.cache/bucketcors}"
mkdir -p "$BUCKETCORS_CACHE"

# Order: quick system packages first, the long cargo builds last.
order=(chromium helm controlplane worker-tools garage)
for name in "${order[@]}"; do
  script="$here/install/$name.sh"
  if [ ! -f "$script" ]; then
    echo "install-tools: missing installer $script" >&2
    exit 1
  fi
  echo "==> install $name"
  start=$SECONDS
  bash "$script"
  echo "    $name ready ($((SECONDS - start)) s)"
done
# Any further installer a colleague adds runs too.
for script in "$here"/install/*.sh; do
  name="$(basename "$script" .sh)"
  case " ${order[*]} " in *" $name "*) continue ;; esac
  echo "==> install $name"
  bash "$script"
done
