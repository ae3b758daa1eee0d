# The control of bind-mount/ and malicious-image/: Docker's side, run for real.
# Source it after lib.sh. It defines
#   rootful_control       as root, after stage_for_test_user: the same careless bind
#                         mount under a rootful runtime (crun as root, the way dockerd's
#                         runc runs a container: no user namespace), then under Nook as
#                         $test_user, and `stat` of what each left on the host.
#                         Adds its checks to $passed/$failed (a setup step that
#                         fails stops the control and counts as a failure).
#   rootful_control_skipped   as an ordinary user: says plainly that it was skipped, and why
#                         (not when re-executed from root: root runs the control itself).
#   run_as_test_user_then_control [VAR=VALUE...]
#                         as root, after stage_for_test_user: the example as $test_user,
#                         then the control; exits 1 if a control check failed, else
#                         with the example's status.
#
# Everything root writes for the control is in $ctl, a directory root makes
# with mktemp -d (/tmp/nook-control-NAME.XXXXXX, 0755) and the EXIT trap
# removes; never under $tmp, which $test_user owns and could plant symlinks in.
# The "host's /etc" of the control is a decoy there: a root-owned directory
# holding a root-owned 0644 passwd. Under crun the write really succeeds, so it
# must never be the real /etc. crun runs a rootfs of root's own, not the one
# $test_user owns, with Docker's default masked and read-only paths.
# dockerd is not used: it is not installed here and would need its daemon and
# images; crun runs the same OCI bundle runc would be handed. crun refuses a
# hybrid cgroup host such as this one, and its cgroups are not what the control
# is about: it runs with --cgroup-manager=disabled in a private mount namespace
# whose /sys/fs/cgroup is a fresh cgroup2 mount, so it writes no cgroup at all.

# What the container of both runs does: the careless share's two writes, and a
# file in the user's workspace. The account line is locked (x) and unprivileged.
rootful_control_inside='id
echo "nook-control:x:65534:65534:written by a Nook example control:/nonexistent:/usr/sbin/nologin" >>/host-etc/passwd && echo "RESULT append=written"
echo pwned >/host-etc/nook-pwned && echo "RESULT create=written"
echo "written by container root" >/work/from-container.txt && echo "RESULT workspace=written"
true'

rootful_control_skipped() {
  [[ -z ${NOOK_EXAMPLE_REEXEC:-} ]] || return 0
  say ""
  say "== Control (Docker's side): SKIPPED, because it needs root"
  say "  The control runs the same bind mount under a rootful runtime (crun as root, as dockerd runs"
  say "  containers) and shows the host file it writes owned by uid 0. Only root can run a rootful"
  say "  runtime: run this script as root (sudo $self) to see it."
}

# Every setup step of the control: on failure, say which step and stop.
rootful_control_step() {
  "$@" && return 0
  say "  ABORTED: the control's setup failed at: $*"
  return 1
}
# The same for a step whose output goes to a new file: rootful_control_to FILE CMD...
rootful_control_to() {
  "${@:2}" >"$1" && return 0
  say "  ABORTED: the control's setup failed at: ${*:2} >$1"
  return 1
}

# A decoy host /etc (root-owned) and a workspace of the test user's, in a new $1.
# mkdir without -p: anything already there is an error, not reused.
rootful_control_dirs() {
  rootful_control_step mkdir -m 755 "$1" "$1/host-etc" "$1/workspace" || return 1
  rootful_control_to "$1/host-etc/passwd" printf 'root:x:0:0:root:/root:/bin/sh\n' || return 1
  rootful_control_step chmod 644 "$1/host-etc/passwd" || return 1
  rootful_control_step chown "$uid:$gid" "$1/workspace" || return 1
}

# Makes $ctl and everything crun and nook need in it. Root writes only here:
# never under $tmp, which $test_user owns (a symlink the user planted there,
# say $tmp/control -> /etc, would take root's writes anywhere).
rootful_control_setup() {
  ctl=$(mktemp -d "/tmp/nook-control-$name.XXXXXX") || { say "  ABORTED: mktemp -d failed"; return 1; }
  # lib.sh's EXIT trap removes $tmp; this one removes the control's directory too.
  # shellcheck disable=SC2064  # both paths are fixed now
  trap "rm -rf -- $(printf '%q ' "$tmp" "$ctl")" EXIT
  rootful_control_step test -d "$ctl" -a ! -L "$ctl" -a "$(stat -c %u "$ctl")" = 0 || return 1
  # 0755, not mktemp's 0700: the Nook half runs as $test_user and must reach its binds.
  rootful_control_step chmod 755 "$ctl" || return 1
  rootful_control_dirs "$ctl/crun" || return 1
  rootful_control_dirs "$ctl/nook" || return 1
  rootful_control_to "$ctl/control.sh" printf '%s\n' "$rootful_control_inside" || return 1
  rootful_control_step chmod 644 "$ctl/control.sh" || return 1
  # crun's state (--root) and the bundle are root's alone (0700).
  rootful_control_step mkdir -m 700 "$ctl/state" "$ctl/bundle" || return 1
  # crun's rootfs: root's own, never $tmp/rootfs, whose binaries $test_user could
  # have swapped at any time since staging. A copy of $ROOTFS (root's input),
  # else a busybox rootfs made by root's nook; all of it owned by root.
  if [[ -n ${ROOTFS:-} ]]; then
    rootful_control_step cp -a -- "$ROOTFS" "$ctl/bundle/rootfs" || return 1
  else
    rootful_control_to /dev/null "$nook" rootfs busybox "$ctl/bundle/rootfs" || return 1
  fi
  rootful_control_step chown -R 0:0 "$ctl/bundle/rootfs" || return 1
  # The OCI bundle dockerd would hand runc: no user namespace, so uid 0 in the
  # container is uid 0 on the host; binds as docker run -v makes them; Docker's
  # default masked and read-only /proc and /sys paths (moby's oci/defaults.go).
  rootful_control_to "$ctl/bundle/config.json" rootful_control_config || return 1
}

rootful_control_config() {
  cat <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
    "args": ["/bin/sh", "/control.sh"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"],
      "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"],
      "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"]
    },
    "noNewPrivileges": true
  },
  "root": {"path": "$ctl/bundle/rootfs", "readonly": true},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/control.sh", "type": "bind", "source": "$ctl/control.sh", "options": ["rbind", "ro"]},
    {"destination": "/host-etc", "type": "bind", "source": "$ctl/crun/host-etc", "options": ["rbind", "rw"]},
    {"destination": "/work", "type": "bind", "source": "$ctl/crun/workspace", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}],
    "maskedPaths": ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
      "/sys/devices/virtual/powercap"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF
}

# What the container said (stdout $2, stderr $3), then `stat` of what it left
# in $1 (paths relative to $ctl), one line per file.
rootful_control_report() { # dir, stdout, stderr
  local f
  cat "$2" "$3" | grep -v '^RESULT ' | sed 's/^/    inside: /' || true
  for f in host-etc/passwd host-etc/nook-pwned workspace/from-container.txt; do
    if [[ -e $1/$f ]]; then
      say "    host: $(cd "$1/.." && stat -c '%n  owner uid %u (%U), %s bytes' "$(basename "$1")/$f")"
    else
      say "    host: $(basename "$1")/$f does not exist"
    fi
  done
}

rootful_control() {
  local ctl crun_owner crun_rc nook_rc
  say ""
  say "== Control (Docker's side): the same bind mount under a rootful runtime, as root"
  if ! command -v crun >/dev/null || ! command -v unshare >/dev/null; then
    say "  SKIPPED: no crun here (Debian package crun): the control needs a rootful OCI runtime."
    return 0
  fi
  if ! rootful_control_setup; then
    say "  FAIL  control: could not set up its root-owned directory${ctl:+ $ctl}; crun was not run"
    failed=$((failed + 1))
    return 0
  fi
  say "  In $ctl, root's (0755), made for the control:"
  say "  crun/host-etc, a decoy of the host's /etc (root's, 0755, with a root-owned passwd), and"
  say "  crun/workspace, a directory of $test_user's. crun, as root, runs a root-owned busybox rootfs"
  say "  with them at /host-etc and /work, read-write, and no user namespace (dockerd's default):"
  set +e
  unshare -m sh -c 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup &&
    exec crun --cgroup-manager=disabled --root "$1/state" run --bundle "$1/bundle" "nook-control-$$"' sh "$ctl" \
    >"$ctl/crun.out" 2>"$ctl/crun.err"
  crun_rc=$?
  say "  crun exited with $crun_rc; on the host:"
  rootful_control_report "$ctl/crun" "$ctl/crun.out" "$ctl/crun.err"
  say "  The same command under Nook, as $test_user, with nook/host-etc and nook/workspace made the same way:"
  as_user ./nook run --rootfs "$tmp/rootfs" -v "$ctl/nook/host-etc:/host-etc" -v "$ctl/nook/workspace:/work" \
    -v "$ctl/control.sh:/control.sh:ro" -- sh /control.sh >"$ctl/nook.out" 2>"$ctl/nook.err"
  nook_rc=$?
  set -e
  say "  nook exited with $nook_rc; on the host:"
  rootful_control_report "$ctl/nook" "$ctl/nook.out" "$ctl/nook.err"
  crun_owner=$(stat -c %u "$ctl/crun/workspace/from-container.txt" 2>/dev/null || echo none)
  check "control: under crun as root the container created /host-etc/nook-pwned, owned by uid 0 on the host" \
    test "$(stat -c %u "$ctl/crun/host-etc/nook-pwned" 2>/dev/null)" = 0
  check "control: under crun as root its file in the user's workspace is owned by uid 0 (got $crun_owner)" \
    test "$crun_owner" = 0
  check "control: under crun as root the decoy passwd gained a line" grep -q '^nook-control:' "$ctl/crun/host-etc/passwd"
  check "under Nook (exit $nook_rc) the same writes to the root-owned directory were refused" \
    test "$nook_rc" = 0 -a ! -e "$ctl/nook/host-etc/nook-pwned" -a -z "$(grep '^nook-control:' "$ctl/nook/host-etc/passwd")"
  check "under Nook the file in the workspace is owned by $test_user (uid $uid), not root" \
    test "$(stat -c %u "$ctl/nook/workspace/from-container.txt" 2>/dev/null)" = "$uid"
}

run_as_test_user_then_control() { # extra VAR=VALUE for the example
  local rc=0
  set +e
  run_as_test_user "$@"
  rc=$?
  rootful_control
  if [[ $failed != 0 ]]; then
    say "$name: $failed of $((passed + failed)) control checks FAILED"
    exit 1
  fi
  say "$name: all $passed control checks passed."
  exit "$rc"
}
