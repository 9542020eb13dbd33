#!/usr/bin/env python3
"""Splits an existing docs/benchmarks.md into one file per section, for
scripts/bench.sh: a run of some sections keeps the others' text.

    previous_sections.py DOCUMENT OUT_DIR NAME... -- "TITLE\\nTITLE..."

Writes OUT_DIR/NAME.md with the body under `## TITLE` (the NAMEs and the
newline-separated TITLEs in the same order). A body not already labelled
gets a first line naming the run it came from (the document's Date,
Commit and Machine), since the document's header then describes the newest run only.
"""

import os
import re
import sys


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    document, out_dir, names = args[0], args[1], args[2:sep]
    titles = args[sep + 1].split("\n")
    text = open(document).read()
    date = re.search(r"^- Date: (.*)$", text, re.M)
    commit = re.search(r"^- Commit: `([^`]*)`", text, re.M)
    machine = re.search(r"^- Machine: (.*)$", text, re.M)
    origin = (
        f"_From an earlier run ({date.group(1) if date else 'date unknown'}, commit "
        f"`{commit.group(1) if commit else '?'}`, {machine.group(1) if machine else 'machine unknown'}); "
        "`scripts/bench.sh SECTION` measures it again._"
    )
    parts = re.split(r"^## (.*)$", text, flags=re.M)
    bodies = {parts[i].strip(): parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
    for name, title in zip(names, titles):
        body = bodies.get(title)
        if not body or body.startswith("Not measured in this run"):
            continue
        if not body.startswith("_From an earlier run"):
            body = origin + "\n\n" + body
        with open(os.path.join(out_dir, name + ".md"), "w") as f:
            f.write(body + "\n")


if __name__ == "__main__":
    main()
