#!/usr/bin/env python3
"""No error is dropped in silence: every `try?` in Sources/ says why, in a
comment on its line or on the line just above (issue 20).

Usage: Scripts/check-silent-try.py   Exit status: 0, or 1 naming each silent one."""
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRY = re.compile(r"\btry\?")


STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def reason(line):
    """The comment of a line of code (string literals left out: "http://" is none)."""
    code = STRING.sub('""', line)
    return code.split("//", 1)[1].strip() if "//" in code else ""


def silent(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        code = STRING.sub('""', line).split("//", 1)[0]
        if not TRY.search(code):
            continue
        said_here = reason(line) != ""
        # The line just above, if it is a plain comment: not a doc comment (///), not a MARK.
        above = lines[i - 1].strip() if i > 0 else ""
        said_above = above.startswith("//") and not above.startswith("///") and not above.startswith("// MARK")
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
