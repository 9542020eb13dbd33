#!/usr/bin/env bash
# Installs Debian's libfaketime, which k8s_leader preloads into one operator
# replica to run its wall clock an hour ahead of the others: leader election
# must judge a lease's expiry by each replica's own monotonic clock, and only
# a real skewed clock in a real process shows that it does. Prints the
# library's path.
set -euo pipefail
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [[ -f "$lib" ]]; then
  echo "faketime: $lib" >&2
  echo "$lib"
  exit 0
fi
sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
echo "faketime: installing the Debian package" >&2
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq faketime >/dev/null
[[ -f "$lib" ]] || { echo "faketime: $lib missing after install" >&2; exit 1; }
echo "faketime: installed $lib" >&2
echo "$lib"
