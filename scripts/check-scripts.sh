#!/usr/bin/env bash
# Checks the project's shell scripts: each parses (bash -n), and none pipes
# a command into `head` or `grep -q`.
#
# Why the second rule: every script runs under `set -o pipefail`, and
# `head -n1` / `grep -q` exit as soon as they have their answer. The writer
# then dies of SIGPIPE (exit 141) whenever it had more to say, and pipefail
# turns that into the pipeline's failure: a race that passes on one machine
# and fails on another. CI stop 22 failed exactly so on
# `etcd --version | head -n1`. Use `sed -n 1p` (reads to the end) or
# `grep ... >/dev/null` instead. `head -c N FILE` and `grep -q <<<"$var"`
# read no pipe and are fine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
status=0
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
for f in "${scripts[@]}"; do
  bash -n "$f" || { echo "check-scripts: $f does not parse"; status=1; }
  # A pipe (not ||) followed by head or grep -q/--quiet, outside comments.
  if grep -nE '(^|[^|])\|[[:space:]]*(head([[:space:]]|$)|grep[[:space:]]+(-[a-zA-Z]*q|--quiet))' "$f" | grep -vE '^[0-9]+:[[:space:]]*#'; then
    echo "check-scripts: $f pipes into head or grep -q; under pipefail the writer's SIGPIPE fails the pipeline at random: use sed -n 1p or grep >/dev/null"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "check-scripts: ${#scripts[@]} scripts parse and none pipes into head or grep -q"
exit "$status"
