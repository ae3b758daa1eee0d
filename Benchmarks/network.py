#!/usr/bin/env python3
"""Throughput through a published port: pasta vs slirp4netns vs --network host.

Runs as the unprivileged user (Benchmarks/network.sh arranges it). For each mode a
container serves SIZE MiB of zeros on port 5000 (Tests/probe's tcp_serve: 1 MiB
writes); the host reads them from 127.0.0.1 until EOF. The figure is MiB/s of
the read, median of ROUNDS. `--network host` is the baseline: plain loopback.
It also prints what a helper adds to start-up: `nook run --network MODE -- true`,
median of 15 starts per mode (against --network none).

    network.py NOOK ROOTFS [--size MiB] [--rounds N]
"""
import argparse, socket, statistics, subprocess, sys, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def one(nook, rootfs, mode, size):
    port = free_port()
    serve = f"/bin/probe tcp_serve:{port if mode == 'host' else 5000}:{size}"
    net = ["--network", mode] + ([] if mode == "host" else ["-p", f"127.0.0.1:{port}:5000"])
    proc = subprocess.Popen([nook, "run"] + net + ["--rootfs", rootfs, "--"] + serve.split(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # The helper may accept a connection before the container listens and
        # then close it empty: connect again until the data flows.
        deadline = time.time() + 15
        while True:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{mode}: no data: " + (proc.stderr.read().decode() if proc.poll() is not None else "timeout"))
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError:
                time.sleep(0.02)
                continue
            got, start = 0, time.perf_counter()
            buf = bytearray(1 << 20)
            try:
                while True:
                    n = c.recv_into(buf)
                    if n == 0:
                        break
                    got += n
            except ConnectionResetError:
                pass
            elapsed = time.perf_counter() - start
            c.close()
            if got:
                break
            time.sleep(0.02)
        if got != size << 20:
            raise RuntimeError(f"{mode}: read {got} bytes, expected {size << 20}")
        return size / elapsed
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill(); proc.wait()

def startup_ms(nook, rootfs, mode, n=15):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([nook, "run", "--network", mode, "--rootfs", rootfs, "--", "true"], check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nook"); ap.add_argument("rootfs")
    ap.add_argument("--size", type=int, default=256); ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    results = {}
    for mode in ["host", "pasta", "slirp4netns"]:
        samples = []
        for _ in range(a.rounds):
            samples.append(one(a.nook, a.rootfs, mode, a.size))
        results[mode] = statistics.median(samples)
        print(f"{mode:12s} {results[mode]:8.0f} MiB/s  (median of {a.rounds}, {a.size} MiB each: "
              + ", ".join(f"{s:.0f}" for s in samples) + ")", flush=True)
    for mode in ["pasta", "slirp4netns"]:
        print(f"{mode:12s} {results[mode] / results['host']:8.2f} x host")
    base = startup_ms(a.nook, a.rootfs, "none")
    print(f"start-up     none {base:.1f} ms", end="")
    for mode in ["pasta", "slirp4netns"]:
        print(f", {mode} +{startup_ms(a.nook, a.rootfs, mode) - base:.1f} ms", end="")
    print(" (medians of 15 `nook run -- true`)")

if __name__ == "__main__":
    sys.exit(main())
