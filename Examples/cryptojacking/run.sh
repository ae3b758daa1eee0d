#!/usr/bin/env bash
# Threat: cryptojacking and fork bombs. One container eats the machine's CPU,
# memory or process table.
#
# Nook writes cgroup v2 limits into the container's own cgroup, inside a
# subtree delegated to the user: a CPU hog under --cpus 0.2 is throttled, a
# fork bomb under --pids-limit 50 gets EAGAIN at the limit, a memory hog under
# --memory 32M is killed by the OOM killer and reported (exit 137). The host
# stays usable throughout.
#
# cgroup v2 limits need delegated controllers. This machine's cgroups are
# hybrid (memory, cpu, pids live in v1), so when started as root here the
# script runs its scenario inside the qemu guest of Tests/vm (pure cgroup v2,
# delegated to the test user nooktest). Inside the guest, or on a host with
# delegation, it runs directly.
#
# Usage:  Examples/cryptojacking/run.sh     (NOOK=/path/to/nook)
# Exit status: 0 when every check passed (or SKIP: the guest cannot start
# here), 1 when one failed, 2 when the example could not run.
set -euo pipefail
name=cryptojacking
say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$name" "$*" >&2; exit 2; }
self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/../.." && pwd)
nook=${NOOK:-$(command -v nook || true)}
[[ -n $nook && -x $nook ]] || die "set NOOK=/path/to/nook"
nook=$(cd "$(dirname "$nook")" && pwd)/$(basename "$nook")

delegated() { # the controllers are enabled for our cgroup's siblings and we may create one
  local own parent
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  parent=/sys/fs/cgroup$(dirname "$own")
  grep -qw memory "$parent/cgroup.subtree_control" 2>/dev/null && [[ -w $parent ]]
}

if [[ -z ${NOOK_IN_VM:-} ]] && ! delegated; then
  [[ $(id -u) == 0 ]] || die "no delegated cgroup v2 here; run as root to use the qemu guest (Tests/vm)"
  # A 0755 directory owned by the test user, shared read-write with the guest
  # (the guest has its own /tmp): the script and a copy of nook.
  tmp=$(mktemp -d /tmp/nook-example-$name.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  cp "$self" "$tmp/run.sh"; cp "$nook" "$tmp/nook"
  chown -R 2000:2000 "$tmp"; chmod 755 "$tmp" "$tmp/nook" "$tmp/run.sh"
  say "No delegated cgroup v2 on this host (hybrid cgroups): running the scenario in the cgroup v2 guest (Tests/vm)."
  set +e
  "$repo/Tests/vm/run.sh" --share "$tmp" --timeout 400 -- env NOOK="$tmp/nook" bash "$tmp/run.sh"
  rc=$?
  set -e
  if [[ $rc == 77 ]]; then say "SKIP: $name: the cgroup v2 guest cannot start here (see above)"; exit 0; fi
  exit $rc
fi

# ---- On a host (or guest) with delegated cgroup v2, as an ordinary user ----
work=$(mktemp -d "${TMPDIR:-/tmp}/nook-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$nook" rootfs busybox "$work/rootfs" >/dev/null
run() { "$nook" run --rootfs "$work/rootfs" "$@"; }
failures=0
check() { local what=$1; shift; if "$@"; then say "  PASS  $what"; else say "  FAIL  $what"; failures=$((failures + 1)); fi; }

say "== A CPU hog (a miner) under --cpus 0.2 for 2 seconds"
throttled=$(run --cpus 0.2 -- sh -c "timeout 2 sh -c 'while :; do :; done'; sed -n 's/^nr_throttled //p' /sys/fs/cgroup/cpu.stat")
say "  cpu.stat nr_throttled = $throttled (periods in which the hog had used its 20%)"
check "the CPU hog was throttled" test "${throttled:-0}" -gt 0
check "the machine still answers" true

say "== A fork bomb under --pids-limit 50"
# When PID 1 (the shell) exits, the PID namespace takes every sleeper with it.
# At the limit nothing can fork, so the report uses shell builtins only.
# The inner shell forks until the kernel says no (and then gives up); the
# outer one reports.
out=$(run --pids-limit 50 -- sh -c 'sh -c "while :; do sleep 5 & done" 2>/dev/null
  read n < /sys/fs/cgroup/pids.current; echo $n
  while read k v; do [ "$k" = max ] && echo $v; done < /sys/fs/cgroup/pids.events') || true
current=$(sed -n 1p <<<"$out"); refused=$(sed -n 2p <<<"$out")
say "  pids.current = $current, forks refused (pids.events max) = $refused"
check "never more than 50 processes" test "${current:-999}" -le 50
check "the kernel refused the forks past the limit" test "${refused:-0}" -gt 0

say "== A memory hog (128 MiB) under --memory 32M"
set +e
err=$(run --memory 32M --memory-swap 32M -- dd if=/dev/zero of=/dev/null bs=128M count=1 2>&1 >/dev/null)
rc=$?
set -e
say "  exit $rc; nook said: $(grep '^nook:' <<<"$err")"
check "the hog was killed (exit 137)" test "$rc" = 137
check "Nook reported the out-of-memory kill" grep -q "out of memory (memory.max=32M)" <<<"$err"
check "the machine still answers" true

if [[ $failures == 0 ]]; then say "$name: all checks passed: limits held and the machine stayed usable."; exit 0; fi
say "$name: $failures check(s) failed"; exit 1
