#!/usr/bin/env python3
"""The start-up benchmark's driver. Run it through Benchmarks/run.sh (as root).

The driver itself runs as root and never measures anything: each batch of
starts is one `measure` process (Benchmarks/measure.c) that setpriv has
already turned into the unprivileged test user, so a sample is one
fork+exec+wait4 of the runtime by a small C parent, with no setpriv, sudo or
Python in it. Only the standard library is used.
"""

import argparse
import hashlib
import json
import os
import platform
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

# The test users (Scripts/test-users.sh): nooktest has a sub-id range, nooknosub none.
# Their ids and ranges are looked up, never assumed (2000, 2001, 200000:65536 on a fresh machine).
USERS = ("nooktest", "nooknosub")
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
PROBE = ["/bin/sh", "-c", "cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; "
         "grep '^Seccomp:' /proc/self/status; grep -c . /proc/self/mounts"]
BATCH_TIMEOUT = 300  # seconds; a hung runtime fails the benchmark instead of hanging CI


class BenchError(Exception):
    pass


def ids(user):
    """(uid, gid) of a test user, from the passwd database."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise BenchError(f"no user {user}: run Scripts/test-users.sh as root")
    return pw.pw_uid, pw.pw_gid


def subordinate_range(user, path):
    """(start, count) of the user's first range in /etc/subuid or /etc/subgid, as nook reads it:
    the owner is the login name or the number (uid in subuid, gid in subgid); None if none."""
    uid, gid = ids(user)
    number = str(uid if path.endswith("subuid") else gid)
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    for line in lines:
        f = line.split(":")
        if len(f) == 3 and f[0] in (user, number) and f[1].isdigit() and f[2].isdigit() and int(f[2]) > 0:
            return int(f[1]), int(f[2])
    return None


def mapping_text(user):
    """The id maps nook picks for `user`, e.g. "0->2000 + 1..65536->200000" (uid and gid maps alike
    unless they differ)."""
    uid, gid = ids(user)
    r, g = subordinate_range(user, "/etc/subuid"), subordinate_range(user, "/etc/subgid")
    if r is None or g is None:
        u_text, g_text = f"0->{uid}", f"0->{gid}"
    else:
        u_text, g_text = f"0->{uid} + 1..{r[1]}->{r[0]}", f"0->{gid} + 1..{g[1]}->{g[0]}"
    return u_text if u_text == g_text else f"uid {u_text}, gid {g_text}"


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------- processes

def cgroup_hybrid():
    """crun 1.8 refuses hybrid hosts (a cgroup2 mount at /sys/fs/cgroup/unified)."""
    return os.path.ismount("/sys/fs/cgroup/unified") and not os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def as_user(user, argv, hide_unified=False):
    """argv run as `user` via setpriv (real, effective and saved ids; no supplementary groups).
    hide_unified: first, in a private mount namespace of its own, hide the host's
    cgroup2 mount under an empty read-only tmpfs (crun on a hybrid host; the host is unchanged)."""
    uid, gid = ids(user)
    cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] + argv
    if hide_unified:
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount -t tmpfs -o ro tmpfs /sys/fs/cgroup/unified && exec "$@"', "sh"] + cmd
    return cmd


def run_checked(cmd, what, capture=True, timeout=BATCH_TIMEOUT, env=None):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=capture, text=True,
                           timeout=timeout, env=env or ENV)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: timed out after {timeout}s: {' '.join(cmd)}")
    if p.returncode != 0:
        raise BenchError(f"{what}: exit {p.returncode}: {' '.join(cmd)}\n{(p.stderr or '').strip()[-2000:]}")
    return p.stdout


class Runtime:
    def __init__(self, name, user, argv, mapping_note, hide_unified=False, probe_argv=None):
        self.name, self.user, self.argv = name, user, argv
        self.mapping_note = mapping_note
        self.hide_unified = hide_unified
        self.probe_argv = probe_argv
        self.samples = []  # (round, wall_ns, maxrss_kib)
        self.probe = None


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.measure_bin = None
        self.results = {"quick": self.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S %z")}
        self.background = []  # Popen objects of `nook run ... sleep`

    # -- one batch of starts
    def measure(self, user, argv, n, parallel=1, hide_unified=False, what="", allow_fail=False):
        cmd = as_user(user, [self.home(user) + "/bin/measure", "-n", str(n), "-j", str(parallel), "--"] + argv,
                      hide_unified)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=BATCH_TIMEOUT, env=ENV, cwd=self.home(user))
        except subprocess.TimeoutExpired:
            raise BenchError(f"{what}: a batch of {n} starts timed out after {BATCH_TIMEOUT}s")
        runs, total = [], None
        for line in p.stdout.splitlines():
            f = line.split()
            if f[:1] == ["run"]:
                runs.append((int(f[2]), int(f[3]), int(f[4])))
            elif f[:1] == ["total"]:
                total = int(f[1])
        bad = [r for r in runs if r[2] != 0]
        if allow_fail and total is not None:
            return runs, total, bad, p.stderr
        if p.returncode != 0 or bad or total is None:
            code = bad[0][2] if bad else p.returncode
            raise BenchError(f"{what}: {len(bad) or 'a'} start(s) failed (exit {code}) as {user}: "
                             f"{' '.join(argv)}\n{p.stderr.strip()[-2000:]}")
        return runs, total

    def home(self, user):
        return os.path.join(self.work, user)

    # ------------------------------------------------------------ set-up
    def setup(self):
        a = self.args
        self.work = tempfile.mkdtemp(prefix="nook-bench.", dir=a.tmpdir)
        os.chmod(self.work, 0o755)
        for user in USERS:
            uid, gid = ids(user)
            home = self.home(user)
            os.makedirs(home + "/bin")
            for name, src in (("nook", a.nook), ("measure", a.measure), ("floor", a.floor)):
                shutil.copy(src, f"{home}/bin/{name}")
                os.chmod(f"{home}/bin/{name}", 0o755)  # readable: a 0711 nook cannot write its id maps
            for d in ("state", "crun", "runc"):  # state directories: private, as nook insists
                os.makedirs(f"{home}/{d}", mode=0o700)
            run_checked(["chown", "-R", f"{uid}:{gid}", home], "chown")
            os.chmod(home, 0o755)

        # One busybox rootfs, made by nook as the test user; nooknosub gets a copy it owns.
        t = self.home("nooktest")
        self.rootfs = t + "/rootfs"
        run_checked(as_user("nooktest", [t + "/bin/nook", "rootfs", "busybox", self.rootfs]), "nook rootfs busybox")
        # Mount points for the bind-mount test, made now so every runtime sees the same rootfs.
        self.volumes = t + "/volumes"
        for i in range(100):
            os.makedirs(f"{self.volumes}/v{i}")
            os.makedirs(f"{self.rootfs}/mnt/v{i}")
        run_checked(["chown", "-R", "%d:%d" % ids("nooktest"), self.volumes, self.rootfs + "/mnt"], "chown")
        n = self.home("nooknosub")
        run_checked(["cp", "-a", self.rootfs, n + "/rootfs"], "copy rootfs")
        run_checked(["chown", "-hR", "%d:%d" % ids("nooknosub"), n + "/rootfs"], "chown")

        self.nook_help = subprocess.run(as_user("nooktest", ["sh", "-c", f"{t}/bin/nook run --help 2>&1; {t}/bin/nook help run 2>&1"]),
                                        capture_output=True, text=True, env=ENV).stdout
        self.seccomp_flag = "--seccomp " in self.nook_help or "--seccomp <" in self.nook_help
        self.results["environment"] = self.environment()

    def nook_spec_seccomp(self):
        """nook's default seccomp profile (from `nook spec`), to give crun and runc the same filter."""
        t = self.home("nooktest")
        d = t + "/nook-spec"
        os.makedirs(d)
        os.chown(d, *ids("nooktest"))
        p = subprocess.run(as_user("nooktest", [t + "/bin/nook", "spec", "--bundle", d]),
                           capture_output=True, text=True, env=ENV)
        try:
            if p.returncode == 0:
                return json.load(open(d + "/config.json")).get("linux", {}).get("seccomp")
        except (OSError, ValueError):
            pass
        return None

    def write_bundle(self, path, args, seccomp):
        """An OCI bundle with nook's defaults (SpecDefaults.swift): the same namespaces, mounts,
        masked paths and capabilities, and the mapping nook picks for nooktest."""
        caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]
        uid, gid = ids("nooktest")
        r, g = subordinate_range("nooktest", "/etc/subuid"), subordinate_range("nooktest", "/etc/subgid")
        if r is None or g is None:
            raise BenchError("nooktest has no /etc/subuid and /etc/subgid range: run Scripts/test-users.sh")
        mapping = lambda host, sub: [{"containerID": 0, "hostID": host, "size": 1},
                                     {"containerID": 1, "hostID": sub[0], "size": sub[1]}]
        opts = ["nosuid", "noexec", "nodev"]
        cfg = {
            "ociVersion": "1.0.2",
            "process": {
                "terminal": False, "user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/",
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
                "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "inheritable": [], "ambient": []},
                "noNewPrivileges": True,
            },
            "root": {"path": self.rootfs, "readonly": False},
            "hostname": "bench",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc", "options": opts},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
                {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": opts + ["mode=1777", "size=65536k"]},
                {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": opts},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": opts + ["ro"]},
                {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": opts + ["relatime", "ro"]},
            ],
            "linux": {
                "uidMappings": mapping(uid, r), "gidMappings": mapping(gid, g),
                "namespaces": [{"type": t} for t in ("user", "mount", "pid", "network", "uts", "ipc", "cgroup")],
                "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                                "/sys/devices/virtual/powercap"],
                "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            },
        }
        if seccomp:
            cfg["linux"]["seccomp"] = seccomp
        os.makedirs(path, exist_ok=True)
        with open(path + "/config.json", "w") as f:
            json.dump(cfg, f, indent=1)
        run_checked(["chown", "-R", "%d:%d" % ids("nooktest"), path], "chown")

    def runtimes(self):
        t, n = self.home("nooktest"), self.home("nooknosub")
        rs = []
        nook_args = lambda home: [home + "/bin/nook", "run", "--root", home + "/state", "--rootfs", home + "/rootfs", "--"]
        single = lambda user: "0->%d" % ids(user)[0]
        rs.append(Runtime("nook", "nooktest", nook_args(t) + ["/bin/true"],
                          mapping_text("nooktest") + " (sub-id range; nook runs newuidmap/newgidmap)",
                          probe_argv=nook_args(t) + PROBE))
        rs.append(Runtime("nook-nosub", "nooknosub", nook_args(n) + ["/bin/true"],
                          single("nooknosub") + " only (no sub-id range; nook writes the maps itself)",
                          probe_argv=nook_args(n) + PROBE))
        if self.seccomp_flag:
            unconf = nook_args(t)[:-1] + ["--seccomp", "unconfined", "--"]
            rs.append(Runtime("nook-unconfined", "nooktest", unconf + ["/bin/true"],
                              "as nook, with --seccomp unconfined", probe_argv=unconf + PROBE))
            # The bare comparison with bwrap: no filter, a one-line map written by nook itself.
            bare = nook_args(n)[:-1] + ["--seccomp", "unconfined", "--"]
            rs.append(Runtime("nook-bare", "nooknosub", bare + ["/bin/true"],
                              single("nooknosub") + " only, --seccomp unconfined: bwrap's work", probe_argv=bare + PROBE))
        skip = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))
        peers = [p for p in ("crun", "runc", "bwrap") if p not in skip]
        missing = [p for p in peers if not shutil.which(p)]
        for p in missing:
            log(f"note: {p} is not installed: left out")
        if any(p in peers and p not in missing for p in ("crun", "runc")):
            # Same work for all: when nook installs a seccomp filter by default, crun and
            # runc get nook's own profile (from `nook spec`); when it does not, neither do they.
            self.probe(rs[0])
            seccomp = self.nook_spec_seccomp() if rs[0].probe["seccomp"] == "filter" else None
            self.peer_seccomp = bool(seccomp)
            for name, bundle, args in (("bundle", t + "/bundle", ["/bin/true"]), ("probe", t + "/bundle-probe", PROBE)):
                self.write_bundle(bundle, args, seccomp)
        note = mapping_text("nooktest") + " from config.json (the runtime runs newuidmap/newgidmap)"
        if "crun" in peers and "crun" not in missing:
            hide = cgroup_hybrid()
            argv = lambda b: ["crun", "--root", t + "/crun", "run", "--bundle", b, "bench-{i}"]
            rs.append(Runtime("crun", "nooktest", argv(t + "/bundle"), note + (
                "; hybrid cgroups: a private mount ns hides /sys/fs/cgroup/unified" if hide else ""),
                hide_unified=hide, probe_argv=argv(t + "/bundle-probe")))
        if "runc" in peers and "runc" not in missing:
            argv = lambda b: ["runc", "--root", t + "/runc", "run", "--bundle", b, "bench-{i}"]
            rs.append(Runtime("runc", "nooktest", argv(t + "/bundle"), note, probe_argv=argv(t + "/bundle-probe")))
        if "bwrap" in peers and "bwrap" not in missing:
            argv = ["bwrap", "--unshare-all", "--uid", "0", "--gid", "0", "--bind", self.rootfs, "/",
                    "--proc", "/proc", "--dev", "/dev"]
            rs.append(Runtime("bwrap", "nooktest", argv + ["/bin/true"], single("nooktest") + " only (bwrap writes it itself)",
                              probe_argv=argv + PROBE))
        rs.append(Runtime("floor", "nooktest", [t + "/bin/floor", self.rootfs, "/bin/true"],
                          single("nooktest") + " only (written by the parent)", probe_argv=[t + "/bin/floor", self.rootfs] + PROBE))
        return rs

    def probe(self, r):
        """Run the runtime once with a shell that reports its id maps, seccomp mode and mount count."""
        argv = [a.replace("{i}", "probe") for a in r.probe_argv]
        out = run_checked(as_user(r.user, argv, r.hide_unified), f"{r.name}: first container")
        parts = out.split("--\n")
        fmt = lambda text: ", ".join("{}->{}{}".format(f[0], f[1], f"+{int(f[2]) - 1}" if f[2] != "1" else "")
                                     for f in (l.split() for l in text.splitlines()) if len(f) == 3)
        tail = parts[2].split() if len(parts) > 2 else []
        seccomp = {"0": "none", "1": "strict", "2": "filter"}.get(tail[1] if len(tail) > 1 else "", "?")
        r.probe = {"uid_map": fmt(parts[0]), "gid_map": fmt(parts[1]) if len(parts) > 1 else "?",
                   "seccomp": seccomp, "mounts": tail[2] if len(tail) > 2 else "?"}

    def environment(self):
        def version(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
            except Exception:
                return None
        h = hashlib.sha256(open(self.args.nook, "rb").read()).hexdigest()[:16]
        return {
            "kernel": platform.release(), "cpus": os.cpu_count(),
            "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
            "nook": {"path": self.args.nook, "bytes": os.path.getsize(self.args.nook), "sha256": h},
            "crun": version(["crun", "--version"]), "runc": version(["runc", "--version"]),
            "bwrap": version(["bwrap", "--version"]), "cgroups": "hybrid" if cgroup_hybrid() else "unified or v1",
            "loadavg_start": open("/proc/loadavg").read().split()[:3],
        }

    # ------------------------------------------------------------ the benchmarks
    def compare(self):
        rs = self.runtimes()
        log("\n== who runs what (one container each, as the user, printing its own /proc/self/uid_map)")
        for r in rs:
            if r.probe is None:
                self.probe(r)
        w = max(len(r.name) for r in rs)
        log(f"{'runtime':<{w}}  {'user':<9}  {'uid_map inside':<22} {'seccomp':<7} {'mounts':>6}  how")
        for r in rs:
            log(f"{r.name:<{w}}  {r.user:<9}  {r.probe['uid_map']:<22} {r.probe['seccomp']:<7} {r.probe['mounts']:>6}  {r.mapping_note}")

        rounds, n = (3, 5) if self.quick else (self.args.rounds, self.args.n)
        log(f"\n== start-up: /bin/true, {rounds} rounds x {n} starts per runtime, interleaved (after a warm-up round)")
        for rnd in range(-1, rounds):
            order = rs[rnd % len(rs):] + rs[:rnd % len(rs)]  # rotate, so no runtime always goes first
            for r in order:
                runs, _ = self.measure(r.user, r.argv, 2 if rnd < 0 else n, hide_unified=r.hide_unified, what=r.name)
                if rnd >= 0:
                    r.samples += [(rnd, wall, rss) for wall, rss, _ in runs]
            sys.stdout.write("warm-up" if rnd < 0 else f" {rnd + 1}")
            sys.stdout.flush()
        log("")
        rows = {}
        for r in rs:
            walls = sorted(s[1] / 1e6 for s in r.samples)
            rss = [s[2] / 1024 for s in r.samples]
            rows[r.name] = {"user": r.user, "mapping": r.mapping_note, "probe": r.probe, "n": len(walls),
                            "median_ms": statistics.median(walls), "min_ms": walls[0], "max_ms": walls[-1],
                            "p90_ms": walls[int(0.9 * (len(walls) - 1))],
                            "rss_mib": statistics.median(rss), "rss_max_mib": max(rss),
                            "samples": [[s[0], s[1], s[2]] for s in r.samples]}
        self.results["startup"] = rows
        self.results["peer_seccomp"] = getattr(self, "peer_seccomp", False)
        log(f"\n{'runtime':<{w}}  {'median ms':>9}  {'min - max ms':>15}  {'p90 ms':>7}  {'peak RSS MiB':>12}  {'n':>4}")
        for name, s in sorted(rows.items(), key=lambda kv: kv[1]["median_ms"]):
            log(f"{name:<{w}}  {s['median_ms']:>9.2f}  {s['min_ms']:>6.2f} - {s['max_ms']:>6.2f}  "
                f"{s['p90_ms']:>7.2f}  {s['rss_mib']:>12.1f}  {s['n']:>4}")
        log("")
        for nook in [x for x in ("nook", "nook-nosub", "nook-unconfined", "nook-bare") if x in rows]:
            parts = []
            for peer in ("crun", "runc", "bwrap", "floor"):
                if peer in rows:
                    parts.append(f"{nook}/{peer} {rows[nook]['median_ms'] / rows[peer]['median_ms']:.2f}x"
                                 f" (RSS {rows[nook]['rss_mib'] / rows[peer]['rss_mib']:.1f}x)")
            log("ratios (median time, peak RSS): " + ", ".join(parts))
        self.results["ratios"] = {f"{a}/{b}": rows[a]["median_ms"] / rows[b]["median_ms"]
                                  for a in rows if a.startswith("nook") for b in rows if not b.startswith("nook")}
        # Issue 21's three goals, side by side (printed, never asserted).
        goals = []
        if "nook" in rows and "crun" in rows:
            goals.append(f"same work nook/crun {rows['nook']['median_ms'] / rows['crun']['median_ms']:.2f}x (goal 0.5x)")
        if "nook-bare" in rows and "bwrap" in rows:
            goals.append(f"bare nook-bare/bwrap {rows['nook-bare']['median_ms'] / rows['bwrap']['median_ms']:.2f}x (goal 1.5x)")
        if "nook" in rows and "crun" in rows:
            goals.append(f"peak RSS nook {rows['nook']['rss_mib']:.1f} MiB, crun {rows['crun']['rss_mib']:.1f} MiB (goal: below crun)")
        if goals:
            log("goals: " + "; ".join(goals))

    def nook_argv(self, extra=(), command=("/bin/true",)):
        t = self.home("nooktest")
        return [t + "/bin/nook", "run", "--root", t + "/state", "--rootfs", self.rootfs, *extra, "--", *command]

    def parallel(self):
        j, reps = 20, (1 if self.quick else 3)
        log(f"\n== parallel: nook containers ({self.args.parallel_note}), {j} at a time, as nooktest; {reps} repetition(s), median")
        out, errors, started = {}, [], 0
        for count in (25, 50, 100):
            totals, lat, failed = [], [], 0
            for _ in range(reps):
                runs, total, bad, stderr = self.measure("nooktest", self.nook_argv(), count, parallel=j,
                                                        what=f"{count} parallel nook", allow_fail=True)
                if len(runs) != count:
                    raise BenchError(f"parallel: {len(runs)} of {count} containers reported")
                started += count
                failed += len(bad)
                errors += [l for l in stderr.splitlines() if l.strip()]
                totals.append(total / 1e6)
                lat += [w / 1e6 for w, _, _ in runs]
            out[count] = {"total_ms": statistics.median(totals), "totals_ms": totals,
                          "per_container_ms": statistics.median(totals) / count, "failed": failed,
                          "median_start_ms": statistics.median(lat), "max_start_ms": max(lat)}
        base = out[25]["total_ms"] / 25
        log(f"{'containers':>10}  {'total ms':>9}  {'ms/container':>12}  {'vs 25':>6}  {'start median / max ms':>22}  {'failed':>6}")
        for count, s in out.items():
            log(f"{count:>10}  {s['total_ms']:>9.0f}  {s['per_container_ms']:>12.1f}  {s['total_ms'] / out[25]['total_ms']:>5.2f}x"
                f"  {s['median_start_ms']:>10.1f} / {s['max_start_ms']:<9.1f}  {s['failed']:>6}")
        log(f"linear scaling would give 1.00x, 2.00x, 4.00x (ms/container at 100 is "
            f"{out[100]['per_container_ms'] / base:.2f}x that at 25)")
        self.results["parallel"] = out
        failed = sum(s["failed"] for s in out.values())
        self.results["parallel_errors"] = errors
        if failed:
            shown = sorted(set(errors))[:5]
            raise BenchError(f"parallel: {failed} of {started} containers failed:\n  " + "\n  ".join(shown))
        log(f"all {started} containers succeeded")

    def mounts(self):
        counts = (0, 1, 10, 100)
        rounds, n = (2, 5) if self.quick else (5, 10)
        log(f"\n== nook start-up vs bind mounts (-v): {rounds} rounds x {n} starts, interleaved")
        argv = {c: self.nook_argv([x for i in range(c) for x in ("-v", f"{self.volumes}/v{i}:/mnt/v{i}")]) for c in counts}
        samples = {c: [] for c in counts}
        for rnd in range(-1, rounds):
            for c in counts:
                runs, _ = self.measure("nooktest", argv[c], 1 if rnd < 0 else n, what=f"nook with {c} bind mounts")
                if rnd >= 0:
                    samples[c] += [(w / 1e6, rss / 1024) for w, rss, _ in runs]
        out = {}
        base = statistics.median(s[0] for s in samples[0])
        log(f"{'-v flags':>8}  {'median ms':>9}  {'min - max ms':>15}  {'+ms vs 0':>8}  {'ms per mount':>12}  {'RSS MiB':>7}")
        for c in counts:
            w = sorted(s[0] for s in samples[c])
            med = statistics.median(w)
            out[c] = {"median_ms": med, "min_ms": w[0], "max_ms": w[-1], "rss_mib": statistics.median(s[1] for s in samples[c]),
                      "samples_ms": w}
            per = f"{(med - base) / c:.3f}" if c else "-"
            log(f"{c:>8}  {med:>9.2f}  {w[0]:>6.2f} - {w[-1]:>6.2f}  {med - base:>+8.2f}  {per:>12}  {out[c]['rss_mib']:>7.1f}")
        self.results["mounts"] = out

    def start_background(self, count):
        """`count` more `nook run ... sleep 600` as nooktest, one after the other: each starts once
        the previous one's container runs (this section is about running containers, not about
        concurrent starts, which the parallel section tests)."""
        t = self.home("nooktest")
        for _ in range(count):
            p = subprocess.Popen(as_user("nooktest", self.nook_argv(command=("/bin/sleep", "600"))),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=open(t + "/background.err", "a"), env=ENV, cwd=t)
            self.background.append(p)
            deadline = time.time() + 30
            while not self.container_pid(p):
                if p.poll() is not None:
                    raise BenchError(f"background container exited with {p.returncode}: "
                                     + open(t + "/background.err").read().strip()[-1000:])
                if time.time() > deadline:
                    raise BenchError("a background container did not start within 30 s")
                time.sleep(0.005)

    @staticmethod
    def container_pid(p):
        """The container's process: the child of the `nook run` (setpriv exec'd into it) running sleep."""
        try:
            for c in open(f"/proc/{p.pid}/task/{p.pid}/children").read().split():
                if open(f"/proc/{c}/cmdline", "rb").read().startswith(b"/bin/sleep"):
                    return int(c)
        except OSError:
            pass
        return None

    def stop_background(self):
        """Kill each container's process by PID (SIGKILL: as PID 1 of its namespace, sleep ignores
        SIGTERM); its `nook run` then reaps it, removes its state and exits. A `nook run` still
        starting is waited for; SIGKILL goes to nook itself only if it has not exited after 15 s
        (that leaves its state directory behind)."""
        deadline = time.time() + 15
        while self.background and time.time() < deadline:
            for p in self.background:
                c = self.container_pid(p) if p.poll() is None else None
                if c:
                    try:
                        os.kill(c, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.background = [p for p in self.background if p.poll() is None]
            time.sleep(0.01)
        for p in self.background:
            log(f"warning: background `nook run` (pid {p.pid}) did not exit; killing it")
            p.kill()
            p.wait()
        self.background = []

    def running(self):
        levels = (0, 10, 50)
        n = 10 if self.quick else 40
        log(f"\n== nook start-up vs containers already running (nook run ... sleep 600 in the background): {n} starts each")
        out = {}
        try:
            for level in levels + ("0 again",):
                if isinstance(level, int):
                    self.start_background(level - len(self.background))
                else:
                    self.stop_background()
                self.measure("nooktest", self.nook_argv(), 2, what="warm-up")
                runs, _ = self.measure("nooktest", self.nook_argv(), n, what=f"nook with {level} running")
                w = sorted(r[0] / 1e6 for r in runs)
                out[str(level)] = {"median_ms": statistics.median(w), "min_ms": w[0], "max_ms": w[-1],
                                   "rss_mib": statistics.median(r[1] / 1024 for r in runs), "samples_ms": w}
        finally:
            self.stop_background()
        log(f"{'running':>8}  {'median ms':>9}  {'min - max ms':>15}  {'RSS MiB':>7}")
        for level, s in out.items():
            log(f"{level:>8}  {s['median_ms']:>9.2f}  {s['min_ms']:>6.2f} - {s['max_ms']:>6.2f}  {s['rss_mib']:>7.1f}")
        self.results["running"] = out

    def seccomp(self):
        if not self.seccomp_flag:
            log("\n== seccomp default vs unconfined: skipped (this nook has no --seccomp flag)")
            self.results["seccomp"] = None
            return
        rows = self.results["startup"]
        d, u = rows["nook"], rows["nook-unconfined"]
        log(f"\n== seccomp (from the interleaved start-up runs): default {d['median_ms']:.2f} ms "
            f"(seccomp: {d['probe']['seccomp']}), --seccomp unconfined {u['median_ms']:.2f} ms "
            f"(seccomp: {u['probe']['seccomp']}): the filter costs {d['median_ms'] - u['median_ms']:+.2f} ms")
        self.results["seccomp"] = {"default_ms": d["median_ms"], "unconfined_ms": u["median_ms"]}

    def leftovers(self):
        """Every container has ended: nook should have removed every state directory."""
        left = []
        for user in USERS:
            state = self.home(user) + "/state"
            for e in sorted(os.listdir(state)):
                if not e.startswith(".") and os.path.isdir(f"{state}/{e}"):
                    left.append((user, e, sorted(os.listdir(f"{state}/{e}"))))
        if left:
            kinds = sorted(set(" ".join(files) or "(empty)" for _, _, files in left))
            log(f"\nwarning: {len(left)} container state director{'y' if len(left) == 1 else 'ies'} left behind "
                f"after every container ended, holding: {'; '.join(kinds)} (e.g. {left[0][0]}/state/{left[0][1]})")
        else:
            log("\nno container state left behind")
        self.results["state_leftovers"] = [f"{u}/{e}: {' '.join(f)}" for u, e, f in left]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nook", required=True)
    ap.add_argument("--measure", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("-n", type=int, default=10, help="starts per runtime per round")
    ap.add_argument("--out", help="directory for results.json")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--tmpdir", default="/tmp")
    args = ap.parse_args()
    args.parallel_note = "25, 50, 100 x /bin/true"
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root (through Benchmarks/run.sh): it drops to the test users with setpriv")

    b = Bench(args)
    t0 = time.time()
    status = 0
    try:
        b.setup()
        env = b.results["environment"]
        log(f"host: {env['cpus']} x {env['cpu']}, kernel {env['kernel']}, cgroups {env['cgroups']}, "
            f"load average {' '.join(env['loadavg_start'])}")
        log(f"nook: {env['nook']['path']} ({env['nook']['bytes'] / 1e6:.1f} MB, sha256 {env['nook']['sha256']})")
        log(f"peers: {env['crun']}; {env['runc']}; {env['bwrap']}")
        log("timing: Benchmarks/measure.c (fork+exec+wait4 per start, CLOCK_MONOTONIC; peak RSS = wait4 ru_maxrss)")
        failures = []
        # Independent sections: one that fails is reported, the others still run.
        for section in (b.compare, b.seccomp, b.parallel, b.mounts, b.running, b.leftovers):
            if section == b.seccomp and "startup" not in b.results:
                continue
            started = time.time()
            try:
                section()
                if section not in (b.seccomp, b.leftovers):
                    log(f"({section.__name__}: {time.time() - started:.0f} s)")
            except BenchError as e:
                log(f"\nFAILED ({section.__name__}): {e}")
                failures.append(f"{section.__name__}: {e}")
                b.stop_background()
        b.results["failures"] = failures
        if failures:
            status = 1
            log(f"\n{len(failures)} section(s) failed: " + ", ".join(f.split(':')[0] for f in failures))
    except BenchError as e:
        log(f"\nFAILED: {e}")
        status = 1
    except KeyboardInterrupt:
        log("\ninterrupted")
        status = 130
    finally:
        b.stop_background()
        b.results["seconds"] = round(time.time() - t0, 1)
        b.results["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        b.results["status"] = status
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "results.json"), "w") as f:
                json.dump(b.results, f, indent=1, default=str)
        if getattr(b, "work", None):
            if args.keep:
                log(f"work directory kept: {b.work}")
            else:
                shutil.rmtree(b.work, ignore_errors=True)
    log(f"\n{'done' if status == 0 else 'FAILED'} in {time.time() - t0:.0f} s")
    sys.exit(status)


if __name__ == "__main__":
    main()
