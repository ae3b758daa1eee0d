#!/usr/bin/env bash
# Threat: you run an image you do not trust, and its entrypoint tries to escape.
#
# The "image" is a copy of a busybox rootfs with two things added: the probe
# (Tests/probe, a static C program that tries one forbidden thing per check and
# prints the errno) and /entrypoint.sh, a shell script that tries, in order:
#   write the host's /etc/passwd through a read-write bind mount of /etc
#   create a file in a directory of yours that was shared read-only
#   create a kernel keyring (keyctl)          ptrace another process
#   mount a filesystem                        create a new user namespace
#   push keystrokes into your terminal (TIOCSTI, with a real terminal as stdin)
#   load a kernel module                      set the system clock
#   open a raw socket
# The container runs with -i under `script`, so its stdin is a real terminal.
# Every attempt must fail. The script prints one line per attempt with the
# errno and the layer that stopped it (seccomp, a missing capability, user
# namespace permissions, a read-only mount), then runs the same image again
# with one layer removed at a time, to show which layer it really was.
#
# Usage:  Examples/malicious-image/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
#   ROOTFS  a root filesystem to copy the image from (default: a fresh `nook rootfs busybox`)
#   PROBE   a built probe (default: built here with Tests/probe/build.sh, which needs gcc)
# Needs `script` (Debian package bsdutils) to give the container a terminal.
# Run it as an ordinary user. Started as root, it re-executes itself as the user
# nooktest (create it with Scripts/test-users.sh) from a 0755 temporary directory
# owned by that user, holding a copy of nook, of the rootfs and of the probe.
# Exit status: 0 when every attempt failed and every check passed, 1 when a
# check failed, 2 when the example could not run.
set -euo pipefail

name=malicious-image
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../rootful-control.sh
. "$(dirname "${BASH_SOURCE[0]}")/../rootful-control.sh"

# PROBE, or the probe built from Tests/probe into directory $1.
find_probe() {
  if [[ -n ${PROBE:-} ]]; then
    [[ -f $PROBE ]] || die "PROBE=$PROBE is not a file"
    printf '%s\n' "$PROBE"
    return
  fi
  [[ -f $repo/Tests/probe/build.sh ]] || die "no Tests/probe/build.sh next to this example: set PROBE=/path/to/probe"
  bash "$repo/Tests/probe/build.sh" "$1" >/dev/null || die "building the probe failed (it needs gcc and libc6-dev); or set PROBE"
  printf '%s\n' "$1/probe"
}

command -v script >/dev/null || die "script not found (Debian package bsdutils): it gives the container a terminal"

# ---- Started as root: become the unprivileged test user --------------------
if [[ $(id -u) == 0 ]]; then
  stage_for_test_user
  stage_file "$(find_probe "$tmp/probe-build")" probe
  rm -rf "$tmp/probe-build"
  run_as_test_user_then_control PROBE="$tmp/probe"
fi

# ---- As an ordinary user --------------------------------------------------
start_as_user
trap 'rm -rf "$work"' EXIT
probe=$(find_probe "$work/probe-build")

# The image: a copy of the rootfs (yours is never changed), plus the probe and the entrypoint.
image=$work/image
if [[ -n ${ROOTFS:-} ]]; then
  [[ -d $ROOTFS ]] || die "ROOTFS=$ROOTFS is not a directory"
  cp -a "$ROOTFS" "$image"
else
  "$nook" rootfs busybox "$image" >/dev/null || die "nook rootfs busybox failed"
fi
cp "$probe" "$image/bin/probe"
chmod 755 "$image/bin/probe"
cat >"$image/entrypoint.sh" <<'EOF'
#!/bin/sh
# The entrypoint of a malicious image: it tries to get out. The probe makes
# each attempt (one system call, undone if it worked) and prints the errno.
echo "inside: I am $(id); my uid_map is: $(awk '{printf "%s%s %s %s", s, $1, $2, $3; s="; "}' /proc/self/uid_map)"
echo "inside: $(probe status | sed 's/.*detail=//; s/,Uid=.*//')"
echo "inside: /host-etc/passwd is owned by $(stat -c %u:%g /host-etc/passwd) as I see it; stdin is a terminal: $([ -t 0 ] && echo yes || echo no)"
attempt() { # label, probe check
  out=$(probe "$2")
  echo "ATTEMPT $1 ${out#* }"
}
attempt host-etc     write:/host-etc/passwd  # the host's /etc, shared read-write by a careless user
attempt shared-ro    write:/shared/pwned     # the user's own directory, shared read-only
attempt keyctl       keyctl                  # a kernel keyring: keys are not namespaced
attempt ptrace       ptrace                  # attach to another process
attempt mount        mount                   # mount a filesystem over something
attempt unshare-user unshare_user            # a new user namespace: a fresh, full set of capabilities
attempt tiocsti      tiocsti                 # type a command into the user's terminal (CVE-2017-5226)
attempt init-module  init_module             # load a kernel module
attempt settime      settime                 # change the system clock
attempt net-raw      net_raw                 # a raw socket: forge or sniff packets
echo "inside: done"
EOF
chmod 755 "$image/entrypoint.sh"

# A directory of the user's, shared read-only; a canary shows it stayed unchanged.
mkdir "$work/shared"
echo "the user's data" >"$work/shared/canary"
shared_before=$(ls -A "$work/shared" | tr '\n' ' ')
passwd_before=$(sha256sum /etc/passwd | cut -d' ' -f1)

# Runs the image with a real terminal as stdin (script) and -i.
# $1: a name for the output files; the rest: extra nook run flags.
run_image() {
  local tag=$1
  shift
  local cmd
  cmd=$(printf '%q ' "$nook" run -i --rootfs "$image" -v /etc:/host-etc "$@" -- /entrypoint.sh)
  set +e
  script -qec "$cmd 2>$(printf '%q' "$work/$tag.err")" /dev/null </dev/null | tr -d '\r' >"$work/$tag.out"
  local rc=${PIPESTATUS[0]}
  set -e
  echo "$rc" >"$work/$tag.rc"
}
# The result of one attempt in one run: the errno name (EPERM), ok, killed or
# timeout as the probe said, or "missing" if the entrypoint did not get that far.
result() { # tag, label
  local line
  line=$(grep -m1 "^ATTEMPT $2 " "$work/$1.out" || true)
  [[ -n $line ]] || { echo missing; return; }
  line=${line#ATTEMPT $2 result=}
  case $line in
    err*) echo "$line" | sed -n 's/^err errno=\([A-Z0-9]*\).*/\1/p' ;;
    *) echo "${line%% *}" ;;
  esac
}

say "== The threat: an image you do not trust tries to escape"
say "You are $user (uid $uid). The image's entrypoint runs as root inside the container, with"
say "  /host-etc  <- /etc, the host's real /etc, read-write (a careless share)"
say "  /shared    <- $work/shared, a directory of yours, read-only"
say "and a real terminal as stdin (nook run -i, under script)."
say ""

run_image main --trace -v "$work/shared:/shared:ro"
rc=$(cat "$work/main.rc")
shared_after_main=$(ls -A "$work/shared" | tr '\n' ' ')

say "== What the runtime did (a few lines of --trace)"
grep -E '^trace: (id maps: (write [^ ]*/uid_map|newuidmap)|mount: open_tree\("(/etc|[^"]*/shared)"|capabilities|no_new_privs|seccomp)' "$work/main.err" \
  | sed 's/^/  /' || true
say ""
say "== What the image printed"
grep '^inside:' "$work/main.out" | sed 's/^/  /' || true
if [[ $rc != 0 ]]; then
  say ""
  say "== nook exited with $rc; its error output:"
  grep -v '^trace: ' "$work/main.err" | sed 's/^/  /' || true
fi
say ""

# label | what it tried | the layer that stops it, and why
attempts=(
  "host-etc|append to /host-etc/passwd (the host's /etc, bound read-write)|user namespace permissions: /etc/passwd belongs to host root, who is not mapped in the container (it shows as 65534), and capabilities count only for files whose owner is mapped"
  "shared-ro|create /shared/pwned (your own directory, bound read-only)|read-only mount: the bind was made read-only before it was attached; your own permissions would have allowed the write"
  "keyctl|create a kernel keyring (keyctl)|seccomp: keyctl is not on the default profile's allowlist; keyrings are not namespaced"
  "ptrace|attach to another process (ptrace)|seccomp: the default profile allows ptrace only with CAP_SYS_PTRACE, which the container does not have"
  "mount|mount a tmpfs (mount)|seccomp: mount is allowed only with CAP_SYS_ADMIN"
  "unshare-user|create a new user namespace (unshare)|seccomp: unshare is allowed only with CAP_SYS_ADMIN; a new user namespace would hand out a full capability set"
  "tiocsti|push a keystroke into the terminal (ioctl TIOCSTI)|seccomp: ioctl is allowed for every request but TIOCSTI (CVE-2017-5226); behind it, the kernel refuses TIOCSTI on a terminal that is not the caller's controlling terminal (the container runs in a session of its own)"
  "init-module|load a kernel module (init_module)|seccomp: init_module is allowed only with CAP_SYS_MODULE"
  "settime|set the system clock (clock_settime)|seccomp: clock_settime is allowed only with CAP_SYS_TIME"
  "net-raw|open a raw socket (socket SOCK_RAW)|capability: CAP_NET_RAW is not in the container's set; seccomp itself lets socket() through"
)

say "== What the image tried, and what stopped it"
filtered=yes
grep -q '^inside: .*Seccomp=2' "$work/main.out" || filtered=no
for entry in "${attempts[@]}"; do
  IFS='|' read -r label what why <<<"$entry"
  r=$(result main "$label")
  if [[ $why == seccomp* && $filtered == no ]]; then why="something other than seccomp: NO seccomp filter was loaded"; fi
  case $r in
    ok) say "  $what: SUCCEEDED. Nothing stopped it." ;;
    missing) say "  $what: no result (the entrypoint did not get this far)." ;;
    *) say "  $what: failed with $r, stopped by $why." ;;
  esac
done
say ""

# The same image again, each time with one layer removed, to show which layer it was.
run_image noseccomp --seccomp unconfined -v "$work/shared:/shared:ro"
run_image netraw --cap-add NET_RAW -v "$work/shared:/shared:ro"
run_image sharedrw -v "$work/shared:/shared"
say "== Which layer it was: the same image again, one layer removed at a time"
printf '  %-13s %-9s %-21s %-18s %s\n' attempt "as run" "--seccomp unconfined" "--cap-add NET_RAW" "/shared read-write"
for entry in "${attempts[@]}"; do
  IFS='|' read -r label _ _ <<<"$entry"
  printf '  %-13s %-9s %-21s %-18s %s\n' "$label" "$(result main "$label")" "$(result noseccomp "$label")" \
    "$(result netraw "$label")" "$(result sharedrw "$label")"
done
say "  Where a column says ok, removing that layer alone let the attempt through: that layer stopped it."
behind=()
for entry in "${attempts[@]}"; do
  IFS='|' read -r label _ why <<<"$entry"
  r=$(result noseccomp "$label")
  if [[ $why == seccomp* && $r != ok ]]; then behind+=("$label ($r)"); fi
done
if [[ ${#behind[@]} -gt 0 ]]; then
  say "  Stopped by seccomp, yet still failing without it: ${behind[*]}."
  say "  There a second layer stands behind seccomp. EPERM is the kernel's own capability check: the"
  say "  container lacks CAP_SYS_ADMIN, and CAP_SYS_MODULE or CAP_SYS_TIME would not help, as the kernel"
  say "  honours them only in the initial user namespace; for TIOCSTI, that the terminal is not the"
  say "  container's controlling terminal (it runs in a session of its own). ENOSYS: this kernel lacks"
  say "  the feature."
fi
say ""

say "== What the host sees"
passwd_after=$(sha256sum /etc/passwd | cut -d' ' -f1)
if [[ $passwd_after == "$passwd_before" ]]; then
  say "  /etc/passwd is unchanged (sha256 $passwd_after)."
else
  say "  /etc/passwd CHANGED: look at its end as root and remove what the container wrote."
fi
if [[ $shared_after_main == "$shared_before" ]]; then
  say "  Your shared directory holds what it held before the attack: $shared_after_main"
else
  say "  Your shared directory CHANGED: it held $shared_before, after the attack $shared_after_main"
fi

# ---- Checks ------------------------------------------------------------------
say ""
say "== Checks"
failed_attempt() { local r; r=$(result main "$1"); [[ $r != ok && $r != missing ]]; }
check "nook run exited with 0 (got $rc)" test "$rc" = 0
check "the entrypoint ran to its end" grep -q '^inside: done' "$work/main.out"
check "its stdin was a real terminal, so TIOCSTI was a real threat" grep -q '^ATTEMPT tiocsti .*tty=yes' "$work/main.out"
for entry in "${attempts[@]}"; do
  IFS='|' read -r label what _ <<<"$entry"
  check "the image could not $what (got $(result main "$label"))" failed_attempt "$label"
done
check "the host's /etc/passwd has the same sha256 as before" test "$passwd_after" = "$passwd_before"
check "your read-only shared directory holds what it held before" test "$shared_after_main" = "$shared_before"

rootful_control_skipped
if [[ $failed == 0 ]]; then
  say "$name: all $passed checks passed: every escape attempt failed."
  exit 0
fi
say "$name: $failed of $((passed + failed)) checks FAILED"
exit 1
