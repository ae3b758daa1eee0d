# Shared by every Examples/*/run.sh: source it after setting `name`.
#
#   name=bind-mount
#   # shellcheck source=../lib.sh
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# It defines
#   say TEXT, die TEXT      a line on stdout; a message on stderr and exit 2
#   skip REASON             the line "SKIP: NAME: REASON" on stdout and exit 77: the
#                           example could not show its threat here (not a failure);
#                           run-all.sh counts it as skipped, with that reason
#   self, here, repo        the example's run.sh, its directory, the repository
#   find_nook               the nook binary ($NOOK, else `nook` on PATH) as an absolute path
#   check WHAT CMD...       runs CMD; prints "PASS  WHAT" or "FAIL  WHAT" and counts
#                           $passed and $failed
#   field CONTAINER KEY     a number from the container's state.json
#   alive PID               whether the process runs (not a zombie); false for an empty pid
#   gone PID                whether it does not; also false for an empty pid
#   become_test_user [VAR=VALUE...]
#                           when started as root: re-executes the example as the
#                           unprivileged user nooktest and exits with its status
# and, for examples that need more than become_test_user does:
#   stage_for_test_user     the first half: a 0755 temporary directory $tmp owned by
#                           nooktest, holding nook, lib.sh, run.sh and the rootfs;
#                           defines as_user CMD... (runs CMD as nooktest in $tmp)
#   stage_file SRC NAME     copies SRC to $tmp/NAME, owned by nooktest, mode 0755
#   run_as_test_user [VAR=VALUE...]
#                           the second half: runs the staged run.sh as nooktest with
#                           NOOK, ROOTFS, NOOK_EXAMPLE_REEXEC=1 and VAR=VALUE set;
#                           returns its exit status
# The re-executed copy lives in $tmp/$name/run.sh with lib.sh in $tmp/lib.sh,
# so it finds this file the same way.
# NOOK_EXAMPLE_USER=NAME: another unprivileged user than nooktest (one whose
# containers no one else on the machine sees).

test_user=${NOOK_EXAMPLE_USER:-nooktest}
say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$name" "$*" >&2; exit 2; }
skip_status=77  # automake's code for a skipped test
skip() { say "SKIP: $name: $*"; exit "$skip_status"; }

self=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)/$(basename "${BASH_SOURCE[1]}")
here=$(dirname "$self")
repo=$(cd "$here/../.." && pwd)
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

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

passed=0
failed=0
check() { # description, then a command that succeeds when the check passes
  local what=$1
  shift
  if "$@"; then
    say "  PASS  $what"
    passed=$((passed + 1))
  else
    say "  FAIL  $what"
    failed=$((failed + 1))
  fi
}

# A number from a container's state.json: field CONTAINER KEY (pid, monitorPID,
# networkHelperPID...), under $XDG_RUNTIME_DIR/nook.
field() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$XDG_RUNTIME_DIR/nook/$1/state.json"; }
# Whether a process is alive (a zombie is not). An empty or non-numeric pid
# (a field missing from state.json) is not: /proc/ itself would exist.
alive() { [[ $1 =~ ^[1-9][0-9]*$ && -d /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# Whether a process is gone: the opposite of alive, but only for a real pid.
gone() { [[ $1 =~ ^[1-9][0-9]*$ ]] && ! alive "$1"; }

# ---- Started as root: become the unprivileged test user --------------------
stage_for_test_user() {
  [[ -z ${NOOK_EXAMPLE_REEXEC:-} ]] || die "still root after switching to $test_user; refusing to run as root"
  getent passwd "$test_user" >/dev/null || die "user $test_user does not exist: run Scripts/test-users.sh as root first"
  command -v setpriv >/dev/null || die "setpriv not found (Debian package util-linux)"
  uid=$(id -u "$test_user")
  gid=$(id -g "$test_user")
  nook=$(find_nook)
  tmp=$(mktemp -d "/tmp/nook-example-$name.XXXXXX")
  # shellcheck disable=SC2064  # $tmp is fixed now
  trap "rm -rf '$tmp'" EXIT
  # The user must be able to read the binary, not only run it: a process that
  # runs an unreadable binary is not dumpable, its /proc/PID files belong to
  # root, and nook cannot write its child's id maps.
  mkdir "$tmp/$name"
  cp "$nook" "$tmp/nook"
  cp "$lib" "$tmp/lib.sh"
  cp "$(dirname "$lib")/rootful-control.sh" "$tmp/rootful-control.sh"  # sourced by some examples
  cp "$self" "$tmp/$name/run.sh"
  chown "$uid:$gid" "$tmp" "$tmp/nook" "$tmp/lib.sh" "$tmp/rootful-control.sh" "$tmp/$name" "$tmp/$name/run.sh"
  chmod 755 "$tmp" "$tmp/nook" "$tmp/lib.sh" "$tmp/rootful-control.sh" "$tmp/$name" "$tmp/$name/run.sh"
  # `nook pull` runs nook-registry from beside nook.
  if [[ -x $(dirname "$nook")/nook-registry ]]; then
    cp "$(dirname "$nook")/nook-registry" "$tmp/nook-registry"
    chown "$uid:$gid" "$tmp/nook-registry"
    chmod 755 "$tmp/nook-registry"
  fi
  if [[ -n ${ROOTFS:-} ]]; then
    [[ -d $ROOTFS ]] || die "ROOTFS=$ROOTFS is not a directory"
    cp -a "$ROOTFS" "$tmp/rootfs"
    chown -R "$uid:$gid" "$tmp/rootfs"
  else
    as_user ./nook rootfs busybox "$tmp/rootfs" >/dev/null || die "nook rootfs busybox failed"
  fi
}

as_user() {
  (cd "$tmp" && setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$tmp" TMPDIR="$tmp" "$@")
}

stage_file() { # source, name in $tmp
  cp "$1" "$tmp/$2"
  chown "$uid:$gid" "$tmp/$2"
  chmod 755 "$tmp/$2"
}

run_as_test_user() { # extra VAR=VALUE for the example
  say "Started as root: running the example as the unprivileged user $test_user (uid $uid) with setpriv."
  local rc=0
  as_user NOOK="$tmp/nook" ROOTFS="$tmp/rootfs" NOOK_EXAMPLE_REEXEC=1 "$@" bash "$tmp/$name/run.sh" || rc=$?
  return $rc
}

become_test_user() { # extra VAR=VALUE for the example
  stage_for_test_user
  set +e
  run_as_test_user "$@"
  exit $?
}

# ---- As the ordinary user ----------------------------------------------------
# Sets nook, uid, user, and work: a new scratch directory (the caller removes it).
start_as_user() {
  nook=$(find_nook)
  uid=$(id -u)
  user=$(id -un 2>/dev/null || echo "uid $uid")
  work=$(mktemp -d "${TMPDIR:-/tmp}/nook-$name.XXXXXX")
}

# A private state directory ($work/run/nook): this demo's containers only.
use_private_state() {
  export XDG_RUNTIME_DIR=$work/run
  mkdir -m 700 "$XDG_RUNTIME_DIR"
}

# Sets rootfs: $ROOTFS, or a fresh `nook rootfs busybox` in $work/rootfs.
use_rootfs() {
  if [[ -n ${ROOTFS:-} ]]; then
    [[ -d $ROOTFS ]] || die "ROOTFS=$ROOTFS is not a directory"
    rootfs=$ROOTFS
  else
    "$nook" rootfs busybox "$work/rootfs" >/dev/null || die "nook rootfs busybox failed"
    rootfs=$work/rootfs
  fi
}
