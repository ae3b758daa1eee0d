#!/usr/bin/env python3
"""Every source path a page names exists: `Sources/NookRuntime/Lifecycle/Runtime.swift`,
`CShims/child_setup.c`, `Scripts/test.sh`, or a Swift file named by its module
(`NookRuntime/Lifecycle/Runtime.swift`, as Docs/security.md does). A file moved
or renamed without its docs fails here, naming the page, the line and the path.

Usage: Scripts/check-doc-paths.py [FILE.md ...]   (default: README.md, Docs/*.md, Examples/README.md)
Exit status: 0, or 1 when a path is missing."""
import glob
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOTS = ("Sources/", "CShims/", "Scripts/", "Tests/", "Examples/", "Benchmarks/", "Plugins/", "Docs/")
EXTENSIONS = (".swift", ".c", ".h", ".sh", ".py")
PATH = re.compile(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+")


def candidates(token):
    """Where a token may point: itself from the repository, a module-relative
    Swift file (`NookRuntime/Lifecycle/Runtime.swift`), or one named by its
    folder in a module (`Lifecycle/Runtime.swift`, as a table row shortens it)."""
    yield token
    if token.endswith(".swift"):
        yield "Sources/" + token
        yield from (os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "Sources", "*", token)))


def missing(page):
    problems = []
    with open(page, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            for match in PATH.finditer(line):
                token = match.group(0).rstrip(".")
                if not token.endswith(EXTENSIONS) or "<" in token or "*" in token:
                    continue
                if any(re.fullmatch(r"[A-Z]{2,}", part) for part in token.split("/")):
                    continue  # a placeholder: Examples/NAME/run.sh
                if not (token.startswith(ROOTS) or re.match(r"Nook[A-Za-z]+/|nook/|[A-Z][A-Za-z]+/[A-Za-z]+\.swift$", token)):
                    continue
                if not any(os.path.exists(os.path.join(REPO, c)) for c in candidates(token)):
                    problems.append(f"{os.path.relpath(page, REPO)}:{number}: no such file: {token}")
    return problems


def main(args):
    pages = args or ([os.path.join(REPO, "README.md"), os.path.join(REPO, "Examples/README.md")]
                     + sorted(glob.glob(os.path.join(REPO, "Docs/*.md"))))
    problems = [p for page in pages for p in missing(page)]
    for p in problems:
        print("check-doc-paths: " + p)
    print(f"check-doc-paths: {len(pages)} pages, {len(problems)} missing paths")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
