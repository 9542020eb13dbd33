#!/usr/bin/env python3
"""Reads wrk --latency output files and prints one line per file:

    requests_per_s p50_us p99_us non_2xx socket_errors

Latencies are converted to microseconds (wrk prints us, ms or s), so the
edge section can subtract one worker's latency from another's.
"""
import re
import sys

UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0, "m": 60_000_000.0}


def micros(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def summary(path):
    text = open(path, encoding="utf-8").read()
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    if not (rps and p50 and p99):
        raise ValueError(f"{path}: not a wrk --latency report")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = sum(int(g) for g in sock.groups()) if sock else 0
    return f"{float(rps.group(1)):.1f} {micros(p50.group(1)):.1f} {micros(p99.group(1)):.1f} {int(non2xx.group(1)) if non2xx else 0} {errors}"


for path in sys.argv[1:]:
    print(summary(path))
