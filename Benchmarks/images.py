#!/usr/bin/env python3
"""The images benchmark's driver. Run it through Benchmarks/run.sh (as root).

  run:  `nook run IMAGE /bin/true` against `nook run --rootfs TREE -- /bin/true`,
        where IMAGE is TREE (the busybox rootfs) imported as a one-layer image
        and already run once (layers are unpacked at first use); interleaved.
  pull: `nook pull` of a Debian image from Debian's docker-registry on
        127.0.0.1 into an empty store, against `skopeo copy` of the same image
        into an empty OCI layout directory; interleaved (--pull; not in --quick).

As in bench.py, the driver runs as root and measures nothing itself: every
sample is one fork+exec+wait4 by Benchmarks/measure.c, which setpriv has
already made the unprivileged test user. Slow figures never fail the run;
only a command that errors out does. Only the standard library is used.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # importing bench.py leaves no __pycache__ in the checkout
from bench import ENV, BenchError, as_user, ids, log, run_checked

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
IMAGE = "localhost/bench:run"
PULL_TAG = "debian:bench"
# Row labels: none starts with "nook " (a table pasted into Docs/ must not read as a command to Scripts/check-docs.py).
LABEL = {"nook pull": "pull (nook)", "skopeo copy": "copy (skopeo)"}


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def summary(walls_ms):
    w = sorted(walls_ms)
    return {"median_ms": statistics.median(w), "min_ms": w[0], "max_ms": w[-1], "n": len(w), "samples_ms": w}


def free_port():
    """A port on 127.0.0.1 the kernel picked free (as TestRegistry.freePort does)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Images:
    def __init__(self, args):
        self.args = args
        self.user = args.user
        self.results = {"quick": args.quick, "user": args.user}
        self.registry = None  # Popen of docker-registry

    def home(self):
        return os.path.join(self.work, self.user)

    def env(self, data):
        """The user's environment: HOME in the work directory, the image store in `data`."""
        return dict(ENV, HOME=self.home(), XDG_DATA_HOME=data)

    def user_dir(self, path, mode=0o700):
        os.makedirs(path, mode=mode)
        os.chown(path, *ids(self.user))
        return path

    def measure(self, argv, n, data, what):
        """n starts of argv as the user (Benchmarks/measure.c); their wall times in ms."""
        cmd = as_user(self.user, [self.home() + "/bin/measure", "-n", str(n), "--"] + argv)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=600, env=self.env(data), cwd=self.home())
        except subprocess.TimeoutExpired:
            raise BenchError(f"{what}: a batch of {n} timed out after 600 s")
        runs = [l.split() for l in p.stdout.splitlines() if l.startswith("run ")]
        if p.returncode != 0 or len(runs) != n or any(r[4] != "0" for r in runs):
            raise BenchError(f"{what}: failed as {self.user}: {' '.join(argv)}\n{p.stderr.strip()[-2000:]}")
        return [int(r[2]) / 1e6 for r in runs]

    def as_user_checked(self, argv, what, data=None):
        return run_checked(as_user(self.user, argv), what, env=self.env(data or self.home() + "/data"))

    # ------------------------------------------------------------ set-up
    def setup(self):
        a = self.args
        self.work = tempfile.mkdtemp(prefix="nook-bench-images.", dir=a.tmpdir)
        os.chmod(self.work, 0o755)
        home = self.home()
        os.makedirs(home + "/bin")
        binaries = [("nook", a.nook), ("measure", a.measure)]
        registry = os.path.join(os.path.dirname(a.nook), "nook-registry")
        if os.path.exists(registry):  # nook pull execs the nook-registry beside it
            binaries.append(("nook-registry", registry))
        for name, src in binaries:
            shutil.copy(src, f"{home}/bin/{name}")
            os.chmod(f"{home}/bin/{name}", 0o755)
        for d in ("state", "data"):
            os.makedirs(f"{home}/{d}", mode=0o700)
        run_checked(["chown", "-R", "%d:%d" % ids(self.user), home], "chown")
        os.chmod(home, 0o755)
        self.nook = home + "/bin/nook"
        log(f"images: as {self.user}, nook {a.nook}, load average {loadavg()}")

    # ------------------------------------------------------------ run IMAGE vs --rootfs
    def run_compare(self):
        home = self.home()
        rootfs, layout = home + "/rootfs", home + "/layout"
        self.as_user_checked([self.nook, "rootfs", "busybox", rootfs], "nook rootfs busybox")
        # The same tree as one uncompressed layer, every entry owned by root in the image
        # (the tree's owner is the user, who is root in the --rootfs container too).
        run_checked([sys.executable, REPO + "/Tests/images/oci-layout.py", layout, "--tag", "run",
                     "--layer", rootfs, "--owner", "0:0", "--compression", "none"], "oci-layout.py")
        run_checked(["chown", "-R", "%d:%d" % ids(self.user), layout], "chown")
        self.as_user_checked([self.nook, "image", "import", layout, IMAGE], "nook image import")
        state = home + "/state"
        argv = {"image": [self.nook, "run", "--root", state, IMAGE, "/bin/true"],
                "rootfs": [self.nook, "run", "--root", state, "--rootfs", rootfs, "--", "/bin/true"]}
        self.as_user_checked(argv["image"], "first nook run IMAGE (unpacks the layer)")

        rounds, n = (3, 5) if self.args.quick else (self.args.rounds, self.args.n)
        log(f"\n== nook run IMAGE vs --rootfs on the same tree: /bin/true, {rounds} rounds x {n} starts, "
            f"interleaved (after a warm-up round); load average {loadavg()}")
        samples = {k: [] for k in argv}
        order = list(argv)
        for rnd in range(-1, rounds):
            for k in order[rnd % 2:] + order[:rnd % 2]:
                walls = self.measure(argv[k], 2 if rnd < 0 else n, home + "/data", f"nook run ({k})")
                if rnd >= 0:
                    samples[k] += walls
        out = {k: summary(v) for k, v in samples.items()}
        i, r = out["image"], out["rootfs"]
        log(f"{'':<24}  {'median ms':>9}  {'min - max ms':>15}  {'n':>4}")
        for k, label in (("image", f"run {IMAGE}"), ("rootfs", "run --rootfs TREE")):
            s = out[k]
            log(f"{label:<24}  {s['median_ms']:>9.2f}  {s['min_ms']:>6.2f} - {s['max_ms']:>6.2f}  {s['n']:>4}")
        diff = i["median_ms"] - r["median_ms"]
        log(f"IMAGE - --rootfs: {diff:+.2f} ms in the medians ({i['min_ms'] - r['min_ms']:+.2f} ms in the minimums); "
            f"goal +3 ms: {'met' if diff <= 3 else 'missed by %.2f ms' % (diff - 3)}; load average {loadavg()}")
        self.results["run"] = dict(out, difference_ms=diff)

    # ------------------------------------------------------------ pull vs skopeo copy
    def start_registry(self):
        d = self.user_dir(self.work + "/registry", 0o755)
        port = free_port()
        with open(d + "/config.yml", "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {d}/storage\n"
                    f"http:\n  addr: 127.0.0.1:{port}\n")
        self.registry = subprocess.Popen(["/usr/bin/docker-registry", "serve", d + "/config.yml"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=open(d + "/registry.log", "w"))
        deadline = time.time() + 20
        while not answers(port):
            if self.registry.poll() is not None or time.time() > deadline:
                raise BenchError("docker-registry did not start: " + open(d + "/registry.log").read()[-1000:])
            time.sleep(0.05)
        return port

    def stop_registry(self):
        if self.registry is not None:
            self.registry.send_signal(signal.SIGTERM)
            try:
                self.registry.wait(10)
            except subprocess.TimeoutExpired:
                self.registry.kill()
                self.registry.wait()
            self.registry = None

    def pull(self):
        for tool in ("/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/mmdebstrap"):
            if not os.path.exists(tool):
                raise BenchError(f"{tool} is missing (Debian packages docker-registry, skopeo, mmdebstrap)")
        if not os.path.exists(self.home() + "/bin/nook-registry"):
            raise BenchError(f"no nook-registry beside {self.args.nook}: nook pull execs it")
        # The Debian image (Tests/images/debian-image.sh caches it; NOOK_IMAGE_CACHE picks the cache).
        images = self.work + "/debian"
        run_checked([REPO + "/Tests/images/debian-image.sh", images], "debian-image.sh", timeout=1800,
                    env=dict(ENV, **{k: v for k, v in os.environ.items() if k in ("NOOK_IMAGE_CACHE", "DEBIAN_MIRROR")}))
        port = self.start_registry()
        ref = f"127.0.0.1:{port}/{PULL_TAG}"
        run_checked(["/usr/bin/skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                     f"oci:{images}/fresh:bookworm", f"docker://{ref}"], "skopeo copy (push)")
        blobs = json.load(open(f"{images}/fresh/" + "index.json"))
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(images + "/fresh/blobs") for f in fs)
        log(f"\n== nook pull vs skopeo copy: {ref} ({size / 1e6:.1f} MB of blobs, {len(blobs['manifests'])} manifest), "
            f"each into an empty directory, as {self.user}")

        scratch = self.work + "/pulls"
        os.makedirs(scratch)
        argv = {"nook pull": [self.nook, "pull", "--quiet", "--tls-verify=false", ref],
                "skopeo copy": ["/usr/bin/skopeo", "copy", "--quiet", "--src-tls-verify=false",
                                f"docker://{ref}", f"oci:{scratch}/DIR/oci:bench"]}

        def once(k, i, timed=True):
            d = self.user_dir(f"{scratch}/{i}")
            a = [x.replace(f"{scratch}/DIR", d) for x in argv[k]]
            try:
                if timed:
                    return self.measure(a, 1, d, k)[0]
                return self.as_user_checked(a, k, data=d)
            finally:
                shutil.rmtree(d)

        # Warm-up, checked: nook prints the pin, skopeo writes the layout.
        pin = once("nook pull", "check", timed=False).strip()
        if "@sha256:" not in pin:
            raise BenchError(f"nook pull printed {pin!r}, not NAME:TAG@sha256:...")
        once("skopeo copy", "check", timed=False)
        rounds = self.args.pull_rounds
        log(f"{rounds} rounds, one of each per round, in an order alternated each round; load average {loadavg()}")
        samples = {k: [] for k in argv}
        order = list(argv)
        for rnd in range(rounds):
            for k in order[rnd % 2:] + order[:rnd % 2]:
                samples[k].append(once(k, f"{rnd}-{k.split()[0]}"))
            sys.stdout.write(f" {rnd + 1}")
            sys.stdout.flush()
        log("")
        out = {k: summary(v) for k, v in samples.items()}
        log(f"{'':<13}  {'median ms':>9}  {'min - max ms':>17}  {'n':>4}")
        for k, s in out.items():
            log(f"{LABEL[k]:<13}  {s['median_ms']:>9.0f}  {s['min_ms']:>7.0f} - {s['max_ms']:>7.0f}  {s['n']:>4}")
        ratio = out["nook pull"]["median_ms"] / out["skopeo copy"]["median_ms"]
        log(f"ratio nook pull / skopeo copy: {ratio:.2f}x in the medians "
            f"({out['nook pull']['min_ms'] / out['skopeo copy']['min_ms']:.2f}x in the minimums); goal 1.2x: "
            f"{'met' if ratio <= 1.2 else 'missed'}; load average {loadavg()}")
        self.results["pull"] = dict(out, ratio=ratio, reference=pin, blob_bytes=size)
        if self.args.profile:
            self.profile_pull(argv, scratch)

    def profile_pull(self, argv, scratch):
        """One more pull of each for the CPU it takes (wait4's rusage of the whole tree) and one
        under `strace -c -f` as the user (the syscall summary is kept in the --profile directory)."""
        d = self.args.profile
        os.makedirs(d, exist_ok=True)
        log(f"\nprofile (one pull each; strace -c -f summaries in {d}):")
        log(f"{'':<13}  {'wall ms':>8}  {'user ms':>8}  {'sys ms':>7}  top syscalls by time (strace -c -f)")
        for k, a in argv.items():
            name = k.split()[0]
            cpu = []
            for tracer in ([], ["strace", "-c", "-f", "-o", f"{self.home()}/{name}.strace"]):
                dest = self.user_dir(f"{scratch}/profile-{name}")
                cmd = as_user(self.user, tracer + [x.replace(f"{scratch}/DIR", dest) for x in a])
                t = time.monotonic()
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=self.env(dest), cwd=self.home())
                _, status, ru = os.wait4(p.pid, 0)
                cpu.append(((time.monotonic() - t) * 1e3, ru.ru_utime * 1e3, ru.ru_stime * 1e3))
                shutil.rmtree(dest)
                if status != 0:
                    raise BenchError(f"{k} failed under the profile ({'strace' if tracer else 'wait4'})")
            shutil.copy(f"{self.home()}/{name}.strace", f"{d}/{name}.strace")
            rows = [l.split() for l in open(f"{d}/{name}.strace").read().splitlines()[2:] if l[:1] == " " or l[:1].isdigit()]
            top = ", ".join(f"{r[-1]} {r[1]} s/{r[3]}" for r in rows[:5] if len(r) >= 5 and r[-1] != "total")
            wall, user, system = cpu[0]
            log(f"{LABEL[k]:<13}  {wall:>8.0f}  {user:>8.0f}  {system:>7.0f}  {top}")
            self.results.setdefault("pull_profile", {})[k] = {"wall_ms": wall, "user_ms": user, "sys_ms": system,
                                                              "strace": open(f"{d}/{name}.strace").read()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nook", required=True, help="nook; nook pull needs nook-registry beside it")
    ap.add_argument("--measure", required=True)
    ap.add_argument("--user", default="nooktest", help="a test user with a sub-id range")
    ap.add_argument("--quick", action="store_true", help="only the run comparison, few samples")
    ap.add_argument("--pull", action="store_true", help="also the pull comparison (ignored with --quick)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("-n", type=int, default=10, help="starts of each per round")
    ap.add_argument("--pull-rounds", type=int, default=10)
    ap.add_argument("--profile", metavar="DIR", help="with --pull: CPU and strace -c -f of one pull each, kept in DIR")
    ap.add_argument("--out", help="directory for images.json")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--tmpdir", default="/tmp")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("images.py: run as root (through Benchmarks/run.sh): it drops to the test user with setpriv")

    b = Images(args)
    t0 = time.time()
    failures = []
    try:
        b.setup()
        sections = [b.run_compare] + ([b.pull] if args.pull and not args.quick else [])
        for section in sections:  # independent: one that fails is reported, the others still run
            try:
                section()
            except BenchError as e:
                log(f"\nFAILED ({section.__name__}): {e}")
                failures.append(f"{section.__name__}: {e}")
            finally:
                b.stop_registry()
    except BenchError as e:
        log(f"\nFAILED: {e}")
        failures.append(str(e))
    except KeyboardInterrupt:
        log("\ninterrupted")
        failures.append("interrupted")
    finally:
        b.stop_registry()
        b.results.update(failures=failures, seconds=round(time.time() - t0, 1), loadavg_end=loadavg())
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "images.json"), "w") as f:
                json.dump(b.results, f, indent=1)
        if getattr(b, "work", None):
            if args.keep:
                log(f"work directory kept: {b.work}")
            else:
                shutil.rmtree(b.work, ignore_errors=True)
    log(f"\nimages: {'done' if not failures else 'FAILED'} in {time.time() - t0:.0f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
