#!/usr/bin/env bash
# Installs Debian's Chromium (the browser the edge tests drive through npm
# playwright-core) when it is missing. Never downloads a browser build:
# playwright's own browser downloads are not used.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)" >&2
  exit 0
fi
sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
echo "chromium: installing the Debian package" >&2
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium fonts-liberation >/dev/null
/usr/bin/chromium --version >&2
