#!/usr/bin/env python3
"""NookKit's public surface is small on purpose (issue 19): a harness that
imports NookKit sees NookKit's own types and the few declarations of other
modules listed in ALLOWED below, which NookKit re-exports by `public typealias`
(NookKit/ReExported.swift). Everything else of ours is `package`: SwiftPM
gives one package name to all targets of Package.swift, so nook, nook-registry
and the tests keep their access; a package outside (Examples/harness) has none.

  --apply   rewrites `public` and `open` (also `public(set)`, `public init`,
            `@inlinable public`, `public extension`) to `package` in Sources/
            and Tests/, outside Sources/NookKit, except ALLOWED. Idempotent:
            run it again after merging code that adds `public`.
  --check   exit 1 naming each `public` outside NookKit that ALLOWED does not
            list, each ALLOWED entry that names nothing (renamed: update the
            list), each public declaration of NookKit or ALLOWED without a
            doc comment, any `@_exported` import in NookKit, and any
            `public extension` outside NookKit (it makes all its members
            public, so even an ALLOWED type's extension is refused).
Both print how many public declarations there are.

Swift is read with a small lexer (comments, strings with interpolation, raw
and multi-line strings), never with a regular expression over lines.
"""
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = "NookKit"
ROOTS = ["Sources", "Tests"]

# Module -> qualified names kept `public`: the types NookKit's public signatures
# and errors need, with only the members a harness uses (or a public
# conformance requires). Enum cases follow their enum.
ALLOWED = {
    "NookCore": {
        "NookError", "NookError.message", "NookError.hint", "NookError.exitCode", "NookError.kind",
        "NookError.errno", "NookError.description",
        "NookError.Kind", "NookError.Subject",
        # Codable's requirements: NookError is Codable, so its kind is.
        "NookError.Kind.encode", "NookError.Kind.init",
    },
    "NookRuntime": {
        "NetworkMode",
        "ResourceFlags", "ResourceFlags.init", "ResourceFlags.memory", "ResourceFlags.memorySwap",
        "ResourceFlags.memoryReservation", "ResourceFlags.pidsLimit", "ResourceFlags.cpus", "ResourceFlags.cpuShares",
        "ResourceFlags.cpusetCPUs", "ResourceFlags.blkioWeight", "ResourceFlags.deviceReadBps",
        "ResourceFlags.deviceWriteBps",
        "MonitorExecutable", "MonitorExecutable.resolve",
    },
}

TYPE_KEYWORDS = {"struct", "class", "enum", "protocol", "actor", "extension"}
DECL_KEYWORDS = TYPE_KEYWORDS | {"typealias", "func", "var", "let", "init", "subscript", "case", "associatedtype",
                                 "macro", "operator", "precedencegroup", "deinit", "import"}
MODIFIERS = {"static", "class", "final", "override", "mutating", "nonmutating", "nonisolated", "convenience",
             "required", "lazy", "indirect", "dynamic", "optional", "weak", "unowned", "prefix", "postfix", "infix",
             "fileprivate", "private", "internal", "package", "public", "open", "consuming", "borrowing",
             "distributed", "isolated", "async"}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|`[^`\n]+`")


class Token:
    __slots__ = ("kind", "text", "start")

    def __init__(self, kind, text, start):
        self.kind, self.text, self.start = kind, text, start


def lex(src):
    """Code tokens: ("id", name), ("attr", @name), ("punct", c), ("str", "")
    for a whole string literal; comments are skipped (code inside string
    interpolation is lexed)."""
    tokens = []
    i = _lex_code(src, 0, tokens, in_interpolation=False)
    assert i >= len(src)
    return tokens


def _lex_code(src, i, tokens, in_interpolation):
    n, depth = len(src), 0
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            level, i = 1, i + 2
            while i < n and level:
                if src.startswith("/*", i):
                    level, i = level + 1, i + 2
                elif src.startswith("*/", i):
                    level, i = level - 1, i + 2
                else:
                    i += 1
        elif c == "#" and re.match(r"#+/", src[i:i + 64]):
            # An extended regex literal, #/.../#: its quotes are not strings.
            hashes = len(re.match(r"#+", src[i:]).group(0))
            end = src.find("/" + "#" * hashes, i + hashes + 1)
            i = n if end < 0 else end + 1 + hashes
            tokens.append(Token("str", '""', i))
        elif c == '"' or (c == "#" and re.match(r'#+"', src[i:i + 64])):
            i = _lex_string(src, i, tokens)
        elif c == "@" and IDENT.match(src, i + 1):
            m = IDENT.match(src, i + 1)
            tokens.append(Token("attr", "@" + m.group(0), i))
            i = m.end()
        elif IDENT.match(src, i):
            m = IDENT.match(src, i)
            tokens.append(Token("id", m.group(0).strip("`"), i))
            i = m.end()
        elif c.isdigit():
            m = re.compile(r"[0-9][0-9A-Za-z_.]*").match(src, i)
            tokens.append(Token("num", m.group(0), i))  # a value: what follows it is not after `=`
            i = m.end()
        else:
            if in_interpolation:
                if c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0:
                        return i + 1
                    depth -= 1
            tokens.append(Token("punct", c, i))
            i += 1
    return i


def _lex_string(src, i, tokens):
    i = _skip_string(src, i, tokens)
    tokens.append(Token("str", '""', i))  # so what follows a literal sees a value before it
    return i


def _skip_string(src, i, tokens):
    hashes = 0
    while src[i] == "#":
        hashes, i = hashes + 1, i + 1
    multi = src.startswith('"""', i)
    i += 3 if multi else 1
    close = ('"""' if multi else '"') + "#" * hashes
    escape = "\\" + "#" * hashes
    n = len(src)
    while i < n:
        if src.startswith(close, i):
            return i + len(close)
        if src.startswith(escape, i):
            i += len(escape)
            if i < n and src[i] == "(":
                i = _lex_code(src, i + 1, tokens, in_interpolation=True)
            else:
                i += 1
        else:
            i += 1
    return i


class Decl:
    def __init__(self, token, keyword, name, qualified, doc_scope):
        self.token, self.keyword, self.name, self.qualified = token, keyword, name, qualified
        self.doc_scope = doc_scope  # a public enum's case: public without a modifier of its own


def access_token(tokens, k):
    """Whether tokens[k] is the access modifier `public` or `open` (not a
    function named open, not `.public`)."""
    t = tokens[k]
    if t.kind != "id" or t.text not in ("public", "open"):
        return False
    prev = tokens[k - 1] if k else None
    if prev is not None and (prev.text in (".", "func", "case", "let", "var") and prev.kind in ("punct", "id")):
        return False
    if prev is not None and (prev.kind == "punct" and prev.text in "=(,[:" or prev.text in ("return", "in")):
        return False  # a value in an expression (`let x = open`), not a modifier
    nxt = tokens[k + 1] if k + 1 < len(tokens) else None
    if nxt is None:
        return False
    if nxt.text == "(":
        return k + 3 < len(tokens) and tokens[k + 2].text == "set" and tokens[k + 3].text == ")"
    if nxt.kind == "attr" or (nxt.kind == "id" and (nxt.text in DECL_KEYWORDS or nxt.text in MODIFIERS)):
        return True
    # A modifier this list does not know (`public __consuming func`): `public`
    # before any name is an access modifier; `open` only when a declaration follows.
    if nxt.kind == "id":
        return t.text == "public" or declaration_after(tokens, k)[0] is not None
    return False


def declaration_after(tokens, k):
    """The keyword and name of the declaration whose modifiers include tokens[k]."""
    j = k
    while j < len(tokens):
        t = tokens[j]
        if t.kind == "attr":
            j += 1
            if j < len(tokens) and tokens[j].text == "(":
                j = skip_group(tokens, j)
            continue
        if t.kind == "id" and t.text in MODIFIERS and not (t.text == "class" and is_type_class(tokens, j)):
            j += 1
            if j + 2 < len(tokens) and tokens[j].text == "(" and tokens[j + 1].text == "set":
                j += 3
            continue
        # An unknown modifier (`__consuming`, one a newer Swift adds): skip it
        # when a declaration keyword follows within a few names.
        if t.kind == "id" and t.text not in DECL_KEYWORDS and unknown_modifiers_end(tokens, j) is not None:
            j = unknown_modifiers_end(tokens, j)
            continue
        break
    if j >= len(tokens) or tokens[j].text not in DECL_KEYWORDS:
        return None, None, j
    keyword = tokens[j].text
    if keyword in ("init", "subscript", "deinit"):
        return keyword, keyword, j
    if keyword == "extension":
        return keyword, dotted_name(tokens, j + 1), j
    name = tokens[j + 1].text if j + 1 < len(tokens) else ""
    if keyword == "func" and tokens[j + 1].kind == "punct":  # an operator
        name = "".join(t.text for t in tokens[j + 1:j + 4] if t.kind == "punct" and t.text not in "(<")
    return keyword, name, j


def unknown_modifiers_end(tokens, j, limit=4):
    """The index of the declaration keyword (or known modifier) after up to
    `limit` unknown names starting at tokens[j], else None."""
    for i in range(j, min(j + limit, len(tokens))):
        t = tokens[i]
        if t.kind != "id":
            return None
        if t.text in DECL_KEYWORDS or t.text in MODIFIERS:
            return i
    return None


def skip_group(tokens, j):
    depth = 0
    while j < len(tokens):
        if tokens[j].text == "(":
            depth += 1
        elif tokens[j].text == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def dotted_name(tokens, j):
    parts = []
    while j < len(tokens) and tokens[j].kind == "id":
        parts.append(tokens[j].text)
        if j + 2 < len(tokens) and tokens[j + 1].text == "." and tokens[j + 2].kind == "id":
            j += 2
        else:
            break
    return ".".join(parts)


def is_type_class(tokens, j):
    """`class Foo` (a type) rather than `class func` (a modifier)."""
    nxt = tokens[j + 1] if j + 1 < len(tokens) else None
    return nxt is not None and nxt.kind == "id" and nxt.text not in DECL_KEYWORDS and nxt.text not in MODIFIERS


def declarations(src):
    """Every declaration marked public or open, and every case of a public
    enum, each with its qualified name (enclosing types, then its own)."""
    tokens = lex(src)
    found = []
    scopes = []  # per open brace: (type name, its keyword, public?) or None
    pending = None
    for k, t in enumerate(tokens):
        prev = tokens[k - 1] if k else None
        if t.kind == "id" and t.text in TYPE_KEYWORDS and not (prev and prev.text == ".") \
                and (t.text != "class" or is_type_class(tokens, k)):
            name = dotted_name(tokens, k + 1) if t.text == "extension" else (tokens[k + 1].text if k + 1 < len(tokens) else "")
            # Modifiers before the keyword, back to the previous statement.
            j, public = k - 1, False
            while j >= 0 and (tokens[j].kind == "attr" or tokens[j].text in MODIFIERS or tokens[j].text in ("(", ")", "set")):
                public = public or access_token(tokens, j)
                j -= 1
            pending = (name, t.text, public)
        elif t.text == "{" and t.kind == "punct":
            scopes.append(pending)
            pending = None
        elif t.text == "}" and t.kind == "punct":
            if scopes:
                scopes.pop()
        if access_token(tokens, k):
            keyword, name, _ = declaration_after(tokens, k)
            if keyword is None:
                found.append(Decl(t, "?", "?", f"(unrecognised declaration after {t.text})", doc_scope=False))
                continue
            outer = [s[0] for s in scopes if s is not None]
            qualified = name if keyword == "extension" else ".".join(outer + [name])
            found.append(Decl(t, keyword, name, qualified, doc_scope=False))
        elif t.kind == "id" and t.text == "case" and scopes and scopes[-1] is not None \
                and scopes[-1][1] == "enum" and scopes[-1][2]:
            outer = [s[0] for s in scopes if s is not None]
            j = k + 1
            while j < len(tokens) and tokens[j].kind == "id":  # case a, b, c
                found.append(Decl(t, "case", tokens[j].text, ".".join(outer + [tokens[j].text]), doc_scope=True))
                if j + 1 < len(tokens) and tokens[j + 1].text == ",":
                    j += 2
                else:
                    break
    return found


def has_doc_comment(src, offset):
    """A `///` line, or the end of a `/** */` block, just above the
    declaration's line (attribute lines between them allowed)."""
    lines = src[:offset].split("\n")
    i = len(lines) - 2
    while i >= 0 and lines[i].strip().startswith("@"):
        i -= 1
    if i < 0:
        return False
    line = lines[i].strip()
    if line.startswith("///"):
        return True
    text = "\n".join(lines[:i + 1])
    return line.endswith("*/") and text.startswith("/**", text.rfind("/*"))


def swift_files():
    for root in ROOTS:
        for directory, _, files in os.walk(os.path.join(REPO, root)):
            for name in sorted(files):
                if name.endswith(".swift"):
                    yield os.path.join(directory, name)


def module_of(path):
    parts = os.path.relpath(path, REPO).split(os.sep)
    return parts[1]


def main():
    mode = sys.argv[1] if len(sys.argv) == 2 else ""
    if mode not in ("--apply", "--check"):
        print(__doc__.strip().split("\n\n")[0] + "\n\nUsage: Scripts/public-surface.py --apply | --check", file=sys.stderr)
        return 2
    problems, kit_count, allowed_count, rewritten = [], 0, 0, 0
    used = {module: set() for module in ALLOWED}
    for path in swift_files():
        with open(path, encoding="utf-8") as f:
            src = f.read()
        module, where = module_of(path), os.path.relpath(path, REPO)
        line_of = lambda offset: src.count("\n", 0, offset) + 1
        edits = []
        for decl in declarations(src):
            in_kit = module == KIT and where.startswith("Sources/")
            # `public extension` makes every member public: never allowed outside NookKit,
            # even of an ALLOWED type (its members must be listed one by one).
            allowed = decl.qualified in ALLOWED.get(module, set()) and where.startswith("Sources/") \
                and decl.keyword != "extension"
            if decl.doc_scope and not in_kit and not (module in ALLOWED and decl.qualified.rsplit(".", 1)[0] in ALLOWED[module]):
                continue  # a case of a public enum that is not ours to show
            if not decl.doc_scope and allowed:
                used[module].add(decl.qualified)
            if in_kit or allowed or decl.doc_scope:
                if in_kit:
                    kit_count += 1
                else:
                    allowed_count += 1
                if decl.keyword not in ("extension", "import") and not has_doc_comment(src, decl.token.start):
                    problems.append(f"{where}:{line_of(decl.token.start)}: public {decl.keyword} {decl.qualified} has no doc comment (///)")
                continue
            if mode == "--apply":
                edits.append(decl.token)
            else:
                remedy = "mark the members ALLOWED lists public one by one" if decl.keyword == "extension" \
                    else "add it to ALLOWED"
                problems.append(f"{where}:{line_of(decl.token.start)}: {decl.token.text} {decl.keyword} {decl.qualified} outside "
                                f"NookKit: make it package (Scripts/public-surface.py --apply), or {remedy}")
        if module == KIT and any(t.kind == "attr" and t.text == "@_exported" for t in lex(src)):
            problems.append(f"{where}: @_exported import: re-export only what a harness needs, by public typealias")
        if edits:
            for token in sorted(edits, key=lambda t: -t.start):
                src = src[:token.start] + "package" + src[token.start + len(token.text):]
            with open(path, "w", encoding="utf-8") as f:
                f.write(src)
            rewritten += len(edits)
            print(f"{where}: {len(edits)} made package")
    for module, names in ALLOWED.items():
        for name in sorted(names - used[module]):
            problems.append(f"ALLOWED names {module} {name}, which is not declared public there: renamed or gone? update the list")
    for problem in problems:
        print(problem)
    print(f"public declarations: {kit_count} in NookKit, {allowed_count} of other modules re-exported (ALLOWED)"
          + (f"; {rewritten} made package" if mode == "--apply" else ""))
    return 1 if problems and mode == "--check" else 0


if __name__ == "__main__":
    sys.exit(main())
