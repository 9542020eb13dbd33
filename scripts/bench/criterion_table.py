#!/usr/bin/env python3
"""Prints a Markdown table of the criterion results written after a stamp file.

Usage: criterion_table.py CRITERION_DIR STAMP_FILE

Reads every `*/new/benchmark.json` + `estimates.json` pair newer than the
stamp (so results of earlier runs never leak into the report), prints the
median and its 95% confidence interval for each benchmark, then pairs each
bucketcors measurement with the tower-http measurement of the same case: two
ids that differ only in a path segment naming the implementation
(`bucketcors`/`engine` against `tower`/`tower-http`/`tower_http`).
"""
import json
import os
import sys


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def load(root, stamp_mtime):
    results = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        est_path = os.path.join(dirpath, "estimates.json")
        if os.path.getmtime(est_path) < stamp_mtime:
            continue
        with open(est_path) as f:
            est = json.load(f)
        bench_path = os.path.join(dirpath, "benchmark.json")
        if os.path.exists(bench_path):
            with open(bench_path) as f:
                full_id = json.load(f).get("full_id")
        else:
            full_id = os.path.relpath(os.path.dirname(dirpath), root)
        med = est["median"]
        results[full_id] = (
            med["point_estimate"],
            med["confidence_interval"]["lower_bound"],
            med["confidence_interval"]["upper_bound"],
        )
    return results


IMPL_OURS = ("bucketcors", "engine")
IMPL_PEER = ("tower-http", "tower_http", "tower", "towerhttp")


def case_key(full_id):
    """The id with the implementation segment removed, and which side it is."""
    parts = full_id.split("/")
    for i, p in enumerate(parts):
        low = p.lower()
        if low in IMPL_PEER:
            return "/".join(parts[:i] + parts[i + 1 :]), "peer"
        if low in IMPL_OURS:
            return "/".join(parts[:i] + parts[i + 1 :]), "ours"
    return None, None


def main():
    root, stamp = sys.argv[1], sys.argv[2]
    results = load(root, os.path.getmtime(stamp))
    if not results:
        print("criterion wrote no results in this run", file=sys.stderr)
        sys.exit(1)
    print("Criterion medians (95% confidence interval of the median), `cargo bench -p bucketcors-engine --bench decide`.")
    print()
    print("| benchmark | median | 95% CI |")
    print("| --- | ---: | --- |")
    for full_id in sorted(results):
        m, lo, hi = results[full_id]
        print(f"| `{full_id}` | {fmt_ns(m)} | {fmt_ns(lo)} – {fmt_ns(hi)} |")
    pairs = {}
    for full_id, (m, _lo, _hi) in results.items():
        key, side = case_key(full_id)
        if key is not None:
            pairs.setdefault(key, {})[side] = m
    rows = [(k, v["ours"], v["peer"]) for k, v in sorted(pairs.items()) if "ours" in v and "peer" in v]
    print()
    if rows:
        print("Same case, same run: bucketcors engine against tower-http's `CorsLayer` (equivalent policy, no-op inner service).")
        print("`bucketcors` is the full answer (decision and response headers); the decision alone")
        print("is the `engine_decision_only` benchmark of the same case, when there is one.")
        print()
        print("| case | bucketcors | tower-http | tower-http / bucketcors | decision only | tower-http / decision only |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for key, ours, peer in rows:
            kind, _, size = key.rpartition("/")
            decision = results.get(f"{kind}/engine_decision_only/{size}")
            extra = (
                f"{fmt_ns(decision[0])} | {peer / decision[0]:.1f}x"
                if decision
                else "– | –"
            )
            print(f"| `{key}` | {fmt_ns(ours)} | {fmt_ns(peer)} | {peer / ours:.1f}x | {extra} |")
    else:
        print("No benchmark pairs of the same case were found (ids naming `bucketcors`/`engine` and `tower-http`).")


if __name__ == "__main__":
    main()
