#!/usr/bin/env bash
# Threat: cryptojacking and fork bombs. One container takes the machine's CPU,
# its process table or its memory, and everything else on the host starves.
#
# Nook writes cgroup v2 limits into the container's own cgroup, inside a
# subtree delegated to the user (Docs/cgroups.md). This demo runs three
# containers and shows each limit hold while the machine keeps answering:
#   1. a miner (a CPU hog) under --cpus 0.2: cpu.max = "20000 100000", so it
#      is throttled (cpu.stat nr_throttled) and gets about 20% of one CPU;
#   2. a fork bomb under --pids-limit 50: the kernel refuses the 51st process
#      with EAGAIN (pids.events "max"), while `nook stats` watches from outside;
#   3. a memory hog (dd with a 128 MiB buffer) under --memory 32M
#      --memory-swap 32M: the OOM killer ends it, nook exits 137 and says
#      "nook: container killed: out of memory (memory.max=32M)".
# After each one it checks that a new process outside the container starts
# and answers, and at the end that no container cgroup was left behind.
#
# cgroup v2 limits need delegated controllers. Without them (a hybrid host
# like the one Nook is developed on: memory, cpu and pids live in cgroup v1)
# the script first shows Nook refusing limits it cannot enforce, then runs the
# scenario inside the qemu guest of Tests/vm (pure cgroup v2, a subtree
# delegated to you, the host's / visible read-only), as the same ordinary
# user: qemu with software emulation needs neither root nor /dev/kvm. Where
# the guest cannot start (a package missing), it stops there with a SKIP line
# that says what would give delegation on this host. Inside the guest, or on a
# host with delegation, it runs directly.
#
# Usage:  Examples/cryptojacking/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
#   ROOTFS  a root filesystem to run in (default: a fresh `nook rootfs busybox`)
# Run it as an ordinary user. Started as root, it re-executes itself as the user
# nooktest (create it with Scripts/test-users.sh) from a 0755 temporary directory
# owned by that user, holding a copy of nook and of the rootfs; the guest, when
# needed, is booted by that user.
# Exit status: 0 when every check passed; 77 (skipped, after a "SKIP: REASON"
# line) when no cgroup v2 can be had here (no delegation, and the guest cannot
# start) and the refusal checks passed; 1 when a check failed; 2 when the
# example could not run; 125 when the guest itself failed.
set -euo pipefail

name=cryptojacking
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# ---- Started as root: become the unprivileged test user --------------------
# (The user's run boots the cgroup v2 guest itself when it needs it: no root
# needed. Its copy runs from $tmp, so it is told where the repository is.)
if [[ $(id -u) == 0 ]]; then become_test_user NOOK_EXAMPLE_REPO="$repo"; fi

# ---- As an ordinary user --------------------------------------------------
start_as_user
use_private_state
suffix=$$
names=("miner-$suffix" "bomb-$suffix" "hog-$suffix")
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  for n in "${names[@]}"; do "$nook" kill "$n" KILL >/dev/null 2>&1 || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
use_rootfs
run() { "$nook" run --rootfs "$rootfs" "$@"; }

# Nook puts a container's cgroup next to its own cgroup when the parent was
# delegated (CgroupManager.create); this script's shell shares nook's cgroup,
# so the parent must be ours, with the controllers enabled for its children.
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
parent=/sys/fs/cgroup${own%/*}
delegated() {
  [[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs && -n $own && $own != / ]] || return 1
  [[ -w $parent && -w $parent/cgroup.procs ]] || return 1
  local enabled c
  enabled=" $(cat "$parent/cgroup.subtree_control" 2>/dev/null) "
  for c in memory pids cpu; do [[ $enabled == *" $c "* ]] || return 1; done
}

# A fresh process outside every container starts, runs and exits within 30 s.
check_answers() { # when
  local t0 out ms
  t0=$(date +%s%N)
  out=$(timeout 30 sh -c 'echo still here') || true
  ms=$((($(date +%s%N) - t0) / 1000000))
  check "$1, the machine answers: a new process outside ran in $ms ms" test "$out" = "still here"
}

# The value of KEY in a flat-keyed text ("nr_throttled 12").
key() { sed -n "s/^$1 //p" <<<"$2" | head -n1; }
# A number from `nook stats --format json NAME` (empty while it is not running yet).
stat_of() { "$nook" stats --format json "$1" 2>/dev/null | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
# Waits until `nook stats NAME` shows FIELD >= MIN (at most about 30 s).
wait_stat() {
  local i v
  for ((i = 0; i < 60; i++)); do
    v=$(stat_of "$1" "$2")
    [[ -n $v && $v -ge $3 ]] && return 0
    sleep 0.5
  done
  return 1
}

# What would give delegation on this host: systemd-run --user only helps where
# systemd is PID 1 (a user manager to ask) and /sys/fs/cgroup is pure cgroup v2.
delegation_hint() {
  local init fstype
  init=$(cat /proc/1/comm 2>/dev/null || echo unknown)
  fstype=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo none)
  say "  What gives you delegated cgroup v2 controllers:"
  if [[ $init == systemd && $fstype == cgroup2fs ]]; then
    say "  - here (PID 1 is systemd, pure cgroup v2): a scope from your systemd user manager,"
    say "      systemd-run --user --scope -p Delegate=yes $self"
  else
    [[ $init == systemd ]] || say "  - not systemd-run --user: PID 1 here is $init, not systemd, so there is no user manager to ask;"
    if [[ $fstype == cgroup2fs ]]; then
      say "  - here, root handing you a subtree by hand, as the Tests/vm guest's init does: a cgroup directory"
      say "    with +cpu +memory +pids in its parent's and its own cgroup.subtree_control, chowned to you (with its"
      say "    cgroup.procs, cgroup.threads, cgroup.subtree_control), and your shell moved into a leaf below it;"
    else
      say "  - nothing on this boot: /sys/fs/cgroup is $fstype, so memory, cpu and pids live in cgroup v1, for everyone;"
    fi
    say "  - a host booted with pure cgroup v2 (systemd.unified_cgroup_hierarchy=1) whose systemd delegates to users:"
    say "      systemd-run --user --scope -p Delegate=yes $self"
  fi
  say "  - or, with no root at all, the qemu cgroup v2 guest of Tests/vm that this script boots by itself, as"
  say "    Scripts/test-cgroups.sh does for the cgroup tests (it needs qemu-system-x86 linux-image-amd64"
  say "    busybox-static xz-utils)."
}

# The same script, as the same user, in a qemu guest whose only hierarchy is
# cgroup v2 with a subtree delegated to that user (Tests/vm/run.sh: no root, no
# /dev/kvm). The guest sees this host's / read-only and its own /tmp, so nook,
# the rootfs and this script go to a directory it gets read-write. Exits with
# the guest's status; returns when the guest cannot start (a package missing).
in_guest() {
  local vm=${NOOK_EXAMPLE_REPO:-$repo}/Tests/vm/run.sh stage=$work/guest rc
  if [[ ! -x $vm ]]; then
    say "  (no Tests/vm/run.sh at ${NOOK_EXAMPLE_REPO:-$repo} to boot a cgroup v2 guest)"
    return 0
  fi
  mkdir -p "$stage/$name"
  cp "$nook" "$stage/nook"
  cp "$lib" "$stage/lib.sh"
  cp "$self" "$stage/$name/run.sh"
  cp -a "$rootfs" "$stage/rootfs"
  say ""
  say "== In a cgroup v2 guest: $vm, as $user, without root (qemu emulates the CPU; about a minute)"
  set +e
  "$vm" --share "$stage" --timeout 300 -- \
    env NOOK="$stage/nook" ROOTFS="$stage/rootfs" NOOK_EXAMPLE_REEXEC=1 bash "$stage/$name/run.sh"
  rc=$?
  set -e
  if [[ $rc == 77 ]]; then
    say "  the cgroup v2 guest cannot start here: a package is missing (see the message above)"
    return 0
  fi
  [[ $rc != 125 ]] || say "$name: the cgroup v2 guest failed (see the console log above)"
  exit "$rc"
}

if ! delegated; then
  [[ -z ${NOOK_IN_VM:-} ]] || die "inside the cgroup v2 guest, but $parent is not delegated to $user"
  say "== On this host: no cgroup v2 controllers delegated to $user"
  fstype=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo none)
  if [[ $fstype != cgroup2fs && -r /sys/fs/cgroup/unified/cgroup.controllers ]]; then
    say "  /sys/fs/cgroup is $fstype: a hybrid host. cgroup2 at /sys/fs/cgroup/unified offers only:" \
        "$(cat /sys/fs/cgroup/unified/cgroup.controllers)"
  else
    say "  /sys/fs/cgroup is $fstype; your cgroup is ${own:-unknown}, and its parent is not yours to write."
  fi
  set +e
  refused=$(run --memory 32M -- true 2>&1)
  refused_rc=$?
  traced=$(run --trace -- true 2>&1)
  plain_rc=$?
  set -e
  say "  nook run --memory 32M -- true  ->  exit $refused_rc:"
  say "    $refused"
  say "  nook run --trace -- true  ->  exit $plain_rc, and the trace says:"
  grep '^trace: cgroup:' <<<"$traced" | sed 's/^/    /' || true
  check "limits that cannot be enforced are refused (exit 125, a 'nook: resource limits need' message)" \
    test "$refused_rc" = 125 -a "${refused#nook: resource limits need}" != "$refused"
  check "without limits the container still runs (exit 0), and --trace says it has no cgroup" \
    test "$plain_rc" = 0 -a -n "$(grep '^trace: cgroup: (none)' <<<"$traced")"
  [[ $failed == 0 ]] || { say "$name: $failed check(s) failed"; exit 1; }
  in_guest  # exits, unless the guest cannot start here
  delegation_hint
  skip "no delegated cgroup v2 for $user here, so the limits cannot be shown"
fi

say "== Where the containers go"
say "  You are $user; this shell is in the cgroup $own. Its parent $parent is yours"
say "  (delegated), with '$(cat "$parent/cgroup.subtree_control")' enabled for its children:"
say "  each container gets $parent/nook-NAME, a leaf next to this one."
check_answers "before the demo"
say ""

# ---- 1. The miner ------------------------------------------------------------
miner=${names[0]}
say "== 1. A miner: a CPU hog under --cpus 0.2 (cpu.max \"20000 100000\": 20 ms of CPU in every 100 ms), for 6 s"
# (PID 1 reports "Terminated" on stderr when timeout ends the loop.)
run --name "$miner" --cpus 0.2 -- sh -c \
  "timeout 6 sh -c 'while :; do :; done'; echo cpu.max \$(cat /sys/fs/cgroup/cpu.max); cat /sys/fs/cgroup/cpu.stat" \
  >"$work/miner.out" 2>/dev/null &
miner_pid=$!
wait_stat "$miner" throttledPeriods 1 || true
say "  nook stats $miner, while it runs:"
"$nook" stats "$miner" 2>&1 | sed 's/^/    /' || true
check_answers "while the miner runs"
set +e
wait "$miner_pid"
miner_rc=$?
set -e
cpu=$(cat "$work/miner.out")
usage=$(key usage_usec "$cpu")
say "  inside, at the end: cpu.max $(key cpu.max "$cpu"); cpu.stat usage_usec $usage, nr_periods $(key nr_periods "$cpu"), nr_throttled $(key nr_throttled "$cpu"), throttled_usec $(key throttled_usec "$cpu")"
[[ -z $usage ]] || say "  that is $((usage / 60000))% of one CPU over the 6 s (unlimited, the loop would take 100%)"
check "the miner's container ran (exit $miner_rc)" test "$miner_rc" = 0
check "inside, cpu.max is \"20000 100000\"" test "$(key cpu.max "$cpu")" = "20000 100000"
check "the kernel throttled it (nr_throttled > 0)" test "$(key nr_throttled "$cpu")" -gt 0 2>/dev/null
check "it used less than half of one CPU over 6 s (usage_usec < 3000000)" test "${usage:-9999999}" -lt 3000000
say ""

# ---- 2. The fork bomb -----------------------------------------------------------
bomb=${names[1]}
say "== 2. A fork bomb under --pids-limit 50 (pids.max 50)"
mkdir "$work/signal"
# The bomb forks sleepers until the kernel refuses (busybox sh then gives up).
# PID 1 waits without forking, since at the limit nothing can fork: `read -t 1`
# on a FIFO it holds open itself is a one-second timer that needs no process.
# When this script creates /signal/stop, PID 1 reports and exits, and the PID
# namespace takes every sleeper with it.
# shellcheck disable=SC2016  # the container's shell expands these
run --name "$bomb" --pids-limit 50 -v "$work/signal:/signal" -- sh -c '
  mkfifo /dev/shm/tick; exec 3<>/dev/shm/tick
  ( while :; do sleep 600 & done ) 2>/dev/null &
  while [ ! -e /signal/stop ]; do read -t 1 x <&3; done
  read n < /sys/fs/cgroup/pids.current; echo "pids.current $n"
  while read k v; do [ "$k" = max ] && echo "refused $v"; done < /sys/fs/cgroup/pids.events
' >"$work/bomb.out" 2>&1 &
bomb_pid=$!
wait_stat "$bomb" pidsCurrent 49 || true
pids=$(stat_of "$bomb" pidsCurrent)
say "  nook stats $bomb, while the bomb holds its processes:"
"$nook" stats "$bomb" 2>&1 | sed 's/^/    /' || true
check_answers "while the bomb holds its process slots"
touch "$work/signal/stop"
set +e
wait "$bomb_pid"
bomb_rc=$?
set -e
inside=$(cat "$work/bomb.out")
say "  inside, at the end: pids.current $(key pids.current "$inside"), forks refused (pids.events max) $(key refused "$inside")"
check "the bomb filled the container's process table: $pids processes (49 or 50)" test "${pids:-0}" -ge 49 -a "${pids:-0}" -le 50
check "the kernel refused the forks past the limit (pids.events max > 0)" test "$(key refused "$inside")" -gt 0 2>/dev/null
check "the bomb's container ended cleanly (exit $bomb_rc)" test "$bomb_rc" = 0
say ""

# ---- 3. The memory hog -----------------------------------------------------------
hog=${names[2]}
say "== 3. A memory hog: dd with a 128 MiB buffer under --memory 32M --memory-swap 32M (memory.max 32M, no swap)"
set +e
err=$(run --name "$hog" --memory 32M --memory-swap 32M -- dd if=/dev/zero of=/dev/null bs=128M count=1 2>&1 >/dev/null)
hog_rc=$?
set -e
say "  nook exited with $hog_rc and said: $(grep '^nook:' <<<"$err" || echo '(nothing)')"
check "the hog was killed (exit 137 = 128 + SIGKILL)" test "$hog_rc" = 137
check "nook reported the out-of-memory kill" grep -q 'out of memory (memory.max=32M)' <<<"$err"
check_answers "after the OOM kill"
say ""

say "== Afterwards"
left=()
for n in "${names[@]}"; do [[ ! -e $parent/nook-$n ]] || left+=("$parent/nook-$n"); done
check "no container cgroup is left in $parent (${left[*]:-none})" test ${#left[@]} = 0

if [[ $failed == 0 ]]; then
  say "$name: all checks passed: each limit held, and the machine stayed usable."
  exit 0
fi
say "$name: $failed check(s) failed"
exit 1
