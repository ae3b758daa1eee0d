#!/usr/bin/env bash
# Throughput through a published port, per network mode (Benchmarks/network.py),
# as the unprivileged test user. Figures go to Docs/networking.md.
#
#   sudo Benchmarks/network.sh [--size MiB] [--rounds N]
#   sudo NOOK=/path/to/nook Benchmarks/network.sh          # no build
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
[ "$(id -u)" = 0 ] || { echo "network.sh: run as root (sudo): it runs every container as the test user" >&2; exit 2; }
for tool in pasta slirp4netns setpriv python3 gcc; do
  command -v "$tool" >/dev/null || { echo "network.sh: '$tool' is missing (Scripts/install-deps.sh installs it)" >&2; exit 2; }
done
if [ -z "${NOOK:-}" ]; then
  swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-bench 2>&1 | tail -n 1
  NOOK=$(swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-bench --show-bin-path)/nook
fi
Scripts/test-users.sh
work=$(mktemp -d /tmp/nook-netbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$NOOK" "$work/nook"
chmod 755 "$work" "$work/nook"
chown nooktest:nooktest "$work"
as_user() { setpriv --reuid=nooktest --regid=nooktest --clear-groups env -i PATH=/usr/bin:/bin HOME="$work" "$@"; }
as_user "$work/nook" rootfs busybox "$work/rootfs" >/dev/null
Tests/probe/build.sh "$work" >/dev/null
install -m 755 "$work/probe" "$work/rootfs/bin/probe"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
as_user "$py" Benchmarks/network.py "$work/nook" "$work/rootfs" "$@"
