#!/usr/bin/env python3
"""Checks that every command in the docs still does what the doc shows: run by Scripts/check-docs.sh.

The docs are transcripts: in a code block, a line `$ CMD` is a command the
user nooktest typed, `# CMD` one root typed, and the lines below it up to the
next prompt are what it printed. A line `nook SUBCOMMAND ...` in a block
without prompts is a command listed without output.

Each nook command (a command line that runs `nook`) must be
  - verbatim in a line of code (not a comment) of a script CI runs
    (Examples/*/run.sh, Examples/*.sh, Scripts/*.sh, Tests/vm/*.sh), or
  - run here, against the built binary, and print what the doc says.
Any other command that shows output is run and compared the same way.
Every doc is replayed in its own lab directory, in order, every `$` line
(setup commands too) as nooktest, every `#` line as root (skipped when this
script does not run as root). A lab holds `./rootfs` (`nook rootfs busybox`
with the test probe as /bin/probe) and the doc's files (below), nothing else:
the docs' own setup lines make the rest.

What a command printed must be exactly what the doc shows, line for line, with
three allowances only:
  - runs of spaces count as one (column widths vary), blank lines are ignored,
    and the lab's path and the state directory stand for the doc's own
    (DOCS[doc]["paths"]; /tmp/nook-UID and $XDG_RUNTIME_DIR/nook);
  - a line holding only `...` stands for any number of lines (an excerpt);
  - the parts that change from run to run or host to host are marked in the doc
    with a placeholder, and only there is any value accepted:
      {date} a date or time   {pid} a process id     {id} a generated container id
      {n} a varying number    {size} a size          {duration} a duration
      {host} a host-specific word (hostname, mount options)  {text} any text
Everything else (a count, an exit code, a uid, a mapping, a file list) is
compared literally. A command's exit status must be 0, unless the doc states
another with a line `[exit N]` after its output. The docs were captured as nooktest with uid 2000 and the
sub-id range 200000:65536 (nooknosub: 2001): where the test users have other
ids, the ids in the output are mapped back to those before comparing.

--shift-dates checks a copy of the docs whose dates and times were moved to
another year, month and hour, with the commands run in another time zone: a doc
that only passes on the day it was captured fails there.

Docs whose commands need the cgroup v2 guest (Docs/cgroups.md) are replayed
too, but only checked for what the host can tell: nook accepted the command
line (no usage error). A comment on the line before a block changes how it is read:
  <!-- check-docs: skip REASON -->   not a transcript (a diagram, a log, a table),
                                     or one the checker cannot replay; not read
  <!-- check-docs: user NAME -->     its `$` lines run as NAME (nooknosub: no sub-ids)
  <!-- check-docs: file NAME -->     its text is a file the commands use:
                                     written into the lab as NAME before any runs
  <!-- check-docs: host -->          in a doc checked only for parsing: this block
                                     runs on this host as it is, so it is compared

Usage: check-docs.py NOOK [--shift-dates] [DOC...]      (default: Docs/*.md,
README.md, Examples/README.md, Examples/*/README.md). Exit status: 0 when every command
passed, 1 otherwise.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCROOT = [REPO]   # where the docs are read from: a rewritten copy with --shift-dates
LAB_TZ = [None]    # the time zone the commands run in (None: the host's)
TEST_USER = "nooktest"
TIMEOUT = 30
LISTED_TIMEOUT = 5

# Per doc: the lab paths its output was captured in (replaced by the lab's own),
# and its mode: "replay" (compare output) or "parse" (needs the cgroup v2 guest:
# check only that nook accepted the command line).
DOCS = {
    # "got TERM": the container prints it on the terminal `nook create` ran in.
    "Docs/lifecycle.md": {"paths": ["/var/tmp/nook-docs3/life", "/var/tmp/nook-docs3/run"],
                          "not_compared": ["got TERM"]},
    "Docs/using.md": {"paths": ["/tmp/lab2", "/tmp/lab", "/tmp/rootlab"]},
    "Docs/security.md": {"paths": ["/tmp/lab", "/tmp/rootlab"]},
    "Docs/cgroups.md": {"mode": "parse"},
    # host_ports: the doc's loopback ports ("127.0.0.1:8080"), replaced by free ones when replayed
    # (and back to the doc's in what the commands print).
    "Docs/networking.md": {"paths": ["/tmp/netlab"], "host_ports": [8080]},
    "Docs/walkthrough.md": {"paths": ["/tmp/docs-nook"]},
}

USAGE_ERROR = re.compile(
    r"^nook: (Unknown option|Missing expected argument|Unexpected argument|The value .* is invalid"
    r"|unknown option|Error:)|^Usage: |^USAGE: .*\n.*See 'nook", re.M)


def ci_text():
    files = []
    for pattern in ("Examples/*/run.sh", "Examples/*.sh", "Scripts/*.sh", "Tests/vm/*.sh"):
        files += glob.glob(os.path.join(REPO, pattern))
    # Code only: a command named in a comment is not run by CI.
    lines = []
    for f in sorted(files):
        for line in open(f, encoding="utf-8", errors="replace"):
            if not line.lstrip().startswith("#"):
                lines.append(line.rstrip("\n"))
    return "\n".join(lines)


def free_port():
    """A TCP port nothing listens on at 127.0.0.1 right now (the kernel picks it)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_ports(cmd, ports):
    """cmd with each 127.0.0.1:PORT the doc uses replaced by the free port picked for it."""
    for doc_port, port in ports.items():
        cmd = re.sub(rf"\b127\.0\.0\.1:{doc_port}\b", f"127.0.0.1:{port}", cmd)
    return cmd


def as_doc_ports(out, ports):
    """What a command printed, with the free ports put back as the doc's."""
    for doc_port, port in ports.items():
        out = re.sub(rf"\b{port}\b", str(doc_port), out)
    return out


def subcommands(nook):
    out = subprocess.run([nook, "--help"], capture_output=True, text=True).stdout
    section = out.split("SUBCOMMANDS:", 1)[-1]
    return set(re.findall(r"^  ([a-z][a-z-]*) ", section, re.M))


def runs_nook(cmd):
    """Whether a shell command line runs nook (as a command, not a path or a word)."""
    return re.search(r"""(^|[;&|(`"']\s*|\s)nook (help|run|create|start|state|kill|delete|list|ps|exec|spec|stats"""
                     r"""|pause|resume|logs|wait|stop|rm|rootfs|audit|-)""", cmd) is not None


class Entry:
    def __init__(self, doc, line, kind, cmd, user=TEST_USER):
        self.doc, self.line, self.kind, self.cmd, self.user = doc, line, kind, cmd, user
        self.expected = []
        self.exit = 0
        self.on_host = False   # a block marked `host` in a doc checked only for parsing: compared all the same   # the exit status the doc states with a line `[exit N]`; 0 when it states none


def parse(doc, subs):
    """The prompts, listed commands and files of a doc's code blocks, in order."""
    entries = []
    lines = open(os.path.join(DOCROOT[0], doc), encoding="utf-8").read().split("\n")
    in_block = False
    marker = None
    block = []
    last_text = ""
    indent = 0
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("```") and (not in_block or len(line) - len(line.lstrip()) <= indent):
            if not in_block:
                # A block in a list item is indented: its lines lose the fence's indentation.
                indent = len(line) - len(line.lstrip())
                line = line.lstrip()
                in_block, block = True, []
                m = re.match(r"<!-- check-docs: (skip|user|file|host)\b\s*(\S*)", last_text)
                marker = (m.group(1), m.group(2)) if m else None
                if marker is None and line.strip() not in ("```", "```sh", "```console"):
                    marker = ("skip", "")
                continue
            in_block = False
            if marker and marker[0] == "file":
                e = Entry(doc, number, "file", marker[1])
                e.expected = [l for _, l in block]
                entries.append(e)
            elif not (marker and marker[0] == "skip"):
                found = block_entries(doc, block, subs, marker[1] if marker and marker[0] == "user" else TEST_USER)
                for e in found:
                    e.on_host = bool(marker and marker[0] == "host")
                entries += found
            continue
        if in_block:
            block.append((number, line[indent:] if line[:indent].strip() == "" else line))
        elif line.strip():
            last_text = line.strip()
    return entries


def block_entries(doc, block, subs, user):
    prompts = any(l.startswith("$ ") or (l.startswith("# ") and runs_nook(l[2:])) for _, l in block)
    entries, current = [], None
    for number, line in block:
        if line.startswith("$ "):
            current = Entry(doc, number, "user", line[2:], user)
            entries.append(current)
        elif line.startswith("# ") and runs_nook(line[2:]):
            current = Entry(doc, number, "root", line[2:], "root")
            entries.append(current)
        elif not prompts:
            words = line.split()
            if len(words) >= 2 and words[0] == "nook" and words[1] in subs:
                # A listed command: drop a trailing comment.
                entries.append(Entry(doc, number, "listed", re.sub(r"\s+#\s.*$", "", line).rstrip("\\ "), user))
        elif current is not None:
            m = EXIT_LINE.match(line.strip())
            if m:
                current.exit = int(m.group(1))
            else:
                current.expected.append(line)
    return entries


# `[exit N]` after a command's output: the status it exits with (else it must be 0).
EXIT_LINE = re.compile(r"^\[exit (\d+)\]$")


# The volatile parts of a transcript are marked in the doc with a placeholder;
# everything else is compared literally (after the lab's paths are put back and
# runs of spaces, which vary with column widths, are collapsed to one).
PLACEHOLDERS = {
    # ls -l (`Dec  3 09:35`, `Dec  3  2025`), ISO 8601 and RFC 3339 times, date(1).
    "date": r"(?:[A-Z][a-z]{2} \d{1,2} (?:\d{2}:\d{2}|\d{4})"
            r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?(?:Z|[+-]\d{2}:?\d{2}))?(?: [A-Z]{2,5})?)?"
            r"|(?:[A-Z][a-z]{2} )?[A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2}(?: [A-Z]{2,5})? \d{4})",
    "pid": r"\d+",                                    # a process id
    "n": r"\d+",                                      # a count or number that varies from run to run
    "size": r"\d+(?:\.\d+)?(?: ?(?:[KMGTP]i?B?|B|bytes))?",  # bytes, or with a unit
    "duration": r"\d+(?:\.\d+)?(?: ?(?:ns|us|µs|ms|s|m|h|seconds?|minutes?|hours?))?",
    "id": r"[0-9a-f]{12,64}",                         # a generated container id
    "atime": r"(?:relatime|noatime|strictatime)(?:,nodiratime)?",  # the atime flag a bind keeps from its source
    "host": r"\S+",                                  # a word that depends on the host (hostname, mount options)
    "text": r".*?",                                   # any text within the line
}
PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
ANY_LINES = "..."   # a line holding only this stands for any number of lines (zero or more)

# The ids the docs were captured with: nooktest (uid/gid 2000, sub-ids 200000:65536)
# and nooknosub (2001). Where the test users have other ids, the output is mapped back.
DOC_IDS = {"nooktest": 2000, "nooknosub": 2001}
DOC_SUB_START = 200000


def id_translation():
    """Actual id -> documented id, for every id of the test users that differs from the docs:
    uids, gids, and the sub-uid and sub-gid ranges. (Ids computed from these, such as the
    third line of a keep-id map, cannot be mapped back: those docs need the documented ids.)"""
    import pwd
    table = {}
    for name, doc in DOC_IDS.items():
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        for actual in (pw.pw_uid, pw.pw_gid):
            if actual != doc:
                table[actual] = doc
    for f in ("/etc/subuid", "/etc/subgid"):
        try:
            for line in open(f):
                user, start, count = (line.strip().split(":") + ["", "", ""])[:3]
                if user == "nooktest" and start.isdigit() and count.isdigit() and int(start) != DOC_SUB_START:
                    table[("range", int(start), int(count))] = DOC_SUB_START
        except OSError:
            pass
    return table


IDS = id_translation()


def as_documented(text):
    if not IDS:
        return text

    def one(m):
        n = int(m.group(0))
        if n in IDS:
            return str(IDS[n])
        for k, doc in IDS.items():
            if isinstance(k, tuple) and k[1] <= n < k[1] + k[2]:
                return str(doc + n - k[1])
        return m.group(0)
    return re.sub(r"\b\d+\b", one, text)


def clean(text, lab, paths, doc=False):
    """A line as the check sees it: the lab's and the state directory's paths named, escapes gone, spaces collapsed.
    The doc's side names the paths it was captured in (its lab paths, /tmp/nook-2000); what was
    printed, only the lab's own (the lab sets XDG_RUNTIME_DIR: a state directory elsewhere shows)."""
    for slash in ("/", "\\/"):   # JSON may escape its slashes
        def path(p):
            return p.replace("/", slash)
        if doc:
            text = re.sub(re.escape(path("/tmp/nook-")) + r"\d+\b", "STATE", text)
            for p in sorted(paths, key=len, reverse=True):
                text = text.replace(path(p + "/nook"), "STATE").replace(path(p), "LAB")
        else:
            text = text.replace(path(lab + "/.run/nook"), "STATE")
        text = text.replace(path(lab), "LAB")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def pattern(line, lab, paths):
    """A doc line as a regular expression: literal text, placeholders as their patterns."""
    text = clean(line, lab, paths, doc=True)
    if text == ANY_LINES:
        return ANY_LINES
    out, pos = [], 0
    for m in PLACEHOLDER.finditer(text):
        out.append(re.escape(text[pos:m.start()]))
        out.append("(?:" + PLACEHOLDERS[m.group(1)] + ")")
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return re.compile("".join(out))


def matches(expected, actual, lab, paths, not_compared=()):
    """The doc's lines are exactly the lines printed (blank lines aside), a line `...`
    standing for any number of lines. Returns None, or the first doc line that has
    no match (or a description of what was printed beyond the doc's lines)."""
    want = [pattern(l, lab, paths) for l in expected if l.strip() and l not in not_compared]
    have = [clean(as_documented(l), lab, paths) for l in actual.replace("\r", "").split("\n")]
    have = [l for l in have if l and l not in not_compared]
    # Furthest doc line reached, for the message; memoised search over (doc line, printed line).
    best = [0]
    seen = set()

    def walk(i, j):
        if (i, j) in seen:
            return False
        seen.add((i, j))
        best[0] = max(best[0], i)
        if i == len(want):
            return j == len(have)
        if want[i] is ANY_LINES:
            return any(walk(i + 1, k) for k in range(j, len(have) + 1))
        return j < len(have) and want[i].fullmatch(have[j]) is not None and walk(i + 1, j + 1)

    if walk(0, 0):
        return None
    if best[0] < len(want):
        shown = [l for l in expected if l.strip() and l not in not_compared]
        return shown[best[0]]
    return "(nothing more: the command printed more lines than the doc shows; end the block with a line `...` if that is meant)"


class Lab:
    """A directory to replay one doc in: ./rootfs, nook on PATH, a private state directory."""

    def __init__(self, root, nook, probe, user):
        self.user = user
        self.as_root = user == "root"
        self.dir = tempfile.mkdtemp(prefix="nook-docs-", dir=root)
        os.chmod(self.dir, 0o755)
        os.makedirs(self.dir + "/.bin")
        shutil.copy(nook, self.dir + "/.bin/nook")
        os.makedirs(self.dir + "/.run", mode=0o700)
        if os.geteuid() == 0 and not self.as_root:
            subprocess.run(["chown", "-R", f"{user}:{user}", self.dir], check=True)
        self.env = {"PATH": self.dir + "/.bin:/usr/local/bin:/usr/bin:/bin", "HOME": self.dir,
                    "XDG_RUNTIME_DIR": self.dir + "/.run", "LANG": "C.UTF-8", "TERM": "xterm"}
        if LAB_TZ[0]:
            self.env["TZ"] = LAB_TZ[0]
        self.run("nook rootfs busybox ./rootfs >/dev/null && cp .probe rootfs/bin/probe"
                 if self.stage(probe) else "nook rootfs busybox ./rootfs >/dev/null")

    def stage(self, probe):
        if not probe:
            return False
        shutil.copy(probe, self.dir + "/.probe")
        if os.geteuid() == 0 and not self.as_root:
            subprocess.run(["chown", f"{self.user}:{self.user}", self.dir + "/.probe"], check=True)
        return True

    def run(self, cmd, timeout=TIMEOUT):
        argv = ["bash", "-c", cmd]
        if os.geteuid() == 0 and not self.as_root:
            argv = ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--clear-groups"] + argv
        # Output into a file, not a pipe: a container the command leaves running
        # (`nook create`, `nook run -d`) may keep its stdout open for a long time.
        with tempfile.TemporaryFile() as out:
            p = subprocess.Popen(["env", "-i"] + [f"{k}={v}" for k, v in self.env.items()] + argv,
                                 cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
            try:
                rc = p.wait(timeout=timeout)
                note = ""
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)  # the process group this command started, by its pid
                rc, note = p.wait(), f"\n(timed out after {timeout} s)"
            out.seek(0)
            return rc, out.read().decode("utf-8", "replace") + note

    def write(self, name, lines):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        if os.geteuid() == 0 and not self.as_root:
            subprocess.run(["chown", f"{self.user}:{self.user}", path], check=True)

    def close(self):
        # Containers a doc left behind, then the lab.
        self.run("for c in $(nook list -q 2>/dev/null); do nook delete --force $c >/dev/null 2>&1; done; "
                 "for c in $(nook ps -aq 2>/dev/null); do nook rm -f $c >/dev/null 2>&1; done; chmod -R u+rwX . 2>/dev/null")
        shutil.rmtree(self.dir, ignore_errors=True)


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def shift_dates(text):
    """The same text, its dates and times moved to another year, month and hour: ls's
    `Nov 29 06:43` and `Nov 29  2025`, ISO 8601 `2026-11-29T06:43:12Z`, date(1)'s form."""
    def month(m):
        return MONTHS[(MONTHS.index(m) + 5) % 12]

    def hhmm(t):
        parts = t.split(":")
        parts[0] = "%02d" % ((int(parts[0]) + 7) % 24)
        return ":".join(parts)
    mon = "(" + "|".join(MONTHS) + ")"
    # One pass each: a rewritten date is never rewritten again.
    text = re.sub(r"\b(\d{4})-(\d{2})-(\d{2})(?!\d)(?:([T ])(\d{2}:\d{2}(?::\d{2})?)(?!\d))?",
                  lambda m: "%d-%02d-%s" % (int(m.group(1)) + 3, (int(m.group(2)) + 4) % 12 + 1, m.group(3))
                  + (m.group(4) + hhmm(m.group(5)) if m.group(4) else ""), text)
    text = re.sub(r"\b" + mon + r"( +\d{1,2} +)(\d{2}:\d{2}(?::\d{2})?)\b",
                  lambda m: month(m.group(1)) + m.group(2) + hhmm(m.group(3)), text)
    text = re.sub(r"\b" + mon + r"( +\d{1,2} +)(\d{4})\b",
                  lambda m: month(m.group(1)) + m.group(2) + str(int(m.group(3)) + 3), text)
    text = re.sub(r"(\d{2}:\d{2}:\d{2} [A-Z]{2,5} )(\d{4})\b", lambda m: m.group(1) + str(int(m.group(2)) + 3), text)
    return text


def shifted_copy(docs, into):
    """Copies of the docs with every date and time rewritten (shift_dates): the check must pass on them too."""
    for doc in docs:
        os.makedirs(os.path.dirname(os.path.join(into, doc)), exist_ok=True)
        with open(os.path.join(REPO, doc), encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(into, doc), "w", encoding="utf-8") as f:
            f.write(shift_dates(text))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    args = sys.argv[1:]
    shift = "--shift-dates" in args
    args = [a for a in args if a != "--shift-dates"]
    nook = os.path.abspath(args[0])
    docs = args[1:] or (sorted(os.path.relpath(p, REPO) for p in glob.glob(REPO + "/Docs/*.md"))
                            + ["README.md", "Examples/README.md"]
                            + sorted(os.path.relpath(p, REPO) for p in glob.glob(REPO + "/Examples/*/README.md")))
    subs = subcommands(nook)
    ci = ci_text()
    root = os.geteuid() == 0
    probe = os.environ.get("PROBE", "")
    tmp = tempfile.mkdtemp(prefix="nook-check-docs-")
    os.chmod(tmp, 0o755)
    if shift:
        # The month changed, the year too, and the commands run in another time zone:
        # nothing the check compares may depend on either.
        DOCROOT[0] = tmp + "/shifted-docs"
        shifted_copy(docs, DOCROOT[0])
        LAB_TZ[0] = "Pacific/Chatham"
        print(f"check-docs: docs with their dates rewritten (in {DOCROOT[0]}), commands run with TZ={LAB_TZ[0]}")
    if not probe and os.path.exists(REPO + "/Tests/probe/build.sh"):
        b = subprocess.run(["bash", REPO + "/Tests/probe/build.sh", tmp + "/probe-build"], capture_output=True, text=True)
        probe = tmp + "/probe-build/probe" if b.returncode == 0 else ""
        if not probe:
            print("check-docs: could not build Tests/probe (gcc?); commands using it will fail")

    counts = {"ci": 0, "ran": 0, "parsed": 0, "skipped": 0, "failed": 0}
    failures = []
    start = time.time()
    try:
        for doc in docs:
            cfg = DOCS.get(doc, {})
            mode = cfg.get("mode", "replay")
            paths = cfg.get("paths", [])
            entries = parse(doc, subs)
            if not any(runs_nook(e.cmd) for e in entries):
                continue
            labs = {}
            ports = {p: free_port() for p in cfg.get("host_ports", [])}

            def lab(user):
                if user not in labs:
                    labs[user] = Lab(tmp, nook, probe, user)
                return labs[user]

            doc_counts = dict.fromkeys(counts, 0)
            try:
                # A doc's files are there from the start: a command may use one shown further down.
                for e in entries:
                    if e.kind == "file":
                        lab(TEST_USER).write(e.cmd, e.expected)
                for e in entries:
                    if e.kind == "file":
                        continue
                    checked = runs_nook(e.cmd)
                    cmd = e.cmd.replace("/work/main/", REPO + "/")
                    if checked and cmd in ci:
                        doc_counts["ci"] += 1
                        continue
                    cmd = with_ports(cmd, ports)
                    if e.user != TEST_USER and not root:
                        # Root's commands, or another user's: only root can switch users.
                        doc_counts["skipped"] += checked
                        continue
                    t0 = time.time()
                    # A listed command shows no output: it only has to be accepted, which is said at once.
                    rc, out = lab(e.user).run(cmd, LISTED_TIMEOUT if e.kind == "listed" else TIMEOUT)
                    out = as_doc_ports(out, ports)
                    if time.time() - t0 > 5:
                        print(f"check-docs: {e.doc}:{e.line} took {time.time() - t0:.0f} s")
                    # Any command that shows output is compared, nook's or not (`ls -ln data`).
                    if not checked and not any(l.strip() for l in e.expected):
                        continue
                    usage = USAGE_ERROR.search(out) if checked else None
                    if usage and not any(USAGE_ERROR.search(l) for l in e.expected):
                        doc_counts["failed"] += 1
                        failures.append((e, f"nook did not accept the command line: {usage.group(0).strip()}", out))
                        continue
                    if (mode == "parse" and not e.on_host) or e.kind == "listed":
                        doc_counts["parsed"] += 1
                        continue
                    missing = matches(e.expected, out, lab(e.user).dir, paths, cfg.get("not_compared", ()))
                    why = f"the doc shows a line it did not print: {missing}" if missing is not None else None
                    if why is None and rc != e.exit:
                        why = (f"it exited {rc}; the doc states [exit {e.exit}]" if e.exit
                               else f"it exited {rc}; the doc states no exit status, so 0 (add a line [exit {rc}] if that is meant)")
                    if why is None:
                        doc_counts["ran"] += 1
                    else:
                        doc_counts["failed"] += 1
                        failures.append((e, why, out))
            finally:
                for l in labs.values():
                    l.close()
            for k in counts:
                counts[k] += doc_counts[k]
            print(f"check-docs: {doc}: {doc_counts['ci']} in CI scripts, {doc_counts['ran']} run and matching, "
                  f"{doc_counts['parsed']} run and accepted (output not compared), {doc_counts['skipped']} skipped "
                  f"(another user's: run as root to check them), {doc_counts['failed']} FAILED")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for e, why, out in failures:
        print(f"\nFAIL {e.doc}:{e.line}: {e.cmd}\n  {why}\n  it printed:")
        for l in out.rstrip().split("\n")[:25]:
            print("    " + l)
    total = sum(counts.values())
    print(f"\ncheck-docs: {total} commands in {len(docs)} docs: {counts['ci']} in CI scripts, "
          f"{counts['ran']} run and matching, {counts['parsed']} run and accepted, {counts['skipped']} skipped, "
          f"{counts['failed']} failed ({time.time() - start:.0f} s)")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
