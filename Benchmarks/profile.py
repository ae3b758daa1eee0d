#!/usr/bin/env python3
"""Where `nook run -- /bin/true` spends its time. Run it through `Benchmarks/run.sh --profile`.

Three views, all as the unprivileged test users:
1. differential timings: nook cut short at different points (its binary only,
   its option parsing, no seccomp, no sub-id range), interleaved like the
   benchmark; the differences are the phases' real costs;
2. strace: `strace -c -f` (system calls) and `strace -f -ttt -T` (a timeline)
   of one start, for nooktest (sub-id range: newuidmap/newgidmap) and
   nooknosub (none). strace runs as root with `-u USER`, so the setuid
   helpers keep working while traced; everything it traces is slowed down, so
   the timeline's shares are indicative, the differential timings are the figures;
3. perf (cpu-clock sampling; this VM has no hardware counters), when it works:
   CPU per start by shared object and the heaviest Swift frames.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same directory)


def median_ms(b, user, argv, n, any_status=False):
    cmd = [b.home(user) + "/bin/measure", "-n", str(n)] + (["-a"] if any_status else []) + ["--"] + argv
    p = subprocess.run(bench.as_user(user, cmd), capture_output=True, text=True, env=bench.ENV, cwd=b.home(user),
                       timeout=bench.BATCH_TIMEOUT)
    if p.returncode != 0:
        raise bench.BenchError(f"profile: {' '.join(argv)}: {p.stderr.strip()[-1000:]}")
    return [(int(f[2]) / 1e6, int(f[3]) / 1024) for f in (l.split() for l in p.stdout.splitlines()) if f[0] == "run"]


def differential(b, rounds, n):
    t, s = b.home("nooktest"), b.home("nooknosub")
    run = lambda home, *extra: [home + "/bin/nook", "run", "--root", home + "/state", "--rootfs", home + "/rootfs",
                                *extra, "--", "/bin/true"]
    cases = [
        ("A", "nooktest", ["/bin/true"], False, "host /bin/true (fork+exec+wait of a tiny program)"),
        ("B", "nooktest", ["newuidmap"], True, "newuidmap alone (usage error: exec of the setuid helper)"),
        ("C", "nooktest", [t + "/bin/nook", "list", "--root", t + "/state"], False,
         "nook list (load, Swift runtime, ArgumentParser, state scan)"),
        ("D", "nooktest", [t + "/bin/nook", "run", "--root", t + "/state", "--rootfs", "/nonexistent", "--", "/bin/true"], True,
         "nook run, rootfs missing (+ run's options, spec, id mapping)"),
        ("E", "nooknosub", run(s, "--seccomp", "unconfined"), False, "nook run, no sub-ids, no seccomp"),
        ("F", "nooknosub", run(s), False, "nook run, no sub-ids"),
        ("G", "nooktest", run(t, "--seccomp", "unconfined"), False, "nook run, sub-ids, no seccomp"),
        ("H", "nooktest", run(t), False, "nook run, sub-ids (the default for nooktest)"),
        ("I", "nooktest", [t + "/bin/floor", t + "/rootfs", "/bin/true"], False, "floor (the kernel's minimum)"),
    ]
    if not b.seccomp_flag:
        cases = [c for c in cases if "--seccomp" not in c[2]]
    samples = {c[0]: [] for c in cases}
    for rnd in range(rounds + 1):
        for key, user, argv, any_status, _ in cases:
            got = median_ms(b, user, argv, n, any_status)
            if rnd:
                samples[key] += got
    med = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    rss = {k: statistics.median(r for _, r in v) for k, v in samples.items()}
    bench.log(f"\n== differential timings: {rounds} rounds x {n}, interleaved, medians")
    for key, user, _, _, what in cases:
        bench.log(f"  {key}  {med[key]:7.2f} ms  {rss[key]:5.1f} MiB  {what}  [{user}]")
    d = lambda a, c: med[a] - med[c] if a in med and c in med else float("nan")
    phases = [
        ("seccomp filter (compile in the parent + load)", (d("H", "G") + d("F", "E")) / 2),
        ("newuidmap + newgidmap (sub-id range)", (d("H", "F") + d("G", "E")) / 2),
        ("binary start: loading, Swift runtime, ArgumentParser, state scan (C - A)", d("C", "A")),
        ("run's own options, spec, id mapping (D - C)", d("D", "C")),
        ("container: clone, mounts, pivot_root, exec, wait, state files (E - D)", d("E", "D")),
        ("  of which the kernel's minimum (floor - A)", d("I", "A")),
        ("fork+exec+wait of any program (A)", med["A"]),
    ]
    bench.log("  phases (differences of the medians above):")
    for what, ms in phases:
        bench.log(f"    {ms:6.2f} ms  {what}")
    return {"medians_ms": med, "rss_mib": rss, "cases": {c[0]: c[4] for c in cases}, "phases": dict(phases)}


def strace(b, out):
    if not shutil.which("strace"):
        bench.log("\n== strace: not installed, skipped")
        return {}
    result = {}
    for user in ("nooktest", "nooknosub"):
        h = b.home(user)
        argv = [h + "/bin/nook", "run", "--root", h + "/state", "--rootfs", h + "/rootfs", "--", "/bin/true"]
        c_file, t_file = f"{out}/strace-c-{user}.txt", f"{out}/strace-tt-{user}.txt"
        for args, f in ((["-c", "-S", "time"], c_file), (["-ttt", "-T", "-s", "100"], t_file)):
            subprocess.run(["strace", "-u", user, "-f", *args, "-o", f, *argv], check=True, env=bench.ENV, cwd=h,
                           stdout=subprocess.DEVNULL, timeout=120)
        lines = open(c_file).read().splitlines()
        total = next((l.split() for l in lines if l.strip().endswith(" total")), [])
        calls = total[3] if len(total) >= 5 else "?"
        bench.log(f"\n== strace -c -f, {user}: {calls} system calls in all processes; the top 8 by system time:")
        for l in lines[2:10]:
            bench.log("   " + l)
        result[user] = {"timeline": timeline(t_file), "syscalls": calls}
        bench.log("   timeline (strace -f -ttt; ms since execve, slowed down by tracing):")
        for name, ms in result[user]["timeline"]:
            bench.log(f"     {ms:8.2f}  {name}")
    return result


def timeline(path):
    """Milestones of one traced start, in ms since nook's execve."""
    rows = []
    for line in open(path).read().splitlines():
        f = line.split(None, 2)
        if len(f) == 3:
            rows.append((f[0], float(f[1]), f[2]))
    if not rows:
        return []
    nook, t0 = rows[0][0], rows[0][1]

    def first(pred, after=0.0):
        return next((r for r in rows if r[1] >= after and pred(r)), None)

    def pid_of(text):
        r = first(lambda r: text in r[2])
        return r[0] if r else None

    uidmap, gidmap, container = pid_of('execve("/usr/bin/newuidmap"'), pid_of('execve("/usr/bin/newgidmap"'), pid_of('execve("/bin/true"')
    memfd = first(lambda r: r[0] == nook and 'memfd_create("nook-seccomp"' in r[2])
    marks = [
        ("options parsed, Runtime created (first getuid)", first(lambda r: r[0] == nook and r[2].startswith("getuid("))),
        ("seccomp compile starts (libseccomp probes the kernel)", first(lambda r: "SECCOMP_SET_MODE_STRICT" in r[2])),
        ("seccomp compile done (BPF read back from the memfd)",
         memfd and first(lambda r: r[0] == nook and r[2].startswith("pread64("), memfd[1])),
        ("state directory created", first(lambda r: r[0] == nook and r[2].startswith("mkdir(") and "/state/" in r[2])),
        ("clone3: the container's namespaces", first(lambda r: r[0] == nook and r[2].startswith("clone3(") and "CLONE_NEWUSER" in r[2])),
        ("newuidmap starts", uidmap and first(lambda r: r[0] == uidmap and r[2].startswith('execve("/usr/bin/newuidmap"'))),
        ("newuidmap exits", uidmap and first(lambda r: r[0] == uidmap and r[2].startswith("+++ exited"))),
        ("newgidmap exits", gidmap and first(lambda r: r[0] == gidmap and r[2].startswith("+++ exited"))),
        ("state.json written (fsync + rename)", first(lambda r: r[0] == nook and r[2].startswith("rename(") and "state.json" in r[2])),
        ("child: pivot_root", first(lambda r: r[2].startswith("pivot_root("))),
        ("child: seccomp filter loaded", first(lambda r: r[2].startswith("seccomp(SECCOMP_SET_MODE_FILTER, 0,"))),
        ("child: execve /bin/true", container and first(lambda r: r[0] == container and r[2].startswith('execve("/bin/true"'))),
        ("container exited", container and first(lambda r: r[0] == container and r[2].startswith("+++ exited"))),
        ("nook exits", first(lambda r: r[0] == nook and r[2].startswith("+++ exited"))),
    ]
    return sorted(((name, (r[1] - t0) * 1000) for name, r in marks if r), key=lambda x: x[1])


def perf(b, out, runs=40):
    if not shutil.which("perf"):
        bench.log("\n== perf: not installed, skipped")
        return {}
    h = b.home("nooktest")
    loop = f"{h}/loop.sh"
    with open(loop, "w") as f:
        f.write("#!/bin/sh\n" + f"for i in $(seq {runs}); do {h}/bin/nook run --root {h}/state --rootfs {h}/rootfs -- /bin/true; done\n")
    os.chmod(loop, 0o755)
    data = f"{out}/perf.data"
    p = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "10000", "-g", "-o", data, "--"]
                       + bench.as_user("nooktest", [loop]), capture_output=True, text=True, env=bench.ENV)
    if p.returncode != 0:
        bench.log(f"\n== perf: did not work here ({p.stderr.strip().splitlines()[-1:] or p.returncode}), skipped")
        return {}
    rep = lambda *a: subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", *a],
                                    capture_output=True, text=True).stdout
    # Each sample: a line with the command name, then its call chain, leaf first.
    counts, comm, leaf_next = {}, None, False
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,dso"], capture_output=True, text=True).stdout
    for line in script.splitlines():
        if line and not line[0].isspace():
            comm, leaf_next = line.strip(), True
        elif leaf_next and line.strip():
            leaf_next = False
            if comm == "nook":
                dso = line.strip().rsplit("(", 1)[-1].rstrip(")")
                dso = os.path.basename(dso) if dso.startswith("/") else dso
                counts[dso] = counts.get(dso, 0) + 1
    rows = [[str(n), dso] for dso, n in counts.items()]
    per_start = lambda samples: samples / 10000 * 1000 / runs  # 10 kHz samples -> ms of CPU per start
    by_dso = sorted(((r[1], per_start(int(r[0]))) for r in rows if r[0].isdigit()), key=lambda x: -x[1])
    total_ms = sum(ms for _, ms in by_dso)
    bench.log(f"\n== perf (cpu-clock, 10 kHz, {runs} starts as nooktest): CPU of the `nook` processes by object")
    for dso, ms in by_dso:
        if ms >= 0.05:
            bench.log(f"   {ms:6.2f} ms  {dso}")
    bench.log(f"   {total_ms:6.2f} ms  CPU per start in all (both cores; wall time is what the benchmark reports)")
    result = {"cpu_ms_per_start": total_ms, "by_dso": dict(by_dso)}
    swift = rep("--children", "--percentage", "relative", "--comm", "nook", "--sort", "sym")
    frames = []
    for l in swift.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[\.\]\s+(\$s\S+)", l)
        if m:
            frames.append((float(m.group(1)), m.group(3)))
    if frames and shutil.which("swift-demangle"):
        names = subprocess.run(["swift-demangle", "--simplified"], input="\n".join(f[1] for f in frames[:25]),
                               capture_output=True, text=True).stdout.splitlines()
        frames = [(pct, names[i] if i < len(names) else sym) for i, (pct, sym) in enumerate(frames[:25])]
    bench.log("   heaviest Swift frames (inclusive; libseccomp has no frame pointers, so its time is not attributed to callers):")
    for pct, name in frames[:25]:
        bench.log(f"   {pct / 100 * total_ms:6.2f} ms  {name[:110]}")
    result["swift_frames_ms"] = [(name, pct / 100 * total_ms) for pct, name in frames[:25]]
    with open(f"{out}/perf-report.txt", "w") as f:
        f.write(rep("--no-children", "--comm", "nook", "--sort", "dso,sym"))
    return result


def main():
    import argparse
    import json
    ap = argparse.ArgumentParser()
    ap.add_argument("--nook", required=True)
    ap.add_argument("--measure", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--tmpdir", default="/tmp")
    args = ap.parse_args()
    args.quick, args.keep = False, False
    os.makedirs(args.out, exist_ok=True)
    b = bench.Bench(args)
    try:
        b.setup()
        env = b.results["environment"]
        bench.log(f"host: {env['cpus']} x {env['cpu']}, kernel {env['kernel']}, load average {' '.join(env['loadavg_start'])}")
        bench.log(f"nook: {env['nook']['path']} (sha256 {env['nook']['sha256']})")
        result = {"environment": env, "differential": differential(b, args.rounds, args.n)}
        result["strace"] = strace(b, args.out)
        result["perf"] = perf(b, args.out)
        with open(f"{args.out}/profile.json", "w") as f:
            json.dump(result, f, indent=1)
        bench.log(f"\nfiles: {args.out}/ (strace-c-*.txt, strace-tt-*.txt, perf.data, perf-report.txt, profile.json)")
    except bench.BenchError as e:
        bench.log(f"\nFAILED: {e}")
        sys.exit(1)
    finally:
        shutil.rmtree(b.work, ignore_errors=True) if getattr(b, "work", None) else None


if __name__ == "__main__":
    main()
