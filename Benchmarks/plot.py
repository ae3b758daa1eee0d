#!/usr/bin/env python3
"""Draw the start-up latency distribution per runtime from a results.json of
Benchmarks/run.sh --out DIR.

    python3 Benchmarks/plot.py DIR/results.json Docs/performance-latency.png

Needs matplotlib (pip install matplotlib); the benchmark itself does not.
"""
import json
import random
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    results = json.load(open(sys.argv[1]))
    rows = sorted(results["startup"].items(), key=lambda kv: kv[1]["median_ms"])
    names = [name for name, _ in rows]
    data = [[s[1] / 1e6 for s in r["samples"]] for _, r in rows]

    fig, ax = plt.subplots(figsize=(9, 0.62 * len(rows) + 1.6), dpi=130)
    colors = {"nook": "#d62728", "nook-nosub": "#ff7f0e", "nook-unconfined": "#e377c2", "nook-bare": "#8c564b", "crun": "#1f77b4",
              "runc": "#17becf", "bwrap": "#2ca02c", "floor": "#7f7f7f"}
    try:  # matplotlib >= 3.10 spells it orientation=
        horizontal = {"orientation": "horizontal"} if tuple(map(int, matplotlib.__version__.split(".")[:2])) >= (3, 10) else {"vert": False}
    except ValueError:
        horizontal = {"vert": False}
    ax.boxplot(data, **horizontal, widths=0.55, showfliers=False, whis=(5, 95),
               medianprops={"color": "black", "linewidth": 1.5}, boxprops={"color": "#444444"},
               whiskerprops={"color": "#444444"}, capprops={"color": "#444444"})
    rng = random.Random(1)
    for i, (name, values) in enumerate(zip(names, data), start=1):
        ys = [i + rng.uniform(-0.22, 0.22) for _ in values]
        ax.scatter(values, ys, s=6, alpha=0.35, color=colors.get(name, "#9467bd"), linewidths=0)
        r = results["startup"][name]
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        ax.annotate(f"median {statistics.median(values):.1f} ms, {r['rss_mib']:.1f} MiB", (p95 * 1.12, i + 0.3),
                    xytext=(6, -3), textcoords="offset points", fontsize=8, color="#333333")
    labels = []
    for name, r in rows:
        seccomp = r.get("probe", {}).get("seccomp", "?")
        labels.append(f"{name}\n({r['user']}, seccomp {seccomp})")
    ax.set_yticks(range(1, len(names) + 1), labels, fontsize=8)
    ax.set_xscale("log")
    lo, hi = min(min(d) for d in data) * 0.8, max(max(d) for d in data) * 2.2
    ticks = [t for t in (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500) if lo <= t <= hi]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlim(lo, hi)
    ax.set_xlabel("wall time per start of `/bin/true` in a busybox rootfs, ms (log scale)")
    env = results.get("environment", {})
    n = rows[0][1]["n"]
    ax.set_title(f"Rootless container start-up, {n} starts per runtime, interleaved\n"
                 f"{env.get('cpus', '?')} x {env.get('cpu', '?')}, Linux {env.get('kernel', '?')}; "
                 f"box: quartiles, whiskers: 5th-95th percentile", fontsize=9)
    ax.grid(axis="x", which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
