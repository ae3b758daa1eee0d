#!/usr/bin/env bash
# Nook's start-up benchmark: nook against crun, runc, bwrap and a C floor, all
# rootless, as the unprivileged test users. See Benchmarks/README.md.
#
#   sudo Benchmarks/run.sh [--quick] [--out DIR] [--keep]
#   sudo NOOK=/path/to/nook Benchmarks/run.sh --quick      # no build
#   sudo Benchmarks/run.sh --profile --out DIR              # where nook's start-up goes
#   sudo Benchmarks/run.sh --images                         # nook pull vs skopeo, run IMAGE vs --rootfs
#
# --quick  few samples (CI: under a minute once nook is built; fails only when a
#          runtime that should work errors out, never because figures are slow)
# --out D  also write D/results.json (every sample; Benchmarks/plot.py draws it)
# --keep   keep the work directory (rootfs, bundles, binaries) under /tmp
# --profile  instead of the benchmark: differential timings, strace and perf of
#          one `nook run -- /bin/true` (Benchmarks/profile.py); needs --out
# --images  instead of the start-up benchmark: the images benchmark in full
#          (Benchmarks/images.py): `nook pull` of a Debian image from a loopback
#          docker-registry against `skopeo copy`, and `nook run IMAGE` against
#          `nook run --rootfs` on the same tree. Without --images, the start-up
#          benchmark (full or --quick) ends with that run comparison only.
# Env: NOOK (skip the build; nook-registry must be beside it for --images),
#      BENCH_SKIP=crun,runc,bwrap (leave peers out), BENCH_ROUNDS / BENCH_N
#      (full run: rounds, starts per runtime per round), BENCH_USER (the test
#      user of the images benchmark, default nooktest), NOOK_IMAGE_CACHE (where
#      Tests/images/debian-image.sh keeps the Debian image).
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
repo=$(pwd)

quick=() out=() keep=() profile=0 images=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick) ;;
    --out) out=(--out "$(realpath -m "$2")"); shift ;;
    --keep) keep=(--keep) ;;
    --profile) profile=1 ;;
    --images) images=1 ;;
    -h|--help) sed -n '2,25p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (sudo): it creates the test users and runs every container as one of them" >&2; exit 2; }
for tool in gcc setpriv unshare python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is missing (Scripts/install-deps.sh installs it)" >&2; exit 2; }
done

if [ -z "${NOOK:-}" ]; then
  echo "== building nook (release, static Swift stdlib, scratch path .build-bench)"
  # Only what is measured: nook, and nook-registry (the HTTP client, minutes
  # to build) only when --images compares pulls.
  timeout 1800 swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-bench --product nook 2>&1 | tail -n 3
  if [ "$images" = 1 ]; then
    timeout 1800 swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-bench --product nook-registry 2>&1 | tail -n 3
  fi
  NOOK=$(swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-bench --show-bin-path)/nook
fi
[ -x "$NOOK" ] || { echo "run.sh: no nook binary at '$NOOK'" >&2; exit 2; }
NOOK=$(realpath "$NOOK")
# What the binary carries: its size, and whether full Foundation (with ICU) got
# linked (Scripts/module-graph.py refuses our imports of it; this also sees a dependency's).
# (grep -c reads to the end: grep -q would quit early and, under pipefail, nm's SIGPIPE would read as "no".)
foundation=no
symbols=$(nm "$NOOK" 2>/dev/null | grep -c ' [TtDdRr] \$s10Foundation' || true)
if [ "${symbols:-0}" -gt 0 ]; then foundation="yes, $symbols symbols (ICU too: slower start, larger RSS)"; fi
echo "nook binary: $(( $(stat -c %s "$NOOK") / 1048576 )) MiB, full Foundation linked: $foundation"

Scripts/test-users.sh

bin=$(mktemp -d /tmp/nook-bench-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
gcc -O2 -Wall -o "$bin/floor" Benchmarks/floor.c
gcc -O2 -Wall -o "$bin/measure" Benchmarks/measure.c

args=(--nook "$NOOK" --floor "$bin/floor" --measure "$bin/measure")
# The system Python: the driver uses only its standard library.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ "$profile" = 1 ]; then
  [ ${#out[@]} -gt 0 ] || { echo "run.sh: --profile needs --out DIR (it writes strace and perf files there)" >&2; exit 2; }
  echo "== profile of nook's start-up, $(date -u '+%Y-%m-%d %H:%M UTC')"
  timeout 1800 "$py" "$repo/Benchmarks/profile.py" "${args[@]}" "${out[@]}"
  exit
fi
image_args=(--nook "$NOOK" --measure "$bin/measure" --user "${BENCH_USER:-nooktest}")
if [ "$images" = 1 ]; then
  echo "== images benchmark (full), $(date -u '+%Y-%m-%d %H:%M UTC')"
  # With --out, also one pull of each under wait4 (CPU) and strace -c -f, kept there.
  [ ${#out[@]} -gt 0 ] && image_args+=(--profile "${out[1]}")
  timeout 3600 "$py" "$repo/Benchmarks/images.py" "${image_args[@]}" --pull "${out[@]}" "${keep[@]}"
  exit
fi
[ -n "${BENCH_ROUNDS:-}" ] && args+=(--rounds "$BENCH_ROUNDS")
[ -n "${BENCH_N:-}" ] && args+=(-n "$BENCH_N")
echo "== benchmark ($([ ${#quick[@]} -gt 0 ] && echo quick || echo full)), $(date -u '+%Y-%m-%d %H:%M UTC')"
status=0
timeout 1800 "$py" "$repo/Benchmarks/bench.py" "${args[@]}" "${quick[@]}" "${out[@]}" "${keep[@]}" || status=$?
echo
echo "== images: nook run IMAGE vs --rootfs ($([ ${#quick[@]} -gt 0 ] && echo quick || echo full)); --images also measures nook pull"
timeout 900 "$py" "$repo/Benchmarks/images.py" "${image_args[@]}" "${quick[@]}" "${out[@]}" "${keep[@]}" || status=$?
exit "$status"
