#!/usr/bin/env bash
# Installs Debian's nginx, the caching proxy the doctor tests put in front of
# Garage and the edge as a naive CDN (proxy_cache that ignores Vary). Only the
# binary is used: the tests write their own configuration in a temporary
# directory and start nginx on a loopback port, so the package's own service
# is stopped and kept from starting.
set -euo pipefail
if [[ -x /usr/sbin/nginx ]]; then
  echo "nginx: $(/usr/sbin/nginx -v 2>&1 || echo present)" >&2
  exit 0
fi
sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
echo "nginx: installing the Debian package" >&2
# No service start during installation (there is no init system in CI
# containers, and port 80 is not ours).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod +x "$policy"
  created_policy=1
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq nginx >/dev/null
if [[ "$created_policy" == 1 ]]; then "${sudo_cmd[@]}" rm -f "$policy"; fi
/usr/sbin/nginx -v >&2
