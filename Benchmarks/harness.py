#!/usr/bin/env python3
"""NookKit as a test harness against `podman run`: start-to-ready of busybox httpd.

Start-to-ready is from asking for the container to `GET /index.html` answering
200 over the published port on 127.0.0.1. Nook: through the API
(`nook-harness-probe bench` and `parallel`, a program using NookKit as a test
would; it times `ContainerRequest.start()` with its readiness waits). Podman:
`podman run -d --rootfs` of the same rootfs, then this script polls the page
(the container is removed afterwards, untimed). Both as the same unprivileged
user, on this machine; the median of RUNS starts one after the other, and the
wall time until PARALLEL started at once all answer. Figures are printed,
never asserted on.

Usage (as root; the runs drop to USER with setpriv, as Benchmarks/bench.py does):
  Benchmarks/harness.py [--user nooktest] [--runs 50] [--parallel 20] [--nook PATH] [--rootfs DIR]
  --nook: the nook binary; nook-harness-probe must be beside it
          (default: `swift build --show-bin-path`/nook)
Podman runs rootless with its own storage in a scratch directory (vfs,
cgroupfs, file events: what this host needs); its pause process is stopped
by its pid at the end. Exit status 0, 1 when a run failed, 2 on bad usage.
"""
import argparse
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from bench import as_user, cgroup_hybrid  # setpriv to the user; crun's hybrid-host workaround
from images import free_port

PAGE_SCRIPT = "mkdir -p /www && echo '{page}' > /www/index.html && echo serving && exec httpd -f -p 80 -h /www"
PODMAN_GLOBAL = ["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]


def answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


class Podman:
    def __init__(self, user, work, env, rootfs):
        self.user, self.env, self.rootfs = user, env, rootfs
        self.base = ["podman", "--root", f"{work}/podman-root", "--runroot", f"{work}/podman-runroot"] + PODMAN_GLOBAL

    def run(self, argv):
        p = subprocess.run(as_user(self.user, self.base + argv, hide_unified=cgroup_hybrid()), env=self.env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"podman {' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()[-1000:]}")
        return p.stdout.strip()

    def start_to_ready(self, page):
        """Seconds from `podman run -d` to the page answering; the container id."""
        port = free_port()
        started = time.monotonic()
        # --rootfs is a switch: the rootfs takes the image's place.
        cid = self.run(["run", "-d", "-p", f"127.0.0.1:{port}:80", "--rootfs", self.rootfs,
                        "sh", "-c", PAGE_SCRIPT.format(page=page)])
        deadline = started + 60
        while not answers(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"podman container {cid} did not answer on port {port} within 60 s")
            time.sleep(0.002)
        return time.monotonic() - started, cid

    def remove(self, cid):
        self.run(["rm", "-f", "-t", "0", cid])


def probe(args, env, mode, count):
    prog = os.path.join(os.path.dirname(args.nook), "nook-harness-probe")
    p = subprocess.run(as_user(args.user, ["/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in env.items()]
                               + [prog, mode, args.rootfs, str(count)]),
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
    if p.returncode != 0:
        raise RuntimeError(f"nook-harness-probe {mode}: exit {p.returncode}: {p.stdout}{p.stderr}")
    return p.stdout.strip()


def ms_in(line, after):
    """The number of milliseconds after `after` in the probe's line."""
    return float(line.split(after, 1)[1].split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--user", default="nooktest")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--parallel", type=int, default=20)
    ap.add_argument("--nook")
    ap.add_argument("--rootfs")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("harness.py: run as root: it drops to --user with setpriv")
    if not args.nook:
        bin_path = subprocess.run(["swift", "build", "--show-bin-path"], capture_output=True, text=True, check=True,
                                  cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))).stdout.strip()
        args.nook = bin_path + "/nook"
    u = pwd.getpwnam(args.user)
    work = tempfile.mkdtemp(prefix="nook-harness-bench-")
    os.chmod(work, 0o755)
    run_dir = work + "/run"
    os.mkdir(run_dir, 0o700)
    os.chown(run_dir, u.pw_uid, u.pw_gid)
    os.chown(work, u.pw_uid, u.pw_gid)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": work, "LANG": "C", "XDG_RUNTIME_DIR": run_dir,
           "NOOK_BINARY": args.nook}
    podman = None
    failed = False
    try:
        if not args.rootfs:
            args.rootfs = work + "/rootfs"
            subprocess.run(as_user(args.user, [args.nook, "rootfs", "busybox", args.rootfs]), env=env, check=True,
                           capture_output=True)
        median_line = probe(args, env, "bench", args.runs)
        parallel_line = probe(args, env, "parallel", args.parallel)
        nook_median, nook_parallel = ms_in(median_line, "runs: "), ms_in(parallel_line, "all ready: ")

        podman = Podman(args.user, work, env, args.rootfs)
        times = []
        for i in range(args.runs):
            elapsed, cid = podman.start_to_ready(f"run {i}")
            podman.remove(cid)
            times.append(elapsed * 1000)
        podman_median = statistics.median(times)

        results, errors = [], []

        def one(i):
            try:
                results.append(podman.start_to_ready(f"server {i}"))
            except Exception as e:  # reported below
                errors.append(e)
        started = time.monotonic()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(args.parallel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        podman_parallel = (time.monotonic() - started) * 1000
        for _, cid in results:
            podman.remove(cid)
        if errors:
            raise errors[0]

        print(f"busybox httpd, start to GET /index.html answering 200, as {args.user}, {os.cpu_count()} CPUs")
        print(f"{'':34} {'NookKit':>10} {'podman run':>11} {'podman/nook':>12}")
        print(f"{'median of %d starts (ms)' % args.runs:34} {nook_median:10.1f} {podman_median:11.1f} {podman_median / nook_median:11.1f}x")
        print(f"{'%d at once, all ready (ms)' % args.parallel:34} {nook_parallel:10.1f} {podman_parallel:11.1f} {podman_parallel / nook_parallel:11.1f}x")
        print(f"nook: {median_line}")
        print(f"podman: min {min(times):.1f}, max {max(times):.1f} ms")
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"harness.py: {e}", file=sys.stderr)
        failed = True
    finally:
        if podman:  # its files belong to sub-ids: removed in its user namespace
            podman.run(["unshare", "rm", "-rf", work + "/podman-root", work + "/podman-runroot"])
        pause = run_dir + "/libpod/tmp/pause.pid"
        if os.path.exists(pause):
            try:
                os.kill(int(open(pause).read().strip()), 9)
            except (ValueError, ProcessLookupError):
                pass
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
