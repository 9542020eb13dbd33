#!/usr/bin/env python3
"""Refreshes the doctor's example outputs in docs/troubleshooting.md.

Runs the doctor tests (real Garage, workerd and nginx on loopback) with
BUCKETCORS_DOCTOR_SHOW_TEXT=1, which makes each `bucketcors doctor` run also
print its report for a person, and puts each example under its
`<!-- example:NAME -->` marker, replacing the fenced block that follows it.
Query strings are elided the way the doctor's own report elides them, so no
presigned signature reaches the page; temporary paths are shortened.

Usage: scripts/docs/doctor-examples.py   (from anywhere; takes ~5 minutes)
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "troubleshooting.md")
TESTS = ["doctor_garage", "doctor_edge", "doctor_proxy"]
# Marker name -> (the bucket or route segment of the URL, which run of it).
EXAMPLES = {
    "signature": ("dg-sig", 0),
    "scheme": ("dg-scheme", 0),
    "header": ("dg-header", 0),
    "widen": ("dg-widen", 0),
    "twice": ("dp-twice", 0),
    "oss": ("oss", 1),
    "maxage": ("age", 0),
    "poison": ("dp-poison", 0),
    "layers": ("layers", 0),
}


def runs(test):
    env = dict(os.environ, BUCKETCORS_DOCTOR_SHOW_TEXT="1", NO_COLOR="1", RUST_TEST_THREADS="1")
    out = subprocess.run(
        ["cargo", "test", "-q", "-p", "bucketcors-e2e", "--test", test, "--", "--nocapture"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if out.returncode != 0:
        sys.exit(f"{test} failed; examples not refreshed:\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    text = out.stdout + out.stderr
    for part in re.split(r"\$ bucketcors ", text)[1:]:
        lines = part.split("\n")
        body = []
        for line in lines[1:]:
            if re.match(r"^(running |test |thread |test result)", line):
                break
            body.append(line)
        while body and body[-1].strip(".") == "":
            body.pop()
        yield "bucketcors " + lines[0], body


def clean(text):
    text = re.sub(r"\?([^ ']*)", lambda m: "?" + "&".join(kv.split("=")[0] + "=…" for kv in m.group(1).split("&")), text)
    return re.sub(r"/tmp/bucketcors-doctor-[0-9-]+/", "", text)


def segment(command):
    url = command.split()[2]
    return url.split("/")[3] if url.count("/") >= 3 else ""


def main():
    found = {}
    for test in TESTS:
        for command, body in runs(test):
            found.setdefault(segment(command), []).append((clean(command), [clean(l) for l in body]))
    doc = open(DOC).read()
    for name, (seg, nth) in EXAMPLES.items():
        try:
            command, body = found[seg][nth]
        except (KeyError, IndexError):
            sys.exit(f"no doctor run for example {name} ({seg} #{nth}); did a test change?")
        block = "<!-- example:%s -->\n```text\n$ %s\n%s\n```" % (name, command, "\n".join(body).rstrip())
        pattern = re.compile(r"<!-- example:%s -->(\n```text\n.*?\n```)?" % re.escape(name), re.S)
        doc, n = pattern.subn(lambda _m: block, doc, count=1)
        if n != 1:
            sys.exit(f"docs/troubleshooting.md has no marker for {name}")
    if re.search(r"X-Amz-Signature=[0-9a-f]", doc):
        sys.exit("a signature would reach the page; not written")
    open(DOC, "w").write(doc)
    print(f"docs/troubleshooting.md: {len(EXAMPLES)} examples refreshed")


main()
