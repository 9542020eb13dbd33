#!/usr/bin/env python3
"""Polls a namespace's BucketCors until N of them are Ready, for the
operator section of scripts/bench.sh.

    ready_poll.py SERVER CA_FILE TOKEN_FILE NAMESPACE N START_NS [INTERVAL_S] [TIMEOUT_S]

One LIST of the namespace's BucketCors per poll (so the benchmark knows
exactly how many requests it added to kube-apiserver's counters), every
INTERVAL_S (default 0.5). An object counts as Ready when its Ready
condition is True for its current generation (status.observedGeneration
equals metadata.generation). START_NS is the CLOCK_REALTIME nanosecond at
which the operator was started; the elapsed times printed are from it.

Progress lines go to stderr; the last stdout line is
`ready=N polls=P elapsed_s=S` (exit 0), or the poller gives up after
TIMEOUT_S (default 1800) with exit 1.
"""

import json
import ssl
import sys
import time
import urllib.request


def ready_count(body):
    ready = 0
    for item in body.get("items", []):
        status = item.get("status") or {}
        generation = item.get("metadata", {}).get("generation")
        if status.get("observedGeneration") != generation:
            continue
        for cond in status.get("conditions") or []:
            if cond.get("type") == "Ready" and cond.get("status") == "True":
                ready += 1
                break
    return ready, len(body.get("items", []))


def main():
    server, ca, token_file, namespace, want, start_ns = sys.argv[1:7]
    interval = float(sys.argv[7]) if len(sys.argv) > 7 else 0.5
    timeout = float(sys.argv[8]) if len(sys.argv) > 8 else 1800.0
    want = int(want)
    start = int(start_ns) / 1e9
    token = open(token_file).read().strip()
    ctx = ssl.create_default_context(cafile=ca)
    url = f"{server}/apis/bucketcors.dev/v1alpha1/namespaces/{namespace}/bucketcors"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    polls = 0
    last_report = 0.0
    last_ready = -1
    while True:
        polls += 1
        with urllib.request.urlopen(request, context=ctx, timeout=60) as answer:
            body = json.load(answer)
        now = time.time()
        ready, total = ready_count(body)
        elapsed = now - start
        if ready >= want:
            print(f"ready_poll: {ready}/{total} Ready after {elapsed:.1f} s ({polls} polls)", file=sys.stderr)
            print(f"ready={ready} polls={polls} elapsed_s={elapsed:.3f}")
            return 0
        if ready != last_ready and now - last_report >= 5 or now - last_report >= 15:
            print(f"ready_poll: {ready}/{total} Ready at {elapsed:.1f} s", file=sys.stderr, flush=True)
            last_report = now
            last_ready = ready
        if elapsed > timeout:
            print(f"ready_poll: gave up after {elapsed:.0f} s with {ready}/{want} Ready", file=sys.stderr)
            print(f"ready={ready} polls={polls} elapsed_s={elapsed:.3f}")
            return 1
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
