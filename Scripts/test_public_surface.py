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


if __name__ == "__main__":
    unittest.main()
