#!/usr/bin/env bash
# Threat: the daemon as a single point of failure.
#
# With Docker, every container hangs off one root daemon: kill dockerd and
# every container loses its supervisor (and with the default settings they
# stop). Nook has no daemon: `nook run -d` gives each container its own small
# monitor process, and every `nook` command works from the state on disk.
# This demo starts three detached containers, SIGKILLs one container's
# monitor and another container's init, and shows that only those two are
# affected, that `nook ps -a` tells the truth about all three, and that `nook
# rm` leaves nothing behind (state, processes).
#
# Usage:  Examples/daemon-spof/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
#   ROOTFS  a root filesystem to run in (default: a fresh `nook rootfs busybox`)
# Started as root, it re-executes itself as the user nooktest.
# Exit status: 0 when every check passed, 1 when one failed, 2 when it could not run.
set -euo pipefail

name=daemon-spof
test_user=nooktest
say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$name" "$*" >&2; exit 2; }

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# The nook binary as an absolute path.
find_nook() {
  local n=${NOOK:-nook}
  if [[ $n == */* ]]; then
    [[ -f $n && -x $n ]] || die "NOOK=$n is not an executable file"
    printf '%s/%s\n' "$(cd "$(dirname "$n")" && pwd)" "$(basename "$n")"
  else
    command -v "$n" || die "no '$n' on PATH: build it (swift build) and set NOOK=/path/to/nook"
  fi
}

# ---- Started as root: become the unprivileged test user --------------------
if [[ $(id -u) == 0 ]]; then
  [[ -z ${NOOK_EXAMPLE_REEXEC:-} ]] || die "still root after switching to $test_user; refusing to run as root"
  getent passwd "$test_user" >/dev/null || die "user $test_user does not exist: run Scripts/test-users.sh as root first"
  command -v setpriv >/dev/null || die "setpriv not found (Debian package util-linux)"
  uid=$(id -u "$test_user")
  gid=$(id -g "$test_user")
  nook=$(find_nook)
  tmp=$(mktemp -d /tmp/nook-example-$name.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  # The user must be able to read the binary, not only run it: a process that
  # runs an unreadable binary is not dumpable, its /proc/PID files belong to
  # root, and nook cannot write its child's id maps.
  cp "$nook" "$tmp/nook"
  cp "$self" "$tmp/run.sh"
  chown "$uid:$gid" "$tmp" "$tmp/nook" "$tmp/run.sh"
  chmod 755 "$tmp" "$tmp/nook" "$tmp/run.sh"
  as_user() {
    (cd "$tmp" && setpriv --reuid="$uid" --regid="$gid" --clear-groups \
      env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$tmp" TMPDIR="$tmp" "$@")
  }
  if [[ -n ${ROOTFS:-} ]]; then
    [[ -d $ROOTFS ]] || die "ROOTFS=$ROOTFS is not a directory"
    cp -a "$ROOTFS" "$tmp/rootfs"
    chown -R "$uid:$gid" "$tmp/rootfs"
  else
    as_user ./nook rootfs busybox "$tmp/rootfs" >/dev/null || die "nook rootfs busybox failed"
  fi
  say "Started as root: running the example as the unprivileged user $test_user (uid $uid) with setpriv."
  set +e
  as_user NOOK="$tmp/nook" ROOTFS="$tmp/rootfs" NOOK_EXAMPLE_REEXEC=1 bash "$tmp/run.sh"
  exit $?
fi

# ---- As an ordinary user --------------------------------------------------
nook=$(find_nook)
work=$(mktemp -d "${TMPDIR:-/tmp}/nook-$name.XXXXXX")
rootfs=${ROOTFS:-}
if [[ -z $rootfs ]]; then rootfs=$work/rootfs; "$nook" rootfs busybox "$rootfs" >/dev/null; fi
# A private state directory: this demo's containers only.
export XDG_RUNTIME_DIR=$work/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
names=(spof-a spof-b spof-c)
cleanup() { for n in "${names[@]}"; do "$nook" rm -f "$n" >/dev/null 2>&1 || true; done; rm -rf "$work"; }
trap cleanup EXIT

failures=0
check() { # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then say "  PASS  $what"; else say "  FAIL  $what"; failures=$((failures + 1)); fi
}
field() { # container, key: a number from its state.json
  sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$XDG_RUNTIME_DIR/nook/$1/state.json"
}
alive() { [[ -d /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

say "== Three detached containers, each with its own monitor (no daemon)"
for n in "${names[@]}"; do "$nook" run -d --name "$n" --rootfs "$rootfs" -- sleep 300 >/dev/null; done
"$nook" ps | sed 's/^/  /'
mon_a=$(field spof-a monitorPID); init_b=$(field spof-b pid); init_c=$(field spof-c pid); mon_c=$(field spof-c monitorPID)
say
say "== kill -9 the monitor of spof-a (pid $mon_a) and the init of spof-b (pid $init_b)"
kill -9 "$mon_a" "$init_b"
sleep 1
"$nook" ps -a | sed 's/^/  /'
say
say "== Checks"
status_of() { "$nook" ps -a --format json | tr '{' '\n' | grep "\"id\":\"$1\"" | sed -n 's/.*"describedStatus":"\([^"]*\)".*/\1/p'; }
check "spof-a stopped with its monitor: $(status_of spof-a)" test "$(status_of spof-a)" = "stopped (monitor killed)"
check "spof-b's init was killed: $(status_of spof-b)" test "$(status_of spof-b)" = "exited (137)"
check "spof-c still runs: $(status_of spof-c)" test "$(status_of spof-c)" = "running"
check "spof-c's init (pid $init_c) and monitor (pid $mon_c) are alive" alive "$init_c"
"$nook" rm -f "${names[@]}" >/dev/null
left=$(ls -A "$XDG_RUNTIME_DIR/nook" | grep -v '^\.' || true)
check "after nook rm nothing is left in the state directory" test -z "$left"
check "spof-c's processes are gone" bash -c "! [ -d /proc/$init_c ] || grep -q 'State:.*Z' /proc/$init_c/status"
if [[ $failures == 0 ]]; then
  say "$name: all checks passed: killing one monitor stopped one container, and only it."
  exit 0
fi
say "$name: $failures check(s) failed"
exit 1
