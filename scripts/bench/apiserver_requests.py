#!/usr/bin/env python3
"""The API requests the operator made, from kube-apiserver's own counters,
for the operator section of scripts/bench.sh.

    apiserver_requests.py IDLE_BEFORE IDLE_AFTER IDLE_S START END WINDOW_S POLLS OBJECTS

Each argument but the numbers is a scrape of kube-apiserver's /metrics.
`apiserver_request_total` counts finished requests by verb, group,
resource, subresource and code, but not by client, so the operator's share
of the window START..END is what is left after taking out:
  - the benchmark's own requests: POLLS LISTs of bucketcors (one per
    poll), one GET of /metrics (the START scrape, counted by END, when the
    server counts /metrics at all), and local-pod's GET of the Deployment
    and POST of the ServiceAccount token (the kubelet's part);
  - kube-apiserver's own clients (its leases, its controllers), at the rate
    measured in the idle window IDLE_BEFORE..IDLE_AFTER (IDLE_S seconds,
    no operator running, one /metrics GET of its own), scaled to WINDOW_S.
Watches still open at END are not in the counter (it counts a request
when it ends); they come from `apiserver_longrunning_requests`, as the
change of that gauge from START to END.

Prints Markdown (a table by verb and resource, then totals) on stdout and
`total=T per_object=P non2xx=E` on stderr.
"""

import re
import sys
from collections import defaultdict

LINE = re.compile(r'^(\w+)\{([^}]*)\}\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(path):
    counts, codes, watches = defaultdict(float), defaultdict(float), defaultdict(float)
    for line in open(path):
        m = LINE.match(line)
        if not m or m.group(1) not in ("apiserver_request_total", "apiserver_longrunning_requests"):
            continue
        labels = dict(LABEL.findall(m.group(2)))
        # component "" is a non-resource path (its path is in subresource).
        if labels.get("component", "") not in ("apiserver", "") or labels.get("dry_run"):
            continue
        key = (labels.get("verb", ""), labels.get("group", ""), labels.get("resource", ""), labels.get("subresource", ""))
        value = float(m.group(3))
        if m.group(1) == "apiserver_request_total":
            counts[key] += value
            codes[(key, labels.get("code", ""))] += value
        else:
            watches[key] += value
    return counts, codes, watches


def delta(after, before):
    return {k: after[k] - before.get(k, 0.0) for k in after if after[k] - before.get(k, 0.0) != 0}


def name(key):
    verb, group, resource, sub = key
    if not resource:
        return verb, f"{sub or '/'} (non-resource)"
    res = resource + (f"/{sub}" if sub else "")
    return verb, f"{res} ({group or 'core'})"


def main():
    idle0, idle1, idle_s, start, end, window_s, polls, objects = sys.argv[1:9]
    idle_s, window_s, polls, objects = float(idle_s), float(window_s), int(polls), int(objects)
    i0, _, _ = scrape(idle0)
    i1, _, _ = scrape(idle1)
    s, sc, sw = scrape(start)
    e, ec, ew = scrape(end)
    idle = delta(i1, i0)
    scrape_key = ("GET", "", "", "/metrics")
    idle[scrape_key] = idle.get(scrape_key, 0.0) - 1  # the IDLE_BEFORE scrape
    window = delta(e, s)
    # local-pod plays the kubelet before it execs the operator: it reads the
    # Deployment and mints the ServiceAccount token; those are not the operator's.
    ours = {
        ("LIST", "bucketcors.dev", "bucketcors", ""): polls,
        scrape_key: 1,
        ("GET", "apps", "deployments", ""): 1,
        ("POST", "", "serviceaccounts", "token"): 1,
    }
    opened = delta(ew, sw)
    keys = sorted(set(window) | set(opened) | {k for k, v in idle.items() if v > 0}, key=lambda k: (name(k)[1], k[0]))
    rows, total = [], 0
    for k in keys:
        w = window.get(k, 0.0)
        own = min(ours.get(k, 0), int(w))
        background = max(0.0, idle.get(k, 0.0)) * window_s / idle_s
        operator = max(0, round(w - own - background))
        watching = max(0, round(opened.get(k, 0.0)))
        total += operator + watching
        verb, res = name(k)
        rows.append((verb, res, int(w), own, background, operator, watching))
    non2xx = defaultdict(float)
    for (k, code), v in ec.items():
        d = v - sc.get((k, code), 0.0)
        if d and not code.startswith("2"):
            non2xx[(k, code)] += d
    print("| verb | resource (group) | counted in the window | the benchmark's own | kube-apiserver's own (idle rate) | **operator** | + watches still open |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for verb, res, w, own, background, operator, watching in rows:
        if not (w or watching or operator):
            continue
        print(f"| {verb} | {res} | {w} | {own} | {background:.1f} | **{operator}** | {watching} |")
    print(f"| **total** | | {sum(r[2] for r in rows)} | {sum(r[3] for r in rows)} | {sum(r[4] for r in rows):.1f} | **{sum(r[5] for r in rows)}** | {sum(r[6] for r in rows)} |")
    print()
    if non2xx:
        parts = ", ".join(f"{int(v)} × {code} on {' '.join(name(k))}" for (k, code), v in sorted(non2xx.items()))
        print(f"Answers other than 2xx in the window: {parts}.")
    else:
        print("Every request in the window was answered 2xx.")
    per = total / objects if objects else 0
    print(f"total={total} per_object={per:.2f} non2xx={int(sum(non2xx.values()))}", file=sys.stderr)


if __name__ == "__main__":
    main()
