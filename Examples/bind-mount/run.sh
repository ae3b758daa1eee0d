#!/usr/bin/env bash
# Threat: a malicious image writes to the host through a bind mount.
#
# The container's command runs as "root" and is given two host directories:
#   -v WORKSPACE:/work     a scratch directory of the user's (the legitimate share)
#   -v /etc:/host-etc      the host's real /etc, read-write (the careless share)
# It writes a file into /work, then tries to create /host-etc/nook-pwned and to
# append an account line to /host-etc/passwd. With Nook, container root is the
# ordinary user who started it (user namespace: container 0 -> your uid, host
# root unmapped), so the workspace file belongs to you on the host and both
# writes to /etc fail with "permission denied".
#
# Usage:  Examples/bind-mount/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
#   ROOTFS  a root filesystem to run in (default: a fresh `nook rootfs busybox`)
# Run it as an ordinary user. Started as root, it re-executes itself as the user
# nooktest (create it with Scripts/test-users.sh) from a 0755 temporary directory
# owned by that user, holding a copy of nook and of the rootfs.
# Exit status: 0 when every check at the end passed, 1 when one failed, 2 when
# the example could not run.
set -euo pipefail

name=bind-mount
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../rootful-control.sh
. "$(dirname "${BASH_SOURCE[0]}")/../rootful-control.sh"

# ---- Started as root: become the unprivileged test user, then the control ----
if [[ $(id -u) == 0 ]]; then
  stage_for_test_user
  run_as_test_user_then_control
fi

# ---- As an ordinary user --------------------------------------------------
start_as_user
trap 'rm -rf "$work"' EXIT
use_rootfs
mkdir "$work/workspace"

[[ ! -e /etc/nook-pwned ]] || die "/etc/nook-pwned already exists (left by an earlier run?): look at it, remove it as root, and run again"
passwd_before=$(sha256sum /etc/passwd | cut -d' ' -f1)

say "== The threat: a malicious image writes to the host through a bind mount"
say "You are $user (uid $uid), an ordinary user. The container gets two host directories:"
say "  /work      <- $work/workspace (a scratch directory of yours)"
say "  /host-etc  <- /etc (the host's real /etc, read-write)"
say "Its command runs as root inside the container and tries to write the host's /etc."
say ""

# The container's side. A real attacker would append "x::0:0:..." (a root account
# with no password); this line is locked (x) and unprivileged (uid 65534), so
# even a broken runtime could not hand out root by running this example.
read -r -d '' inside <<'EOF' || true
echo "inside:  I am $(id)"
echo "inside:  /host-etc/passwd is owned by $(stat -c '%u:%g' /host-etc/passwd) as I see it; its sha256 is $(sha256sum /host-etc/passwd | cut -d' ' -f1)"
if echo "written by container root" > /work/from-container.txt; then
  echo "RESULT workspace=written"
  echo "inside:  I wrote /work/from-container.txt; I see it owned by $(stat -c '%u:%g' /work/from-container.txt)"
else
  echo "RESULT workspace=failed"
fi
if err=$(touch /host-etc/nook-pwned 2>&1); then
  echo "RESULT create=WRITTEN"
  echo "inside:  I created /host-etc/nook-pwned"
else
  echo "RESULT create=denied"
  echo "inside:  create /host-etc/nook-pwned: $err"
fi
line='nook-pwned:x:65534:65534:written by a Nook example container:/nonexistent:/usr/sbin/nologin'
if err=$( { echo "$line" >> /host-etc/passwd; } 2>&1 ); then
  echo "RESULT append=WRITTEN"
  echo "inside:  I appended a line to /host-etc/passwd"
else
  echo "RESULT append=denied"
  echo "inside:  append to /host-etc/passwd: $err"
fi
EOF

set +e
"$nook" run --trace --rootfs "$rootfs" -v /etc:/host-etc -v "$work/workspace:/work" -- sh -c "$inside" \
  >"$work/out" 2>"$work/trace"
rc=$?
set -e

say "== What the runtime did (a few lines of --trace)"
grep -E '^trace: (id maps: (write [^ ]*/uid_map|newuidmap)|mount: open_tree\("(/etc|[^"]*/workspace)")' "$work/trace" | sed 's/^/  /' || true
say ""
say "== What the container printed"
grep -v '^RESULT ' "$work/out" | sed 's/^/  /' || true
if [[ $rc != 0 ]]; then
  say ""
  say "== nook exited with $rc; its error output:"
  grep -v '^trace: ' "$work/trace" | sed 's/^/  /' || true
fi
result() { sed -n "s/^RESULT $1=//p" "$work/out" | head -n1; }
seen_sha=$(sed -n 's/.*its sha256 is \([0-9a-f]*\).*/\1/p' "$work/out" | head -n1)

say ""
say "== What the host sees"
file=$work/workspace/from-container.txt
owner=
if [[ -e $file ]]; then
  owner=$(stat -c %u "$file")
  say "  $file is owned by uid $owner ($(stat -c %U "$file")): container root is you, not the host's root."
else
  say "  $file does not exist."
fi
if [[ -e /etc/nook-pwned ]]; then
  say "  /etc/nook-pwned EXISTS: the container wrote the host's /etc. Remove it as root."
else
  say "  /etc/nook-pwned does not exist."
fi
passwd_after=$(sha256sum /etc/passwd | cut -d' ' -f1)
if [[ $passwd_after == "$passwd_before" ]]; then
  say "  /etc/passwd is unchanged (sha256 $passwd_after)."
else
  say "  /etc/passwd CHANGED. Look for a line starting with nook-pwned: and remove it as root."
fi
if [[ $(result create) == denied && $(result append) == denied ]]; then
  say "  Why: /etc belongs to the host's root, who does not exist in the container's user"
  say "  namespace (it shows up as 65534, nobody). The container's capabilities count only"
  say "  for files whose owner is mapped, so its root has no more rights in /etc than $user."
fi

# ---- Checks ------------------------------------------------------------------
say ""
say "== Checks"
check "nook run exited with 0 (got $rc)" test "$rc" = 0
check "the container saw the host's real /etc/passwd (same sha256)" test "$seen_sha" = "$passwd_before"
check "container root wrote into the shared workspace" test "$(result workspace)" = written
check "that file is owned on the host by your uid $uid, not by root (got ${owner:-none})" \
  test -n "$owner" -a "$owner" = "$uid" -a "$owner" != 0
check "creating /host-etc/nook-pwned was denied inside the container" test "$(result create)" = denied
check "no new file in the host's /etc (/etc/nook-pwned does not exist)" test ! -e /etc/nook-pwned
check "appending to /host-etc/passwd was denied inside the container" test "$(result append)" = denied
check "the host's /etc/passwd has the same sha256 as before" test "$passwd_after" = "$passwd_before"

rootful_control_skipped
if [[ $failed == 0 ]]; then
  say "$name: all $passed checks passed: the bind mount gave the container no more than your own rights."
  exit 0
fi
say "$name: $failed of $((passed + failed)) checks FAILED"
exit 1
