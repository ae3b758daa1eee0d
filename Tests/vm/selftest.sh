#!/usr/bin/env bash
# Proves that Tests/vm/run.sh works: stream separation and exit codes, the timeout, a
# read-write share, and, in one guest as the test user, real cgroup v2 limits in the
# delegated subtree (pids.max, memory.max with an OOM kill, io.max on the scratch disk), the
# no-internal-processes rule, user namespaces and the setuid newuidmap/newgidmap.
# Prints one line per check; exits 0 only if all hold (77 if the guest cannot be built).
#   Tests/vm/selftest.sh            (as root, like run.sh)
#   selftest.sh --in-guest          (internal: the part that runs inside the guest)
set -euo pipefail

# ------------------------------------------------------------------------------------------
# In the guest, as the test user, cwd = the shared results directory.
# ------------------------------------------------------------------------------------------
in_guest() {
  set +e +o pipefail  # every check runs and reports; failures are counted
  local fails=0 d=/sys/fs/cgroup/delegated
  check() { # description, then a command that must succeed
    local what=$1; shift
    if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; fails=$((fails + 1)); fi
  }
  cg_val() { # file key -> value of "key value" line
    local k v
    while read -r k v; do [ "$k" = "$2" ] && { echo "$v"; return; }; done <"$1"
    echo "?"
  }
  now() { local u _; read -r u _ </proc/uptime; echo "$u"; }

  check "guest: NOOK_IN_VM=1, uid $(id -u), pure cgroup2 at /sys/fs/cgroup" \
    test "${NOOK_IN_VM:-}" = 1 -a "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs
  check "command runs in /delegated/init" test "$(cat /proc/self/cgroup)" = "0::/delegated/init"
  check "delegated/ and its cgroup.procs, cgroup.subtree_control are the user's" \
    test -O "$d" -a -O "$d/cgroup.procs" -a -O "$d/cgroup.subtree_control" -a -O "$d/init/cgroup.procs"
  check "all controllers enabled for delegated's children: $(cat "$d/cgroup.subtree_control")" \
    test "$(cat "$d/cgroup.subtree_control")" = "$(cat /sys/fs/cgroup/cgroup.controllers)"

  # A sibling of init: delegated/ has no processes of its own, so its children may use
  # every controller it enables.
  local c=$d/selftest
  mkdir "$c"
  check "memory.max=32M and pids.max=20 set in delegated/selftest (sibling of init)" \
    sh -c "echo 32M >$c/memory.max && echo 20 >$c/pids.max && echo 0 >$c/memory.swap.max"

  # pids: dash (not bash, which retries a failed fork for seconds) starts sleepers until
  # fork fails; the shell itself is the 1st task.
  local started
  started=$(sh -c "echo 0 >$c/cgroup.procs; i=0; while [ \$i -lt 40 ]; do sleep 60 >/dev/null & i=\$((i+1)); echo \$i; done" \
    2>/dev/null | tail -n 1)
  check "pids.max=20: fork failed after $started sleepers + the shell (pids.events max $(cg_val "$c/pids.events" max))" \
    test "$started" = 19 -a "$(cg_val "$c/pids.events" max)" -ge 1
  echo 1 >"$c/cgroup.kill"
  while [ "$(cg_val "$c/cgroup.events" populated)" != 0 ]; do sleep 0.05; done

  # memory: a 64 MiB hog in a 32 MiB cgroup (no swap) is OOM-killed.
  local before after rc=0
  before=$(cg_val "$c/memory.events" oom_kill)
  # (braces: bash reports the killed child ("Killed") on its stderr, redirected here)
  { sh -c "echo 0 >$c/cgroup.procs; exec perl -e '\$x = q(a) x (64 << 20); print length(\$x), qq(\\n)'"; } \
    >/dev/null 2>&1 || rc=$?
  after=$(cg_val "$c/memory.events" oom_kill)
  check "memory.max=32M: 64 MiB hog killed (exit $rc), memory.events oom_kill $before -> $after" \
    test "$rc" = 137 -a "$after" -gt "$before"

  # io.max on the scratch virtio disk: 2 MiB of direct writes at 1 MiB/s.
  local t0 t1 ms
  check "NOOK_VM_BLOCKDEV=$NOOK_VM_BLOCKDEV is $NOOK_VM_BLOCKDEV_PATH, writable by the user" \
    test -b "$NOOK_VM_BLOCKDEV_PATH" -a -w "$NOOK_VM_BLOCKDEV_PATH" \
    -a "$(cat "/sys/class/block/${NOOK_VM_BLOCKDEV_PATH#/dev/}/dev")" = "$NOOK_VM_BLOCKDEV"
  echo "$NOOK_VM_BLOCKDEV wbps=1048576" >"$c/io.max"
  t0=$(now)
  sh -c "echo 0 >$c/cgroup.procs; exec dd if=/dev/zero of=$NOOK_VM_BLOCKDEV_PATH bs=64k count=32 oflag=direct status=none"
  t1=$(now)
  ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
  check "io.max wbps=1MiB/s: 2 MiB of direct writes took $ms ms (io.stat: $(grep -o 'wbytes=[0-9]*' "$c/io.stat"))" \
    test "$ms" -ge 1500

  # User namespaces and the setuid helpers from the host's root (9p, read-only).
  check "max_user_namespaces = $(cat /proc/sys/user/max_user_namespaces) (non-zero)" \
    test "$(cat /proc/sys/user/max_user_namespaces)" -gt 0
  check "unshare -Ur true works as $(id -un)" unshare -Ur true
  # The user's own ranges (Scripts/test-users.sh picks them): its first /etc/subuid and
  # /etc/subgid lines, owner given by login name or uid, as newuidmap/newgidmap read them.
  local p maps subuid subgid
  subuid=$(awk -F: -v n="$(id -un)" -v u="$(id -u)" 'NF == 3 && ($1 == n || $1 == u) { print $2, $3; exit }' /etc/subuid)
  subgid=$(awk -F: -v n="$(id -un)" -v u="$(id -u)" 'NF == 3 && ($1 == n || $1 == u) { print $2, $3; exit }' /etc/subgid)
  check "$(id -un) has an /etc/subuid range ($subuid) and an /etc/subgid range ($subgid)" \
    test -n "$subuid" -a -n "$subgid"
  unshare -U sleep 30 &
  p=$!
  sleep 0.3
  # shellcheck disable=SC2086  # $subuid and $subgid are "START COUNT": two arguments each
  maps=$(newuidmap "$p" 0 "$(id -u)" 1 1 $subuid && newgidmap "$p" 0 "$(id -g)" 1 1 $subgid &&
    tr -s ' ' <"/proc/$p/uid_map" | tr '\n' ';')
  kill "$p"
  check "setuid newuidmap/newgidmap work over 9p (uid_map:$maps)" \
    test "$maps" = " 0 $(id -u) 1; 1 $subuid;"

  # The no-internal-processes rule: init holds this very command, so it cannot hand
  # controllers to children; once all its processes sit in a leaf below it, it can.
  local err
  mkdir "$d/init/leaf"
  err=$({ echo +memory +pids >"$d/init/cgroup.subtree_control"; } 2>&1) || true
  check "init (has processes) refuses +memory in its subtree_control: ${err##*: }" \
    test -n "$err" -a "$(cat "$d/init/cgroup.subtree_control")" = ""
  while read -r p; do echo "$p" >"$d/init/leaf/cgroup.procs" 2>/dev/null || true; done <"$d/init/cgroup.procs"
  check "after moving its processes into init/leaf, init delegates memory and pids" \
    sh -c "echo +memory +pids >$d/init/cgroup.subtree_control && echo 64M >$d/init/leaf/memory.max"

  # A result file for the host to check (cwd is the shared directory).
  echo "written in the guest" >result.txt
  [ "$fails" = 0 ]
}

if [ "${1:-}" = --in-guest ]; then in_guest; exit; fi

# ------------------------------------------------------------------------------------------
# On the host.
# ------------------------------------------------------------------------------------------
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run=$here/run.sh
fails=0
ok() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
work=$(mktemp -d "${TMPDIR:-/tmp}/nook-vm-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
ms_since() { echo $(( (${EPOCHREALTIME/./} - $1) / 1000 )); }

# Build (or reuse) the guest first, so a missing package is a skip, not a failure.
rc=0
"$here/prepare.sh" || rc=$?
[ "$rc" = 0 ] || exit "$rc"

# 1. Streams and the exit code.
t0=${EPOCHREALTIME/./}
rc=0
"$run" -- sh -c 'echo out; echo err >&2; exit 7' >"$work/out" 2>"$work/err" || rc=$?
if [ "$rc" = 7 ] && [ "$(cat "$work/out")" = out ] && [ "$(cat "$work/err")" = err ]; then
  ok "run.sh -- sh -c 'echo out; echo err >&2; exit 7': exit 7, stdout 'out', stderr 'err' ($(ms_since "$t0") ms)"
else
  fail "streams/exit code: rc=$rc stdout=$(od -c "$work/out" | head -2) stderr=$(od -c "$work/err" | head -2)"
fi

# 2. Byte-exact binary output, no trailing newline, CR, NUL; args with blanks and quotes.
t0=${EPOCHREALTIME/./}
rc=0
"$run" -- printf 'a\r\n\0b%s' " it's \"x\" " >"$work/bin" 2>"$work/bin.err" || rc=$?
printf 'a\r\n\0b%s' " it's \"x\" " >"$work/bin.want"
if [ "$rc" = 0 ] && cmp -s "$work/bin" "$work/bin.want" && [ ! -s "$work/bin.err" ]; then
  ok "byte-exact stdout (CR, NUL, no final newline, quoted args), empty stderr ($(ms_since "$t0") ms)"
else
  fail "byte-exact output: rc=$rc, got $(od -c "$work/bin" | head -1)"
fi

# 3. The timeout: exit 124, background processes killed through cgroup.kill.
t0=${EPOCHREALTIME/./}
rc=0
"$run" --timeout 2 -- sh -c 'sleep 100 & sleep 100' >/dev/null 2>&1 || rc=$?
if [ "$rc" = 124 ]; then ok "--timeout 2 -- sleep 100: exit 124 after $(ms_since "$t0") ms"
else fail "--timeout: exit $rc, wanted 124"; fi

# 4. The cgroup v2 batch in one guest, as the test user, in a shared directory.
user=nooktest
# Its uid is whatever Scripts/test-users.sh gave it (run.sh would create it; we need it first).
getent passwd "$user" >/dev/null || "$here/../../Scripts/test-users.sh"
uid=$(id -u "$user")
cp "${BASH_SOURCE[0]}" "$work/selftest.sh"
chmod 0755 "$work" "$work/selftest.sh"
chown "$uid" "$work"  # 9p checks permissions against host uids: the user must write here
cd "$work"
t0=${EPOCHREALTIME/./}
rc=0
"$run" --user "$user" --share "$work" -- bash "$work/selftest.sh" --in-guest || rc=$?
if [ "$rc" = 0 ]; then ok "in-guest checks passed ($(ms_since "$t0") ms for the whole guest)"
else fail "in-guest checks: exit $rc"; fi
if [ "$(cat "$work/result.txt" 2>/dev/null)" = "written in the guest" ] &&
   [ "$(stat -c %u "$work/result.txt")" = "$uid" ]; then
  ok "--share: the guest's file is on the host, owned by uid $uid"
else
  fail "--share: no result.txt from the guest, or wrong owner"
fi

if [ "$fails" = 0 ]; then echo "selftest: all checks passed"; else echo "selftest: $fails check(s) failed"; fi
[ "$fails" = 0 ]
