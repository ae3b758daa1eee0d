#!/bin/sh
# Guest PID 1 in the initramfs (static busybox sh). Loads the virtio/9p modules, mounts the
# host's / read-only (9p tag hostroot) at /newroot, fresh proc/sys/dev and tmpfs on /tmp,
# /var/tmp, /run, the job share and the --share directories, a pure cgroup2 hierarchy with a
# subtree delegated to the test user, then switch_root's into stage2 with exactly the
# user's environment. switch_root, not chroot: user namespaces and pivot_root refuse to
# work in a chroot. Every exec costs ~20-60 ms under TCG, so this does as much as it can
# with shell builtins, and before switch_root (busybox is at hand here).
# On any failure PID 1 exits: the kernel panics, panic=-1 reboots, qemu -no-reboot exits,
# and run.sh reports the console log.
set -eu
# Only ever as the guest's PID 1: these mounts must never happen on a host.
[ "$$" = 1 ] || { echo "init.sh: not PID 1, refusing to run" >&2; exit 1; }
# Applets are called by name once /proc is there: this busybox sh runs mkdir, ln, chown,
# cp, mkfifo... in a fork without exec, and the others through /proc/self/exe; mount and
# modprobe are real execs, so the mounts go in batches through fstab files.
export PATH=/bin

/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox mount -t proc proc /proc
t() { read -r up _ </proc/uptime; echo "nook-vm init $up: $*"; }
t start

# One modprobe for all modules (modules.dep in the initramfs is trimmed to these).
read -r mods </modules.list
# shellcheck disable=SC2086  # a list of module names
modprobe -a $mods
t modules

R=/newroot
J=$R/run/nook/job
p9=trans=virtio,version=9p2000.L,msize=512000
ns=nosuid,nodev
{
  echo "hostroot $R 9p $p9,cache=loose,ro 0 0"
  echo "proc $R/proc proc $ns,noexec 0 0"
  echo "sysfs $R/sys sysfs $ns,noexec 0 0"
  echo "devtmpfs $R/dev devtmpfs nosuid 0 0"
  echo "tmpfs $R/tmp tmpfs $ns,mode=1777 0 0"
  echo "tmpfs $R/var/tmp tmpfs $ns,mode=1777 0 0"
  echo "tmpfs $R/run tmpfs $ns,mode=755 0 0"
} >/fstab.1
mount -a -T /fstab.1
mkdir -p $R/dev/pts $R/dev/shm $J $R/run/user
{
  echo "devpts $R/dev/pts devpts nosuid,noexec,gid=5,mode=620,ptmxmode=666 0 0"
  echo "tmpfs $R/dev/shm tmpfs $ns,mode=1777 0 0"
  echo "nookjob $J 9p $p9,cache=none 0 0"
  echo "cgroup2 $R/sys/fs/cgroup cgroup2 nsdelegate,$ns,noexec 0 0"
} >/fstab.2
mount -a -T /fstab.2
for f in fd:fd stdin:fd/0 stdout:fd/1 stderr:fd/2; do
  ln -s "/proc/self/${f#*:}" "$R/dev/${f%%:*}"
done
# --share directories, parents first (run.sh sorts them; their paths have no blanks).
# cache=mmap writes through to the host at once, so results survive a killed guest.
: >/fstab.3
while read -r tag path; do
  mkdir -p "$R$path"
  echo "$tag $R$path 9p $p9,cache=mmap 0 0" >>/fstab.3
done <$J/shares
if [ -s /fstab.3 ]; then mount -a -T /fstab.3; fi
t mounts

# NOOK_USER NOOK_UID NOOK_GID NOOK_TIMEOUT NOOK_CWD NOOK_PATH (POSIX-quoted by run.sh)
# shellcheck source=/dev/null
. $J/config.sh
uid=$NOOK_UID gid=$NOOK_GID

# cgroup v2 only: all controllers for the root's children, a delegated subtree owned by the
# user like systemd's Delegate=yes does it (the directory, cgroup.procs, cgroup.threads,
# cgroup.subtree_control, and everything in its leaf delegated/init).
cg=$R/sys/fs/cgroup
read -r ctrls <$cg/cgroup.controllers
plus=
for c in $ctrls; do plus="$plus +$c"; done
echo "$plus" >$cg/cgroup.subtree_control
mkdir $cg/delegated $cg/delegated/init
echo "$plus" >$cg/delegated/cgroup.subtree_control
chown "$uid:$gid" $cg/delegated $cg/delegated/cgroup.procs $cg/delegated/cgroup.threads \
  $cg/delegated/cgroup.subtree_control
chown -R "$uid:$gid" $cg/delegated/init
t cgroups

# The virtio-serial ports by name (no udev here to make /dev/virtio-ports/ links).
out_port='' err_port=''
for d in "$R"/sys/class/virtio-ports/vport*; do
  read -r name <"$d/name"
  case $name in
    nook.stdout) out_port=/dev/${d##*/} ;;
    nook.stderr) err_port=/dev/${d##*/} ;;
  esac
done
[ -n "$out_port" ] && [ -n "$err_port" ]
# The scratch disk for io.max tests: the only virtio-blk disk; the user may write to it.
blk_path='' blk_dev=''
for d in "$R"/sys/block/vd*; do
  if [ -e "$d/dev" ]; then
    blk_path=/dev/${d##*/}
    read -r blk_dev <"$d/dev"
    chown "$uid:$gid" "$R$blk_path"
    break
  fi
done
# Debian kernels gate unprivileged user namespaces behind this sysctl (default on; be sure).
if [ -e /proc/sys/kernel/unprivileged_userns_clone ]; then
  echo 1 >/proc/sys/kernel/unprivileged_userns_clone
fi
# A per-user runtime dir as a login session would give (rootless runtimes keep state there).
rundir=/run/user/$uid
mkdir -m 0700 "$R$rundir"
chown "$uid:$gid" "$R$rundir"

# Stage 2 runs from the /run tmpfs, which survives switch_root; sh is busybox's.
cp /bin/busybox /stage2 $R/run/nook/
ln -s busybox $R/run/nook/sh
mkfifo -m 600 $R/run/nook/out $R/run/nook/err

# The command's environment, and nothing else, becomes stage 2's; its own variables are
# not exported. Extra --env settings come last (they may override these).
set -- \
  PATH="$NOOK_PATH" HOME=/tmp USER="$NOOK_USER" LOGNAME="$NOOK_USER" SHELL=/bin/sh \
  LANG=C.UTF-8 XDG_RUNTIME_DIR="$rundir" \
  NOOK_IN_VM=1 NOOK_VM_CGROUP=/sys/fs/cgroup/delegated \
  NOOK_VM_BLOCKDEV="$blk_dev" NOOK_VM_BLOCKDEV_PATH="$blk_path"
# shellcheck source=/dev/null
. $J/env.sh
t switch_root
exec env -i "$@" switch_root $R /run/nook/sh /run/nook/stage2 "$out_port" "$err_port"
