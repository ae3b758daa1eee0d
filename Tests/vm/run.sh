#!/usr/bin/env bash
# Debian packages needed (besides the essential bash, dash, coreutils, util-linux, grep,
# sed, findutils, mawk, libc-bin):
#   apt-get install qemu-system-x86 linux-image-amd64 busybox-static uidmap xz-utils
# (uidmap: the setuid newuidmap/newgidmap the tests use in the guest; the runner boots without.
#  xz-utils: to unpack Debian's xz-compressed kernel once; priority standard, usually there.)
#
# Runs ONE command as an unprivileged user inside a throw-away qemu guest whose only cgroup
# hierarchy is cgroup v2, in a subtree delegated to that user (/sys/fs/cgroup/delegated/init).
# Needs no root and no /dev/kvm (qemu emulates the CPU): as root the user is nooktest (or
# --user NAME); as anyone else it is the caller.
#   Tests/vm/run.sh [--user NAME] [--share HOSTDIR]... [--env NAME=VALUE]... [--timeout SECONDS]
#                   [--kvm] [--verbose] -- CMD [ARGS...]
# The command's stdout and stderr come out here byte-exact and separate; the exit code is
# the command's, 124 on timeout, 125 when the guest itself failed (the console log's tail
# then goes to stderr), 77 when a needed package is missing. Guest root = host / read-only;
# each --share DIR is read-write at the same path. See README.md.
# Environment: NOOK_VM_CACHE (artefact cache), NOOK_VM_KVM=1 (like --kvm), NOOK_VM_MEM (MiB,
# default 1024), NOOK_VM_SMP (default 1), NOOK_VM_KEEP=1 (keep the temp dir with the logs),
# NOOK_VM_VERBOSE=1 (like --verbose: timings on stderr), NOOK_VM_APPEND (more kernel
# args), NOOK_VM_QEMU_ARGS (more qemu args).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Root (CI) runs the command as the test user; anyone else runs it as themselves: qemu runs
# as its caller, and 9p then reads and writes with the caller's rights only.
caller=$(id -un)
if [ "$(id -u)" = 0 ]; then user=nooktest; else user=$caller; fi
timeout_s=600
kvm=${NOOK_VM_KVM:-0}
verbose=${NOOK_VM_VERBOSE:-0}
shares=()
extra_env=()
# Debian's default PATH for users, plus sbin (newuidmap and friends are in /usr/bin anyway).
guest_path=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
usage() { sed -n '8,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --user) user=${2:?}; shift 2 ;;
    --share) shares+=("${2:?}"); shift 2 ;;
    --env) [[ ${2:-} == [A-Za-z_]*=* ]] || usage; extra_env+=("$2"); shift 2 ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --kvm) kvm=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[ $# -gt 0 ] || usage
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --timeout wants whole seconds" >&2; exit 2; }
t0=${EPOCHREALTIME/./}
vlog() { # bash's EPOCHREALTIME, in ms
  local now=${EPOCHREALTIME/./}
  if [ "$verbose" = 1 ]; then echo "nook-vm: +$(( (now - t0) / 1000 )) ms: $*" >&2; fi
}

# --- The test user (created by Scripts/test-users.sh, which is idempotent) --------------
if ! getent passwd "$user" >/dev/null && [ "$(id -u)" = 0 ] &&
   [[ $user == nooktest || $user == nooknosub ]]; then
  "$here/../../Scripts/test-users.sh"
fi
pw=$(getent passwd "$user") || { echo "run.sh: no user $user (see Scripts/test-users.sh)" >&2; exit 2; }
if [ "$(id -u)" != 0 ] && [ "$user" != "$caller" ]; then
  echo "run.sh: --user $user: as an ordinary user the guest runs your own user ($caller) only: qemu runs as you, and its 9p shares act with your rights; leave out --user, or run as root" >&2
  exit 2
fi
IFS=: read -r _ _ uid gid _ <<<"$pw"

# --- Shares: absolute, existing, never the kernel's own trees, parents first ------------
declare -A seen=()
sorted=()
for s in "${shares[@]}"; do
  d=$(realpath -e -- "$s" 2>/dev/null) || d=
  if [ -z "$d" ] || [ ! -d "$d" ]; then echo "run.sh: --share $s: not a directory" >&2; exit 2; fi
  case $d in
    /|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*)
      echo "run.sh: --share $d: refusing to share that" >&2; exit 2 ;;
    *[[:space:]]*|*\\*) echo "run.sh: --share $d: no blanks or backslashes, please" >&2; exit 2 ;;
  esac
  [ -n "${seen[$d]:-}" ] || { seen[$d]=1; sorted+=("$d"); }
done
if [ ${#sorted[@]} -gt 0 ]; then
  mapfile -t sorted < <(printf '%s\n' "${sorted[@]}" | awk '{ print length($0) "\t" $0 }' | sort -n | cut -f2-)
fi

# cwd: the host's, when the guest can see it (the guest has fresh tmpfs on /tmp, /var/tmp,
# /run unless shared); else /tmp. The user must also be allowed into it (checked in-guest).
cwd=$PWD
case $cwd in
  /tmp|/tmp/*|/var/tmp|/var/tmp/*|/run|/run/*|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*)
    visible=0
    for d in "${sorted[@]}"; do
      case $cwd/ in "$d"/*) visible=1 ;; esac
    done
    [ "$visible" = 1 ] || cwd=/tmp ;;
esac

# --- Artefacts ---------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nook-vm.XXXXXX")
qpid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local rc=$?
  if [ -n "$qpid" ]; then
    # timeout passes the TERM on to qemu (and KILLs it 5 s later if need be).
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/timeout.pid" ] && break; sleep 0.05; done
    if [ -s "$tmp/timeout.pid" ]; then kill "$(cat "$tmp/timeout.pid")" 2>/dev/null || true; fi
    wait "$qpid" 2>/dev/null || true
  fi
  exec 3>&- 4>&-
  if [ "${NOOK_VM_KEEP:-0}" = 1 ]; then echo "nook-vm: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

rc=0
art=$("$here/prepare.sh" --print-dir 2>"$tmp/prepare.log") || rc=$?
if [ "$rc" != 0 ]; then
  cat "$tmp/prepare.log" >&2
  [ "$rc" = 77 ] && exit 77
  exit 125
fi
vlog "artefacts in $art"

# --- The job share: what stage 2 needs -------------------------------------------------
job=$tmp/job
mkdir "$job"
# POSIX sh quoting for busybox sh in the guest: 'it'\''s' (any byte but NUL is fine).
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
  for v in "NOOK_USER=$user" "NOOK_UID=$uid" "NOOK_GID=$gid" "NOOK_TIMEOUT=$timeout_s" \
           "NOOK_CWD=$cwd" "NOOK_PATH=$guest_path"; do
    printf '%s=%s\n' "${v%%=*}" "$(q "${v#*=}")"
  done
} >"$job/config.sh"
{ printf 'set --'; for a in "$@"; do printf ' %s' "$(q "$a")"; done; echo; } >"$job/argv.sh"
{
  printf 'set -- "$@"'
  for a in "${extra_env[@]}"; do printf ' %s' "$(q "$a")"; done
  echo
} >"$job/env.sh"
: >"$job/shares"
virtfs=()
for i in "${!sorted[@]}"; do
  echo "share$i ${sorted[i]}" >>"$job/shares"
  virtfs+=(-virtfs "local,path=${sorted[i]//,/,,},mount_tag=share$i,security_model=none,multidevs=remap")
done

# A sparse scratch disk, so io.max tests have a real block device.
truncate -s 64M "$tmp/scratch.img"

# --- Output: virtio-serial ports -> fifos -> our stdout/stderr --------------------------
# qemu writes the fifos with blocking writes from the vCPU thread: when the guest's write
# returns the bytes are in the host pipe, so nothing is lost at the guest's reboot. We hold
# each fifo open read-write ourselves (fds 3, 4) so that the readers' open never blocks
# even if qemu dies before opening them; closing ours after qemu exits gives them EOF.
mkfifo "$tmp/stdout" "$tmp/stderr"
{ cat || cat >/dev/null; } <"$tmp/stdout" &
out_reader=$!
{ cat >&2 || cat >/dev/null; } <"$tmp/stderr" &
err_reader=$!
exec 3<>"$tmp/stdout" 4<>"$tmp/stderr"

# shellcheck disable=SC2054  # the commas are qemu option syntax
qargs=(
  -M pc -m "${NOOK_VM_MEM:-1024}" -smp "${NOOK_VM_SMP:-1}"
  -nodefaults -no-user-config -no-reboot -display none
  -kernel "$art/vmlinux" -initrd "$art/initramfs.cpio"
  -append "console=ttyS0 quiet panic=-1 rdinit=/init pci=noacpi rodata=off mitigations=off cryptomgr.notests i8042.noaux i8042.nokbd i8042.nopnp tsc=reliable ${NOOK_VM_APPEND:-}"
  -chardev "file,id=con,path=$tmp/console.log,append=on" -serial chardev:con
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
  -virtfs "local,path=${job//,/,,},mount_tag=nookjob,security_model=none"
  "${virtfs[@]}"
  -device virtio-serial-pci,id=vser
  -chardev "file,id=out,path=$tmp/stdout" -device virtserialport,bus=vser.0,chardev=out,name=nook.stdout
  -chardev "file,id=err,path=$tmp/stderr" -device virtserialport,bus=vser.0,chardev=err,name=nook.stderr
  -drive "file=$tmp/scratch.img,format=raw,if=none,id=scratch,discard=unmap"
  -device virtio-blk-pci,drive=scratch
)
# qboot (from qemu-system-data) starts the kernel ~0.2 s sooner than the default SeaBIOS.
qboot=/usr/share/qemu/qboot.rom
if [ -f "$qboot" ]; then qargs+=(-bios "$qboot"); fi
# NOOK_VM_QEMU_ARGS: more qemu arguments, split at blanks (for experiments).
read -r -a more <<<"${NOOK_VM_QEMU_ARGS:-}"
qargs+=("${more[@]}")
host_timeout=$((timeout_s + 60))
run_qemu() { # accel args...
  # Host-side bound: the guest's own timeout plus boot and shutdown; -k in case TERM hangs.
  # In a subshell: the shell that reaps a crashed qemu reports it ("Aborted"), and that
  # report belongs in the log, not on our stderr. The EXIT trap kills timeout by its pid.
  rm -f "$tmp/timeout.pid"
  {
    timeout -k 5 "$host_timeout" qemu-system-x86_64 "$@" "${qargs[@]}" &
    echo "$!" >"$tmp/timeout.pid"
    wait "$!"
  } >>"$tmp/qemu.log" 2>&1 3>&- 4>&- &
  qpid=$!
  local rc=0
  wait "$qpid" || rc=$?
  qpid=
  return "$rc"
}

qrc=0
if [ "$kvm" = 1 ] && [ -w /dev/kvm ]; then
  vlog "booting with kvm"
  run_qemu -accel kvm -cpu host || qrc=$?
  # A host where KVM cannot run this kernel (e.g. a PVM /dev/kvm): fall back to TCG.
  if [ ! -e "$job/started" ]; then
    echo "--- kvm boot failed (qemu $qrc), retrying with tcg" >>"$tmp/console.log"
    vlog "kvm failed, booting with tcg"
    qrc=0
    run_qemu -accel tcg -cpu Nehalem || qrc=$?
  fi
else
  vlog "booting with tcg"
  # Nehalem: glibc's AVX2 string functions are slow under TCG; this model avoids them.
  run_qemu -accel tcg -cpu Nehalem || qrc=$?
fi
vlog "qemu exited with $qrc"

exec 3>&- 4>&-
wait "$out_reader" "$err_reader" || true

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
  echo "nook-vm: host timeout: qemu killed after $host_timeout s" >>"$tmp/console.log"
  exit 124
fi
if [ -f "$job/rc" ]; then
  exit "$(cat "$job/rc")"
fi
{
  echo "nook-vm: the guest failed (qemu exit $qrc); console log tail:"
  tail -n 40 "$tmp/console.log" 2>/dev/null || true
  tail -n 10 "$tmp/qemu.log" 2>/dev/null || true
} >&2
exit 125
