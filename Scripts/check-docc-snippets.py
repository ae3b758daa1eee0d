#!/usr/bin/env python3
"""NookKit's DocC articles show the code of Examples/harness, which CI builds
and runs: every ```swift block of the articles named below must be text of
one of the example's files, verbatim. A block may leave out the middle of a
file with a line `// ...` (indented as the code around it): each part around
it must then be in the file, in order.

Usage: Scripts/check-docc-snippets.py   (from anywhere; exit 1 on a mismatch)
"""
import pathlib
import re
import sys

repo = pathlib.Path(__file__).resolve().parent.parent
docc = repo / "Sources/NookKit/NookKit.docc"
articles = ["GettingStarted.md", "TestingAWebServer.md"]
example = repo / "Examples/harness"
sources = {p: p.read_text() for p in [example / "Package.swift", *sorted((example / "Tests").rglob("*.swift"))]}


def found(block: str) -> bool:
    parts = re.split(r"^[ \t]*// \.\.\.\n", block, flags=re.M)
    for text in sources.values():
        at = 0
        for part in parts:
            at = text.find(part, at)
            if at < 0:
                break
            at += len(part)
        else:
            return True
    return False


failed = 0
for name in articles:
    article = (docc / name).read_text()
    for match in re.finditer(r"^```swift\n(.*?)^```$", article, flags=re.M | re.S):
        if not found(match.group(1)):
            line = article.count("\n", 0, match.start()) + 1
            print(f"{docc.relative_to(repo) / name}:{line}: this swift block is not the code of Examples/harness "
                  "(copy it from there, or mark a left-out part with '// ...')")
            failed += 1
print(f"docc snippets: {failed} not found in Examples/harness" if failed else "docc snippets: all from Examples/harness")
sys.exit(1 if failed else 0)
