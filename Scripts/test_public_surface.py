#!/usr/bin/env python3
"""Tests of Scripts/public-surface.py's reading of Swift (no swift needed): run by Scripts/test.sh.

Usage: python3 Scripts/test_public_surface.py
"""

import importlib.util
import os
import unittest

spec = importlib.util.spec_from_file_location(
    "public_surface", os.path.join(os.path.dirname(os.path.abspath(__file__)), "public-surface.py"))
surface = importlib.util.module_from_spec(spec)
spec.loader.exec_module(surface)

SOURCE = r'''
/// Doc.
public struct Outer: Sendable {
    public private(set) var a: Int
    public(set) var b = "public var not: a declaration"
    @inlinable public func c() -> String { "\(a > 0 ? "public func x()" : #"open class Y"#) \(b)" }
    /* public func commented() {} /* nested */ public var stillComment = 1 */
    open class Nested {
        open func d() {}
        public func open(_ path: String) -> Int32 { open(path, 0) }
    }
    // public var lineComment = 1
    let s = """
        public func inMultiline() {}
        """
    public enum Kind { case one, two
        case three(Int) }
}
public extension Outer.Nested {
    @discardableResult
    public static func e() -> Int { 1 }
}
func f() { let open = 1; x.public = open; call(public: 1) }
'''


class PublicSurfaceTests(unittest.TestCase):
    def test_declarations_and_their_qualified_names(self):
        found = [(d.token.text, d.keyword, d.qualified) for d in surface.declarations(SOURCE)]
        self.assertEqual(found, [
            ("public", "struct", "Outer"),
            ("public", "var", "Outer.a"),
            ("public", "var", "Outer.b"),
            ("public", "func", "Outer.c"),
            ("open", "class", "Outer.Nested"),
            ("open", "func", "Outer.Nested.d"),
            ("public", "func", "Outer.Nested.open"),
            ("public", "enum", "Outer.Kind"),
            ("case", "case", "Outer.Kind.one"),
            ("case", "case", "Outer.Kind.two"),
            ("case", "case", "Outer.Kind.three"),
            ("public", "extension", "Outer.Nested"),
            ("public", "func", "Outer.Nested.e"),
        ])

    def test_doc_comments(self):
        decls = {d.qualified: d for d in surface.declarations(SOURCE)}
        self.assertTrue(surface.has_doc_comment(SOURCE, decls["Outer"].token.start))
        self.assertFalse(surface.has_doc_comment(SOURCE, decls["Outer.a"].token.start))
        self.assertFalse(surface.has_doc_comment(SOURCE, decls["Outer.Nested.e"].token.start))
        block = "/** Block doc. */\n@available(macOS 13, *)\npublic func g() {}\n"
        self.assertTrue(surface.has_doc_comment(block, block.index("public")))

    def test_an_unknown_modifier_does_not_hide_public(self):
        src = "struct S {\n    public __consuming func f() {}\n    public newmodifier var v = 1\n}\nlet x = open\nstruct T {}\n"
        found = [(d.token.text, d.keyword, d.qualified) for d in surface.declarations(src)]
        self.assertEqual(found, [("public", "func", "S.f"), ("public", "var", "S.v")])

    def run_check(self, files):
        """main() --check over a scratch repository holding `files` (path -> Swift)."""
        import contextlib, io, tempfile
        with tempfile.TemporaryDirectory() as repo:
            for path, text in files.items():
                os.makedirs(os.path.join(repo, os.path.dirname(path)), exist_ok=True)
                with open(os.path.join(repo, path), "w") as f:
                    f.write(text)
            saved_repo, saved_allowed, saved_argv = surface.REPO, surface.ALLOWED, surface.sys.argv
            surface.REPO, surface.ALLOWED, surface.sys.argv = repo, {"NookCore": {"NookError"}}, ["x", "--check"]
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    rc = surface.main()
            finally:
                surface.REPO, surface.ALLOWED, surface.sys.argv = saved_repo, saved_allowed, saved_argv
            return rc, out.getvalue()

    def test_check_refuses_what_would_widen_the_surface(self):
        allowed_type = "/// Doc.\npublic struct NookError {}\n"
        rc, out = self.run_check({"Sources/NookCore/E.swift": allowed_type})
        self.assertEqual(rc, 0, out)
        # A public extension of an ALLOWED type makes all its members public.
        rc, out = self.run_check({"Sources/NookCore/E.swift": allowed_type
                                  + "public extension NookError {\n    func leak() {}\n}\n"})
        self.assertEqual(rc, 1, out)
        self.assertIn("public extension NookError outside NookKit", out)
        # A modifier the script does not know.
        rc, out = self.run_check({"Sources/NookCore/E.swift": allowed_type
                                  + "struct S {\n    public __consuming func f() {}\n}\n"})
        self.assertEqual(rc, 1, out)
        self.assertIn("public func S.f outside NookKit", out)
        # A declaration after a number (the lexer must not lose the literal and see `=` before `public`).
        rc, out = self.run_check({"Sources/NookCore/E.swift": allowed_type
                                  + "enum L {\n    static let size = 4096\n    public static func f() {}\n}\nlet n = 42\npublic struct T {}\n"})
        self.assertEqual(rc, 1, out)
        self.assertIn("public func L.f outside NookKit", out)
        self.assertIn("public struct T outside NookKit", out)
        # A quote inside an extended regex literal opens no string.
        rc, out = self.run_check({"Sources/NookCore/E.swift": allowed_type
                                  + "enum R {\n    static let q = #/\"/#\n}\npublic func g() {}\n"})
        self.assertEqual(rc, 1, out)
        self.assertIn("public func g outside NookKit", out)
        # A re-export spelled with an access level.
        rc, out = self.run_check({"Sources/NookCore/E.swift": allowed_type,
                                  "Sources/NookKit/K.swift": "@_exported public import NookCore\n"})
        self.assertEqual(rc, 1, out)
        self.assertIn("@_exported import", out)


if __name__ == "__main__":
    unittest.main()
