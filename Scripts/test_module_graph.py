#!/usr/bin/env python3
"""Tests of Scripts/module-graph.py on a made-up package (no swift needed): run by Scripts/test.sh.

Usage: python3 Scripts/test_module_graph.py
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module-graph.py")


def target(name, deps=(), products=(), libs=(), kind="regular", path=None):
    return {"name": name, "type": kind, "path": path,
            "dependencies": [{"byName": [d, None]} for d in deps]
                            + [{"product": [p, pkg, None, None]} for p, pkg in products],
            "settings": [{"tool": "linker", "kind": {"linkedLibrary": {"_0": l}}} for l in libs]}


class ModuleGraphTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        self.targets = [
            target("CShims", libs=["seccomp"], path="CShims"),
            target("NookCore"),
            target("NookSpec", ["NookCore"]),
            target("NookKernel", ["NookCore", "CShims"], products=[("SystemPackage", "swift-system")]),
            target("NookRuntime", ["NookSpec", "NookKernel", "NookCore"]),
            target("nook", ["NookRuntime", "NookSpec", "NookCore"],
                   products=[("ArgumentParser", "swift-argument-parser")], kind="executable"),
            target("NookKitTests", ["NookRuntime", "CShims"], kind="test"),
        ]
        for t in self.targets:
            os.makedirs(os.path.join(self.root, t["path"] or "Sources/" + t["name"]))
        self.write("CShims/shim.c", "int x;\n")
        for name in ("NookCore", "NookSpec", "NookKernel", "nook"):
            self.write(f"Sources/{name}/{name}.swift", "import Glibc\n")
        self.write("Sources/NookRuntime/Runtime.swift", "import NookKernel\n// import CShims: not here\n")
        self.doc = self.write("Docs/architecture.md",
                              "# A\n<!-- module-graph:begin -->\n<!-- module-graph:end -->\nafter\n")

    def tearDown(self):
        self.dir.cleanup()

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_graph(self, *args, targets=None):
        manifest = {"packageKind": {"root": [self.root]}, "targets": targets or self.targets}
        return subprocess.run([sys.executable, SCRIPT, "--json", "-", *args], input=json.dumps(manifest),
                              capture_output=True, text=True)

    def test_draws_targets_products_and_libraries_not_tests(self):
        out = self.run_graph("--dot").stdout
        self.assertIn("t_NookRuntime -> t_NookKernel;", out)
        self.assertIn('p_ArgumentParser [label="ArgumentParser (swift-argument-parser)", shape=box', out)
        self.assertIn('l_seccomp [label="libseccomp", shape=cylinder', out)
        self.assertNotIn("NookKitTests", out)
        page = self.run_graph().stdout
        self.assertIn("](pictures/module-graph.svg)", page)
        self.assertIn("|   +-- NookKernel", page)
        self.assertNotIn("NookKitTests", page)

    def test_dot_draws_arrows_that_add_no_reach_grey_and_c_targets_apart(self):
        out = self.run_graph("--dot").stdout
        # nook reaches NookCore through NookRuntime: declared, drawn, but grey and out of the layout.
        self.assertIn('t_nook -> t_NookCore [color="#b3b6b7", penwidth=0.6, arrowsize=0.6, constraint=false];', out)
        self.assertIn("t_nook -> t_NookRuntime;", out)
        # CShims has no Swift file: a C target.
        self.assertIn('t_CShims [label="CShims", fillcolor="#f5eef8"', out)
        self.assertIn('t_NookCore [label="NookCore", fillcolor="#eef3fb"', out)
        self.assertIn('t_nook [label="nook", fillcolor="#4a6fa5"', out)

    def test_dot_does_not_depend_on_manifest_order(self):
        shuffled = list(self.targets)
        random.Random(2).shuffle(shuffled)
        self.assertEqual(self.run_graph("--dot").stdout, self.run_graph("--dot", targets=shuffled).stdout)

    def test_output_does_not_depend_on_manifest_order(self):
        shuffled = list(self.targets)
        random.Random(1).shuffle(shuffled)
        self.assertEqual(self.run_graph().stdout, self.run_graph(targets=shuffled).stdout)

    def test_write_then_check_passes_and_keeps_the_rest(self):
        self.assertEqual(self.run_graph("--write", self.doc).returncode, 0)
        with open(self.doc) as f:
            text = f.read()
        self.assertTrue(text.startswith("# A\n<!-- module-graph:begin -->\n<!-- Generated"))
        self.assertTrue(text.endswith("<!-- module-graph:end -->\nafter\n"))
        check = self.run_graph("--check", self.doc)
        self.assertEqual(check.returncode, 0, check.stdout)

    def test_stale_page_fails_with_a_diff(self):
        self.run_graph("--write", self.doc)
        changed = [dict(t) for t in self.targets]
        changed[4] = target("NookRuntime", ["NookSpec", "NookKernel"])   # NookCore dropped
        check = self.run_graph("--check", self.doc, targets=changed)
        self.assertEqual(check.returncode, 1)
        self.assertIn("is stale", check.stdout)
        self.assertIn("\n +-- NookRuntime\n-|   +-- NookCore\n", check.stdout)

    def test_full_foundation_in_nook_is_named_and_elsewhere_allowed(self):
        self.run_graph("--write", self.doc)
        self.assertEqual(self.run_graph("--check", self.doc).returncode, 0)
        self.write("Sources/NookKernel/Essentials.swift", "import FoundationEssentials\n")
        self.write("Sources/NookKitTests/T.swift", "import Foundation\n")  # a test target: not linked into nook
        self.assertEqual(self.run_graph("--check", self.doc).returncode, 0)
        # Not imports: a comment, a string, a block comment.
        q3 = '"' * 3  # Swift's multi-line string delimiter
        self.write("Sources/NookCore/Notes.swift", "\n".join([
            "// import Foundation",
            'let s = "import Foundation"',
            "/* import Foundation",
            " /* nested */ import Foundation */",
            "let t = " + q3, "import Foundation", "\\" + q3, "import Foundation", q3,   # an escaped delimiter inside
            "let r = #" + q3, q3, "import Foundation", q3 + "#",                          # a raw one: its end needs the #
            ""]))
        self.assertEqual(self.run_graph("--check", self.doc).returncode, 0, self.run_graph("--check", self.doc).stdout)
        forms = {"A": "import Glibc\n@preconcurrency internal import Foundation\n",
                 "B": "import Glibc; import FoundationNetworking\n",
                 "C": "@_spi(Internal) import FoundationInternationalization\n",
                 "D": "import struct Foundation.URL\n",
                 "E": "import /* why */ _FoundationICU\n",
                 "F": "public import FoundationXML\n",
                 "G": 'let a = #"\\"#\nimport Foundation\n',
                 "H": 'let b = """\n\\"""\n"""\nimport\n  FoundationNetworking\n'}
        for name, text in forms.items():
            self.write(f"Sources/NookSpec/{name}.swift", text)
        check = self.run_graph("--check", self.doc)
        self.assertEqual(check.returncode, 1)
        for name, module in (("A", "Foundation"), ("B", "FoundationNetworking"), ("C", "FoundationInternationalization"),
                             ("D", "Foundation"), ("E", "_FoundationICU"), ("F", "FoundationXML"),
                             ("G", "Foundation"), ("H", "FoundationNetworking")):
            self.assertIn(f"Sources/NookSpec/{name}.swift: imports {module},", check.stdout)
        self.assertNotIn("Notes.swift", check.stdout)
        self.assertEqual(self.run_graph("--check-arrows").returncode, 1)

    def test_declared_forbidden_arrow_is_named(self):
        bad = self.targets + [target("NookImages", ["NookRuntime"])]
        bad[2] = target("NookSpec", ["NookCore", "NookKernel"])
        os.makedirs(os.path.join(self.root, "Sources/NookImages"))
        check = self.run_graph("--check-arrows", targets=bad)
        self.assertEqual(check.returncode, 1)
        self.assertIn("forbidden arrow NookSpec -> NookKernel: Package.swift declares it", check.stdout)
        self.assertIn("forbidden arrow NookImages -> NookRuntime: Package.swift declares it", check.stdout)

    def test_target_missing_from_the_rule_table_is_named(self):
        check = self.run_graph("--check-arrows", targets=self.targets + [target("NookExtra")])
        self.assertEqual(check.returncode, 1)
        self.assertIn("NookExtra: not in the rule table", check.stdout)

    def test_arrows_lists_a_control_first_and_how_each_arrow_can_be_refused(self):
        lines = self.run_graph("--arrows").stdout.splitlines()
        self.assertEqual(lines[0], "control NookSpec NookCore")
        self.assertIn("forbidden NookRuntime CShims transitive", lines)
        self.assertIn("forbidden NookSpec NookKernel separate", lines)
        self.assertIn("forbidden nook CShims transitive", lines)
        self.assertFalse([l for l in lines if l.startswith("forbidden CShims")])   # C: no Swift imports


if __name__ == "__main__":
    unittest.main()
