#!/usr/bin/env python3
"""No error is dropped in silence: every `try?` in Sources/ says why, in a
comment on its line or on the line just above (issue 20).

Usage: Scripts/check-silent-try.py   Exit status: 0, or 1 naming each silent one."""
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRY = re.compile(r"\btry\?")


def silent(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        code = line.split("//", 1)[0]
        if not TRY.search(code):
            continue
        said_here = "//" in line[TRY.search(line).end():]
        said_above = i > 0 and lines[i - 1].strip().startswith("//")
        if not (said_here or said_above):
            yield f"{os.path.relpath(path, REPO)}:{i + 1}: try? without a comment saying why its error is dropped"


def main():
    found = []
    for root, _, files in os.walk(os.path.join(REPO, "Sources")):
        for name in sorted(files):
            if name.endswith(".swift"):
                found += silent(os.path.join(root, name))
    for line in found:
        print("check-silent-try: " + line)
    print(f"check-silent-try: {len(found)} silent try?")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
