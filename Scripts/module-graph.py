#!/usr/bin/env python3
"""The module graph of Package.swift: drawn for Docs/architecture.md, and checked against the rule table.

Reads `swift package dump-package` (run here, or its JSON from --json FILE, `-` for stdin)
and draws the dependency graph of the package's own targets (test targets left out),
with the external products they use and the system libraries they link as leaves:
Graphviz source (--dot: Docs/pictures/module-graph.dot, which Scripts/check-pictures.py
renders to the SVG the page embeds) and, in the page, that picture and the same graph as
an ASCII tree for terminals. The output is sorted, so the same manifest gives the same text.

ALLOWED below is the rule table: which of our targets may depend on which. It is
the only place the arrows are written down. --check fails, naming the arrow, when
  - Package.swift declares a dependency the table forbids,
  - a target is missing from the table (a new module decides its arrows first),
  - the generated block in the page differs from what the manifest gives (a diff),
  - a module linked into nook imports full Foundation (FoundationEssentials is enough).
What a source file imports is the build's business: Plugins/DirectImportsOnly
fails a target that imports one of our modules Package.swift does not give it,
so the imports stay within the declared arrows, and these within the table.
Scripts/check-arrows.sh proves that by building each forbidden import.

Usage: module-graph.py [--json FILE|-] [--write DOC | --check DOC | --check-arrows | --arrows | --dot]
  (no action: print the generated block; --check-arrows: only the arrows, no page;
  --arrows: the list Scripts/check-arrows.sh builds)
Exit status: 0, or 1 when --check found a problem, 2 on bad usage.
"""

import argparse
import difflib
import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- module-graph:begin -->"
END = "<!-- module-graph:end -->"

# The rule table: target -> the targets of ours it may depend on and import.
# The arrows point down, from the CLI to the kernel seam: the spec is data and
# knows no kernel; only NookKernel touches the C shim; the CLI goes through the
# runtime, never around it; images share the spec and the kernel seam, not the runtime.
ALLOWED = {
    "CShims": [],
    # libarchive's headers, for reading layer tarballs: only the image code uses it.
    "CArchive": [],
    "NookCore": [],
    "NookSpec": ["NookCore"],
    "NookKernel": ["NookCore", "CShims"],
    "NookRuntime": ["NookSpec", "NookKernel", "NookCore"],
    "NookImages": ["NookSpec", "NookKernel", "NookCore", "CArchive"],
    # The registry client (AsyncHTTPClient): fetches into the image store, never the runtime.
    "NookRegistry": ["NookImages", "NookSpec", "NookKernel", "NookCore"],
    # The recording fake of the kernel seam: for tests and harnesses, never the binary.
    "NookKernelTesting": ["NookKernel", "NookCore"],
    # An image as a run's source (image config + container layer -> RunOptions):
    # the one place images meet the runtime, shared by the CLI and NookKit.
    "NookImageRun": ["NookRuntime", "NookImages", "NookSpec", "NookKernel", "NookCore"],
    # What a Swift program imports: the runtime, images from the store (never
    # the registry client) and the OCI model.
    "NookKit": ["NookRuntime", "NookImageRun", "NookSpec", "NookCore"],
    # The CLI's own file reads use the kernel seam (HostPath); never the C shim.
    # Issue #20's plan had nook -> NookKernel forbidden: drop it here once the CLI
    # reads through NookRuntime, and --check names every file still importing it.
    "nook": ["NookRuntime", "NookImageRun", "NookImages", "NookSpec", "NookKernel", "NookCore"],
    # What `nook pull` runs: the HTTP client lives here, never in `nook`
    # (linking it there costs every `nook run` a longer conformance scan).
    "nook-registry": ["NookRegistry", "NookImages", "NookSpec", "NookCore"],
    # A program that uses the harness API as a test would (run by the integration tests).
    "nook-harness-probe": ["NookKit"],
}


def load_manifest(json_file):
    if json_file == "-":
        return json.load(sys.stdin)
    if json_file:
        with open(json_file, encoding="utf-8") as f:
            return json.load(f)
    out = subprocess.run(["swift", "package", "dump-package"], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


KINDS = ["target", "product", "library"]


class Graph:
    """The package's own targets (no tests) and what each one depends on."""

    def __init__(self, manifest):
        # Where the sources are: the package dump-package read (a copy, for check-arrows.sh).
        self.root = (manifest.get("packageKind", {}).get("root") or [REPO])[0]
        self.targets = {}    # name -> target JSON
        self.deps = {}       # name -> sorted [(kind, name, label)], kind: target | product | library
        for t in manifest["targets"]:
            if t["type"] in ("test", "plugin", "macro"):
                continue
            self.targets[t["name"]] = t
        for name, t in self.targets.items():
            deps = set()
            for d in t["dependencies"]:
                (key, value), = d.items()
                if key in ("byName", "target"):
                    dep = value[0]
                    # byName names a target of ours or a product of a dependency.
                    deps.add(("target", dep, dep) if dep in self.targets else ("product", dep, dep))
                elif key == "product":
                    deps.add(("product", value[0], f"{value[0]} ({value[1]})"))
            for s in t["settings"]:
                if s["tool"] == "linker" and "linkedLibrary" in s["kind"]:
                    lib = s["kind"]["linkedLibrary"]["_0"]
                    deps.add(("library", lib, f"lib{lib}"))
            # Ours first, then external products, then system libraries; each by name.
            self.deps[name] = sorted(deps, key=lambda d: (KINDS.index(d[0]), d[1]))

    def target_deps(self, name):
        return [d for kind, d, _ in self.deps[name] if kind == "target"]

    def closure(self, name):
        """Every target `name` reaches through its declared dependencies."""
        seen, todo = set(), list(self.target_deps(name))
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo += self.target_deps(d)
        return seen

    def roots(self):
        used = {d for n in self.targets for d in self.target_deps(n)}
        return sorted(n for n in self.targets if n not in used)


def node_id(kind, name):
    return {"target": "t_", "product": "p_", "library": "l_"}[kind] + re.sub(r"\W", "_", name)


def ascii_tree(g):
    """Each root target with its dependencies below it; a subtree drawn before is `(*)`."""
    lines, drawn = ["```text"], set()

    def walk(name, prefix):
        children = g.deps[name]
        for i, (kind, dep, label) in enumerate(children):
            last = i == len(children) - 1
            branch, more = ("`-- ", "    ") if last else ("+-- ", "|   ")
            repeat = kind == "target" and dep in drawn and g.deps[dep]
            lines.append(prefix + branch + label + (" (*)" if repeat else ""))
            if kind == "target" and not repeat:
                drawn.add(dep)
                walk(dep, prefix + more)

    for root in g.roots():
        lines.append(root)
        drawn.add(root)
        walk(root, "")
    lines.append("(*) drawn above")
    lines.append("```")
    return lines


def implied(g, name, dep):
    """True when `name` reaches `dep` through another of its own targets: the
    arrow is declared (each import must be) but adds no reach to the picture."""
    return any(dep in g.closure(other) for other in g.target_deps(name) if other != dep)


def dot(g):
    """The graph as Graphviz source for Docs/pictures/module-graph.svg
    (Scripts/check-pictures.py renders it and checks it is what this prints)."""
    style = {  # our targets by kind: (fill, border, font colour, what the legend calls them)
        "executable": ("#4a6fa5", "#4a6fa5", "white"),
        "library": ("#eef3fb", "#4a6fa5", "black"),
        "c": ("#f5eef8", "#8a5a9e", "black"),
    }
    lines = [
        "// Generated by Scripts/module-graph.py --dot from Package.swift; do not edit.",
        "// Scripts/check-pictures.py fails when it differs from what the manifest gives.",
        "digraph module_graph {",
        '  graph [fontname="Courier", fontsize=11, rankdir=TB, nodesep=0.2, ranksep=0.45, labelloc=t,',
        '         label="The targets of Package.swift; an arrow: may import (declared, checked by the build).\\l'
        'Dark: programs. Light: Swift modules. Purple: C. Grey: other packages and system libraries.\\l'
        'Thin grey arrows are declared too, but reach nothing the black ones do not.\\l"];',
        '  node [fontname="Courier", fontsize=10, shape=box, style="rounded,filled", margin="0.1,0.05"];',
        '  edge [color="#333333"];',
    ]
    leaves = {}
    for name in sorted(g.targets):
        t = g.targets[name]
        kind = ("executable" if t["type"] == "executable"
                else "c" if t["type"] == "system" or next(source_files(g.root, t), None) is None
                else "library")
        fill, border, font = style[kind]
        lines.append(f'  {node_id("target", name)} [label="{name}", fillcolor="{fill}", color="{border}", fontcolor="{font}"];')
        for k, dep, label in g.deps[name]:
            if k != "target":
                leaves[(k, dep)] = label
    for (k, dep), label in sorted(leaves.items()):
        shape = "box" if k == "product" else "cylinder"
        lines.append(f'  {node_id(k, dep)} [label="{label}", shape={shape}, fillcolor="#eaeded", color="#7f8c8d"];')
    for name in sorted(g.targets):
        for k, dep, _ in g.deps[name]:
            # An implied arrow leaves the layout to the others (constraint=false): fewer crossings.
            attrs = (' [color="#b3b6b7", penwidth=0.6, arrowsize=0.6, constraint=false]' if k == "target" and implied(g, name, dep)
                     else ' [color="#b3b6b7", penwidth=0.6, arrowsize=0.6]' if k != "target" else "")
            lines.append(f"  {node_id('target', name)} -> {node_id(k, dep)}{attrs};")
    lines.append("}")
    return lines


def block(g):
    note = "<!-- Generated by Scripts/module-graph.py --write Docs/architecture.md from Package.swift; do not edit. -->"
    picture = ("![The module graph of Package.swift: each target of ours, with an arrow to each target, "
               "package and system library it may import](pictures/module-graph.svg)")
    return [note, "", picture, "", "The same graph as text:", ""] + ascii_tree(g)


def source_files(package_root, t):
    """The Swift files of a target, as SwiftPM finds them (its path, minus its excludes)."""
    root = os.path.join(package_root, t.get("path") or "Sources/" + t["name"])
    excluded = [os.path.join(root, e) for e in t.get("exclude") or []]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if os.path.join(dirpath, d) not in excluded)
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            if f.endswith(".swift") and p not in excluded:
                yield p


def arrow_problems(g):
    problems = []
    for name in sorted(g.targets):
        if name not in ALLOWED:
            problems.append(f"{name}: not in the rule table (ALLOWED in Scripts/module-graph.py): "
                            "write down which targets it may depend on")
            continue
        for dep in g.target_deps(name):
            if dep not in ALLOWED[name]:
                problems.append(f"{name} -> {dep}: Package.swift declares it, the rule table forbids it")
    return problems


# Full Foundation (swift-corelibs-foundation) brings ICU with it: 50 MB of the
# static nook binary, and 1,800 more conformance records that the Swift runtime
# scans on every first dynamic cast of every start. FoundationEssentials has
# JSONEncoder, Data and Date, all the CLI's modules need. These modules are
# full Foundation, or link it, or are ICU.
FOUNDATION_WITH_ICU = ("Foundation", "FoundationNetworking", "FoundationXML",
                       "FoundationInternationalization", "_FoundationICU")
# One import declaration, at the start of a statement: attributes (with
# arguments too), an access level, a kind (`import struct Foundation.URL`),
# then the module's name; whitespace between them may span lines.
IMPORT = re.compile(r"(?:^|[;\n])[ \t]*(?:@\w+(?:\([^)]*\))?\s*)*(?:(?:public|package|internal|private|fileprivate)\s+)?"
                    r"import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)")


def swift_code(text):
    """A Swift file with its comments and string literals blanked (newlines kept)."""
    code, i, n = [], 0, len(text)
    depth = 0  # nesting of /* */
    while i < n:
        if depth:
            if text.startswith("*/", i):
                depth, i = depth - 1, i + 2
            elif text.startswith("/*", i):
                depth, i = depth + 1, i + 2
            else:
                code.append("\n" if text[i] == "\n" else " ")
                i += 1
            continue
        if text.startswith("/*", i):
            depth, i = 1, i + 2
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        m = re.match(r'(#*)("""|")', text[i:i + 64])
        if m and (m.group(1) or text[i] == '"'):
            # A string literal: `#`s make it raw (`#"a\b"#`: no escape but `\#`),
            # three quotes multi-line; it ends at the same quotes and `#`s.
            hashes, quotes = m.group(1), m.group(2)
            close = quotes + hashes
            j = i + len(m.group(0))
            while j < n and not text.startswith(close, j) and (quotes == '"""' or text[j] != "\n"):
                j += 1 + len(hashes) + 1 if text.startswith("\\" + hashes, j) else 1
            end = min(n, j + len(close)) if text.startswith(close, j) else j
            code.append('""' + "\n" * text.count("\n", i, end))
            i = end
            continue
        code.append(text[i])
        i += 1
    return "".join(code)


def foundation_problems(g):
    """Each source file of a target linked into nook that imports full Foundation or ICU."""
    if "nook" not in g.targets:
        return []
    problems = []
    for name in sorted(g.closure("nook") | {"nook"}):
        for path in source_files(g.root, g.targets[name]):
            with open(path, encoding="utf-8") as f:
                modules = {m.group(1) for m in IMPORT.finditer(swift_code(f.read()))}
            for module in sorted(modules & set(FOUNDATION_WITH_ICU)):
                problems.append(f"{os.path.relpath(path, g.root)}: imports {module}, which links full Foundation and ICU "
                                "into nook (slower start, 50 MB): import FoundationEssentials")
    return problems


def arrows(g):
    """The lines check-arrows.sh reads: each forbidden arrow between our targets,
    `forbidden A B HOW`, HOW being `transitive` when B is already among A's declared
    dependencies (no SwiftPM check can refuse it), `unimported` when the table lets
    none of ours import B (NookKit, the library for other programs), else `separate`;
    after one allowed arrow to build as a control, from the target with the fewest
    dependencies."""
    lines, allowed = [], []
    imported = {d for deps in ALLOWED.values() for d in deps}
    importable = sorted(n for n in g.targets if g.targets[n]["type"] != "executable")
    # Only Swift targets can be given a wrong import (a C target such as CShims has no Swift files).
    swift = [n for n in sorted(g.targets) if n in ALLOWED and next(source_files(g.root, g.targets[n]), None)]
    for name in swift:
        reach = g.closure(name)
        for dep in importable:
            if dep == name:
                continue
            if dep in ALLOWED[name]:
                allowed.append((len(reach), name, dep))
            else:
                how = "transitive" if dep in reach else "separate" if dep in imported else "unimported"
                lines.append(f"forbidden {name} {dep} {how}")
    if allowed:
        # First: it shows the copy builds, and leaves a module built, as a real build would.
        _, name, dep = min(allowed)
        lines.insert(0, f"control {name} {dep}")
    return lines


def replace_block(text, generated, doc):
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        sys.exit(f"module-graph: {doc} needs one {BEGIN} line and, after it, one {END} line")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + "\n".join(generated) + "\n" + END + tail


def main():
    ap = argparse.ArgumentParser(description="Draw and check the module graph of Package.swift.")
    ap.add_argument("--json", metavar="FILE", help="dump-package JSON to read (- for stdin) instead of running swift")
    action = ap.add_mutually_exclusive_group()
    action.add_argument("--write", metavar="DOC", help="replace the generated block in DOC")
    action.add_argument("--check", metavar="DOC", help="exit 1 if DOC's block is stale or an arrow is forbidden")
    action.add_argument("--check-arrows", action="store_true", help="exit 1 if an arrow is forbidden (no page)")
    action.add_argument("--arrows", action="store_true", help="list the forbidden arrows and a control (check-arrows.sh)")
    action.add_argument("--dot", action="store_true", help="print the graph as Graphviz source (Docs/pictures/module-graph.dot)")
    args = ap.parse_args()

    g = Graph(load_manifest(args.json))
    if args.dot:
        print("\n".join(dot(g)))
        return 0
    if args.arrows:
        print("\n".join(arrows(g)))
        return 0
    if args.check_arrows:
        problems = arrow_problems(g)
        for p in problems:
            print(f"module-graph: forbidden arrow {p}")
        for p in foundation_problems(g):
            print(f"module-graph: {p}")
        return 1 if problems or foundation_problems(g) else 0
    generated = block(g)
    if not (args.write or args.check):
        print("\n".join(generated))
        return 0
    doc = args.write or args.check
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    new = replace_block(text, generated, doc)
    if args.write:
        if new != text:
            with open(doc, "w", encoding="utf-8") as f:
                f.write(new)
        problems = arrow_problems(g)
        for p in problems:
            print(f"module-graph: forbidden arrow {p}", file=sys.stderr)
        return 1 if problems else 0

    failed = False
    for p in arrow_problems(g):
        print(f"module-graph: forbidden arrow {p}")
        failed = True
    for p in foundation_problems(g):
        print(f"module-graph: {p}")
        failed = True
    if new != text:
        print(f"module-graph: {doc} is stale; run Scripts/module-graph.py --write {doc}")
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                   doc, doc + " (from Package.swift)"))
        failed = True
    if not failed:
        print(f"module-graph: {doc} matches Package.swift; every arrow is allowed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
