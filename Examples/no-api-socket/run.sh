#!/usr/bin/env bash
# Threat: an exposed daemon API socket is a remote root shell.
#
# dockerd listens on /var/run/docker.sock (and, when configured, on a TCP
# port). Whoever can connect to it can ask the root daemon for a container
# with `-v /:/host --privileged`: root on the host. Nook has no daemon and no
# API: this demo looks at every Nook process during a container's whole life
# and shows that none of them ever holds a listening socket, TCP, UDP or unix:
#   1. a foreground `nook run` (the container's supervisor);
#   2. a detached `nook run -d`: its monitor (`nook __monitor`);
#   3. an OCI `nook create` (the container's init waits, still running the
#      nook binary) and `nook start` (after which no Nook process is left).
# A background watcher samples every process running the nook binary all along,
# so short-lived ones (`nook create`, `nook start`, `nook ps`) are seen too.
# For each socket a process holds (a `socket:[INODE]` link in /proc/PID/fd) it
# finds the inode in that process's network namespace tables
# (/proc/PID/net/tcp, tcp6, udp, udp6, raw, raw6, unix, netlink, packet):
# TCP in state 0A (LISTEN), any bound UDP or raw socket, and unix sockets with
# the __SO_ACCEPTCON flag (00010000) would be endpoints others could reach.
# Last, a control: a container whose own program (busybox nc) listens on a TCP
# port, to show that the same detector does find a listening socket.
#
# Only processes whose /proc/PID/exe is the nook binary are Nook processes
# here: helpers that a network mode may start (pasta, slirp4netns) are other
# programs, and the control's listener is the container's own program.
#
# Usage:  Examples/no-api-socket/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
#   ROOTFS  a root filesystem to run in (default: a fresh `nook rootfs busybox`)
# Needs jq (to write the OCI bundle's config.json).
# Run it as an ordinary user. Started as root, it re-executes itself as the user
# nooktest (create it with Scripts/test-users.sh).
# Exit status: 0 when no Nook process had a listening socket and every check
# passed, 1 when a check failed, 2 when the example could not run.
set -euo pipefail

name=no-api-socket
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v jq >/dev/null || die "jq not found (Debian package jq): it writes the OCI bundle's config.json"

# ---- Started as root: become the unprivileged test user --------------------
if [[ $(id -u) == 0 ]]; then become_test_user; fi

# ---- As an ordinary user --------------------------------------------------
start_as_user
use_private_state
suffix=$$
names=("quiet-$suffix" "oci-$suffix" "server-$suffix")
watcher=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ -n $watcher ]]; then kill "$watcher" 2>/dev/null || true; fi
  for n in "${names[@]}"; do "$nook" rm -f "$n" >/dev/null 2>&1 || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
use_rootfs

# ---- The detector --------------------------------------------------------------
# Pids of every process running the nook binary (ours: /proc/PID/exe of another
# user's process cannot be read).
nook_pids() {
  find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$nook" 2>/dev/null | cut -d/ -f3 | sort -n
  return 0
}

# The socket tables of one network namespace, seen through a process in it
# (/proc/PID/net/*), one row per socket: proto inode state listening what.
socket_table() { # /proc/PID/net
  local net=$1 t
  for t in tcp tcp6; do
    [[ -r $net/$t ]] && awk -v p=$t 'NR > 1 { print p, $10, $4, ($4 == "0A" ? "yes" : "no"), $2 "->" $3 }' "$net/$t"
  done
  for t in udp udp6 raw raw6; do
    # A bound UDP or raw socket receives whatever is sent to its address.
    [[ -r $net/$t ]] && awk -v p=$t 'NR > 1 { print p, $10, $4, "yes", "bound " $2 }' "$net/$t"
  done
  # Flags is 8 hex digits; __SO_ACCEPTCON (00010000, bit 16) is the lowest bit of
  # the fourth digit from the left. (Plain awk: mawk has no strtonum or and().)
  [[ -r $net/unix ]] && awk 'NR > 1 {
      acc = (index("13579bdfBDF", substr($4, length($4) - 4, 1)) > 0) ? "yes" : "no"
      type = ($5 == "0001" ? "stream" : ($5 == "0002" ? "dgram" : "seqpacket"))
      print "unix", $7, $6, acc, type " " ($8 == "" ? "(unnamed)" : $8)
    }' "$net/unix"
  [[ -r $net/netlink ]] && awk 'NR > 1 { print "netlink", $NF, "-", "no", "protocol " $2 }' "$net/netlink"
  [[ -r $net/packet ]] && awk 'NR > 1 { print "packet", $NF, "-", "yes", "raw packets" }' "$net/packet"
  return 0
}

# One line per socket that PID holds:
#   fd=N inode=I proto=P state=S listening=yes|no netns=own|host what=TEXT
# A socket lives in the network namespace it was made in: first PID's own
# (/proc/PID/net), then this shell's, the host's (a socketpair nook made before
# it cloned the container's init belongs there).
sockets_of() {
  local pid=$1 fd target inodes=()
  for fd in /proc/"$pid"/fd/*; do
    target=$(readlink "$fd" 2>/dev/null) || continue
    [[ $target == socket:\[*\] ]] || continue
    target=${target#socket:[}
    inodes+=("${fd##*/}=${target%]}")
  done
  [[ ${#inodes[@]} -gt 0 ]] || return 0
  socket_table "/proc/$pid/net" 2>/dev/null | sed 's/$/ own/' >"$work/table.$pid" || true
  socket_table "/proc/$$/net" 2>/dev/null | sed 's/$/ host/' >>"$work/table.$pid" || true
  local entry fdn inode row proto state listening what ns
  for entry in "${inodes[@]}"; do
    fdn=${entry%%=*}
    inode=${entry#*=}
    row=$(awk -v i="$inode" '$2 == i { $2 = ""; print; exit }' "$work/table.$pid")
    if [[ -z $row ]]; then
      printf 'fd=%s inode=%s proto=? state=? listening=no netns=? what=in no table\n' "$fdn" "$inode"
    else
      read -r proto state listening what <<<"$row"
      ns=${what##* }
      what=${what% *}
      printf 'fd=%s inode=%s proto=%s state=%s listening=%s netns=%s what=%s\n' \
        "$fdn" "$inode" "$proto" "$state" "$listening" "$ns" "$what"
    fi
  done
  rm -f "$work/table.$pid"
}

# What PID runs, in a few words.
role_of() {
  local args=()
  mapfile -d '' -t args <"/proc/$1/cmdline" 2>/dev/null || true
  # nook writes a title over its arguments once it has read them ("nook __monitor"): one string.
  if [[ ${#args[@]} == 1 ]]; then read -r -a args <<<"${args[0]}"; fi
  if [[ $1 == "${oci_init:-}" ]]; then
    printf '%s\n' "create (now the container's init, waiting for start)"
  else
    printf '%s\n' "${args[1]:-?}"
  fi
}

# Prints PID's sockets in plain words; returns 1 when one of them listens.
report() { # pid, label
  local pid=$1 label=$2 lines listening=0
  lines=$(sockets_of "$pid")
  if [[ -z $lines ]]; then
    say "  $label (pid $pid): no socket at all."
    return 0
  fi
  say "  $label (pid $pid): $(wc -l <<<"$lines") socket(s):"
  while IFS= read -r l; do
    say "    $l"
    [[ $l != *" listening=yes "* ]] || listening=1
  done <<<"$lines"
  return $listening
}

# Every Nook process at this moment, with its sockets; returns 1 on a listener.
report_all() { # when
  local pids p bad=0
  pids=$(nook_pids)
  if [[ -z $pids ]]; then
    say "  $1: no process runs the nook binary."
    return 0
  fi
  for p in $pids; do report "$p" "$1: nook $(role_of "$p")" || bad=1; done
  return $bad
}

# The watcher: every 20 ms, every Nook process and its sockets, into a log.
watch_sockets() {
  local p role
  while :; do
    for p in $(nook_pids); do
      role=$(role_of "$p" | tr ' ' '~')
      # Skip a process that exec'd another program (a container's init) meanwhile.
      [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$nook" ]] || continue
      printf 'pid=%s cmd=%s\n' "$p" "$role"
      sockets_of "$p" | sed "s/^/pid=$p /"
    done
    printf 'sample\n'
    sleep 0.02
  done
}

say "== The threat: an exposed daemon API socket is a remote root shell"
say "Docker's daemon runs as root and listens on /var/run/docker.sock; anyone who can"
say "connect (every member of the docker group, or anyone if it is bound to TCP) can run"
say "  docker -H unix:///var/run/docker.sock run -v /:/host --privileged ... chroot /host"
say "and is root on the host."
if [[ -S /var/run/docker.sock ]]; then
  say "This host has one: $(ls -l /var/run/docker.sock)"
else
  say "This host has no /var/run/docker.sock (no Docker here); nothing below needs one."
fi
say "Nook is a command, not a service. Below, you ($user, uid $uid) run containers every"
say "way Nook can, while a watcher samples every process that runs the nook binary"
say "($nook) and every socket it holds."
say ""

watch_sockets >"$work/watch.log" 2>/dev/null &
watcher=$!

failed_phase=()

say "== 1. Foreground: nook run is the container's supervisor while it runs"
"$nook" run --rootfs "$rootfs" -- sleep 2 &
fg=$!
sleep 1
report "$fg" "nook run (foreground)" || failed_phase+=(foreground)
fg_alive=no
[[ -d /proc/$fg ]] && fg_alive=yes
set +e
wait "$fg"
fg_rc=$?
set -e
say "  nook run exited with $fg_rc."
say ""

say "== 2. Detached: nook run -d leaves one monitor per container"
"$nook" run -d --name "quiet-$suffix" --rootfs "$rootfs" -- sleep 300 >/dev/null
# The monitor's pid is in the container's state file (nook ps shows the container's).
monitor=$(sed -n 's/.*"monitorPID":\([0-9]*\).*/\1/p' "$XDG_RUNTIME_DIR/nook/quiet-$suffix/state.json")
"$nook" ps | sed 's/^/  /'
if [[ -n $monitor ]]; then
  report "$monitor" "the monitor (nook __monitor)" || failed_phase+=(monitor)
else
  say "  no monitorPID in the container's state.json"
  failed_phase+=(monitor)
fi
report_all "every Nook process now" || failed_phase+=(detached)
say ""

say "== 3. OCI: nook create, then nook start (as podman or containerd call it)"
bundle=$work/bundle
mkdir "$bundle"
"$nook" spec --bundle "$bundle"
jq --arg root "$rootfs" '.root.path = $root | .process.args = ["sleep", "300"] | .process.terminal = false' \
  "$bundle/config.json" >"$bundle/config.new" && mv "$bundle/config.new" "$bundle/config.json"
"$nook" create --bundle "$bundle" "oci-$suffix"
oci_init=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$XDG_RUNTIME_DIR/nook/oci-$suffix/state.json" | head -n1)
say "  After nook create: the container's init (pid ${oci_init:-?}) waits for start; it still runs the nook binary."
report_all "after create" || failed_phase+=(create)
"$nook" start "oci-$suffix"
sleep 0.2
left_after_start=$(nook_pids | grep -vx "${monitor:-none}" || true)
say "  After nook start: processes running the nook binary, besides the monitor of part 2: ${left_after_start:-none}."
report_all "after start" || failed_phase+=(start)
"$nook" delete --force "oci-$suffix"
"$nook" rm -f "quiet-$suffix" >/dev/null
say ""

kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
watcher=
samples=$(grep -c '^sample$' "$work/watch.log" || true)
seen_pids=$(sed -n 's/^pid=\([0-9]*\) cmd=.*/\1/p' "$work/watch.log" | sort -u | wc -l)
seen_cmds=$(sed -n 's/^pid=[0-9]* cmd=\([^~]*\).*/nook \1/p' "$work/watch.log" | sort -u | paste -sd, | sed 's/,/, /g')
seen() { grep -q "^pid=[0-9]* cmd=$1\$" "$work/watch.log"; }
sockets_seen=$( (grep -E '^pid=[0-9]+ fd=' "$work/watch.log" || true) | awk '{print $1, $3}' | sort -u | wc -l)
listeners=$(grep -E '^pid=[0-9]+ fd=.* listening=yes ' "$work/watch.log" | sort -u || true)
say "== The watcher, all along"
say "  $samples samples; $seen_pids different Nook processes seen ($seen_cmds);"
say "  $sockets_seen socket(s) held by them;"
if [[ -z $listeners ]]; then
  say "  not one of them listening."
else
  say "  LISTENING sockets:"
  sed 's/^/    /' <<<"$listeners"
fi
say ""

say "== Control: a container whose own program listens (busybox nc -l -p 8080)"
"$nook" run -d --name "server-$suffix" --rootfs "$rootfs" -- nc -l -p 8080 >/dev/null
server=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$XDG_RUNTIME_DIR/nook/server-$suffix/state.json" | head -n1)
control=
for _ in $(seq 50); do
  control=$(sockets_of "$server" | grep ' listening=yes ' || true)
  [[ -z $control ]] || break
  sleep 0.1
done
if [[ -n $control ]]; then
  say "  The detector finds it: pid $server (nc, not nook) holds"
  say "    $control"
  say "  That socket is in the container's own network namespace (no network: only its"
  say "  loopback), so nothing on the host can reach it; and it belongs to the container's"
  say "  program, not to Nook."
else
  say "  The detector did NOT find nc's listening socket (pid ${server:-?})."
fi
"$nook" rm -f "server-$suffix" >/dev/null
say ""

# ---- Checks ------------------------------------------------------------------
say "== Checks"
check "the foreground nook run was running while it was inspected, and exited 0 (got $fg_rc)" \
  test "$fg_alive" = yes -a "$fg_rc" = 0
clean() { local p; for p in "$@"; do [[ " ${failed_phase[*]} " != *" $p "* ]] || return 1; done; }
check "the foreground nook run held no listening socket" clean foreground
check "the monitor of nook run -d (pid ${monitor:-?}), and every Nook process then, held no listening socket" \
  clean monitor detached
check "after nook create, no Nook process held a listening socket" clean create start
check "after nook start, no Nook process is left for the OCI container (got: ${left_after_start:-none})" \
  test -z "$left_after_start"
check "the watcher sampled the whole time ($samples samples)" test "$samples" -ge 20
seen_both() { seen run && seen __monitor; }
check "the watcher saw the foreground nook run and the monitor" seen_both
check "in no sample did a Nook process hold a listening socket" test -z "$listeners"
check "control: the same detector finds a listening socket when a program holds one" test -n "$control"

if [[ $failed == 0 ]]; then
  say "$name: all $passed checks passed: no Nook process ever listened; there is no API to expose."
  exit 0
fi
say "$name: $failed of $((passed + failed)) checks FAILED"
exit 1
