#!/run/nook/sh
# Guest PID 1 after switch_root (busybox sh from the /run tmpfs; root = host / over 9p).
#   stage2 OUT_PORT ERR_PORT   (the virtio-serial devices for the command's stdout/stderr)
# Its environment is exactly the command's (set up by init). Runs the job's command as the
# test user inside /sys/fs/cgroup/delegated/init, relays its stdout/stderr (pipes, so
# `>/dev/stdout` works for the command) to the ports, enforces the timeout with
# delegated/cgroup.kill, writes the exit code to the job share and reboots (qemu runs with
# -no-reboot, so it exits). Not `set -e`: PID 1 must get to the end; if it dies anyway the
# kernel panics, qemu exits and run.sh reports a guest failure.
set -u
# Only ever as the guest's PID 1 (it reboots the machine at the end).
[ "$$" = 1 ] || { echo "stage2.sh: not PID 1, refusing to run" >&2; exit 1; }
N=/run/nook
J=$N/job
bb=$N/busybox
cg=/sys/fs/cgroup
out_port=$1 err_port=$2
t() { read -r up _ </proc/uptime; echo "nook-vm stage2 $up: $*" >/dev/console; }
finish() { # exit code
  echo "$1" >$J/rc
  t "exit code $1"
  $bb sync
  # Leave the shares clean (cache=mmap may hold dirty mmap'ed pages); innermost first.
  set --
  while read -r _ path; do set -- "$path" "$@"; done <$J/shares
  [ $# -eq 0 ] || $bb umount "$@" 2>/dev/console || $bb umount -l "$@" 2>/dev/console
  exec $bb reboot -f
}

# NOOK_USER NOOK_UID NOOK_GID NOOK_TIMEOUT NOOK_CWD (POSIX-quoted by run.sh); not exported.
# shellcheck source=/dev/null
. $J/config.sh
# The command and its arguments: `set -- 'arg' ...` (POSIX-quoted by run.sh).
# shellcheck source=/dev/null
. $J/argv.sh

$bb cat <$N/out >"$out_port" &
out_cat=$!
$bb cat <$N/err >"$err_port" &
err_cat=$!

: >$J/started
t "starting $*"
# The child moves itself into the delegated leaf before dropping to the user, so only the
# command's processes are ever in delegated/; PID 1, the relays and the watchdog stay in
# the root cgroup. busybox su (root needs no password; -p keeps the environment) sets the
# user's uid, gid and groups; the cd happens as the user: if the user may not enter the
# host's cwd, or the guest cannot see it, the command starts in /tmp.
(
  echo 0 >$cg/delegated/init/cgroup.procs || exit 125
  cd / || exit 125
  # The inner shell is the host's /bin/sh: busybox sh would prefer its own applets to the
  # host's programs (`sh`, `ls`, `dd`...). `--`: su's getopt permutes, so it would
  # otherwise parse the command's options too.
  # shellcheck disable=SC2016  # $1 and $@ belong to the inner sh
  exec $bb su -p -s /bin/sh -c \
    'cd -- "$1" 2>/dev/null || cd /tmp || exit 125; shift; unset OLDPWD; exec "$@"' \
    -- "$NOOK_USER" nook-vm "$NOOK_CWD" "$@"
) </dev/null >$N/out 2>$N/err &
cmd=$!

(
  $bb sleep "$NOOK_TIMEOUT"
  : >$N/timed-out
  echo 1 >$cg/delegated/cgroup.kill
) &
watchdog=$!

wait $cmd
rc=$?
kill $watchdog 2>/dev/null
if [ -e $N/timed-out ]; then rc=124; t "timed out after $NOOK_TIMEOUT s"; fi
t "command ended with $rc"

# Leftover background processes would keep the relays' pipes open: kill the whole subtree
# and wait until it is empty (cgroup.kill is asynchronous).
echo 1 >$cg/delegated/cgroup.kill
i=0
while [ $i -lt 500 ]; do
  populated=1
  while read -r k v; do [ "$k" = populated ] && populated=$v; done <$cg/delegated/cgroup.events
  [ "$populated" = 0 ] && break
  $bb usleep 10000
  i=$((i + 1))
done
wait $out_cat $err_cat
finish $rc
