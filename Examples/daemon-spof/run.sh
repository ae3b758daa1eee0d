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
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# ---- Started as root: become the unprivileged test user --------------------
if [[ $(id -u) == 0 ]]; then become_test_user; fi

# ---- As an ordinary user --------------------------------------------------
start_as_user
use_rootfs
use_private_state
names=(spof-a spof-b spof-c)
cleanup() { for n in "${names[@]}"; do "$nook" rm -f "$n" >/dev/null 2>&1 || true; done; rm -rf "$work"; }
trap cleanup EXIT


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
check "spof-c's init (pid $init_c) is alive" alive "$init_c"
check "spof-c's monitor (pid $mon_c) is alive" alive "$mon_c"
"$nook" rm -f "${names[@]}" >/dev/null
left=$(ls -A "$XDG_RUNTIME_DIR/nook" | grep -v '^\.' || true)
check "after nook rm nothing is left in the state directory" test -z "$left"
check "spof-c's init (pid $init_c) is gone" gone "$init_c"
check "spof-c's monitor (pid $mon_c) is gone" gone "$mon_c"
if [[ $failed == 0 ]]; then
  say "$name: all checks passed: killing one monitor stopped one container, and only it."
  exit 0
fi
say "$name: $failed check(s) failed"
exit 1
