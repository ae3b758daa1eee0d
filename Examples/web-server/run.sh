#!/usr/bin/env bash
# A web server in a rootless container, reached from the host.
#
# Without root, Nook cannot plug a container into the host's network with a
# veth pair and a bridge. It gives the container its own network namespace and
# attaches a user-mode TCP/IP stack to it instead (pasta or slirp4netns, as
# rootless podman does). `-p 127.0.0.1:PORT:80` asks that stack to listen on the
# host's port and carry each connection into the container.
# This demo serves a page with busybox httpd under each helper that is
# installed, and through Nook's own port forwarder (`-p` with the default
# `--network none`), fetches it from the host, shows what the container's namespace
# looks like, shows that the host's own loopback services stay out of reach
# unless asked for, and that nothing (helper, port, state) outlives the container.
#
# Usage:  Examples/web-server/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
#   ROOTFS  a root filesystem to run in (default: a fresh `nook rootfs busybox`)
# Started as root, it re-executes itself as the user nooktest.
# Exit status: 0 when every check passed, 1 when one failed, 2 when it could not run.
set -euo pipefail

name=web-server
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [[ $(id -u) == 0 ]]; then become_test_user; fi

start_as_user
use_rootfs
use_private_state
command -v busybox >/dev/null || die "busybox is needed on the host for httpd (Debian package busybox-static)"
helpers=()
for h in pasta slirp4netns; do command -v "$h" >/dev/null && helpers+=("$h"); done
[[ ${#helpers[@]} -gt 0 ]] || die "neither pasta (Debian package passt) nor slirp4netns is installed"

host_pids=()
cleanup() {
  for mode in "${helpers[@]}"; do "$nook" rm -f "web-$mode" "open-$mode" >/dev/null 2>&1 || true; done
  "$nook" rm -f web-forward >/dev/null 2>&1 || true
  for p in "${host_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www" "$work/host-www"
echo "hello from a rootless container" > "$work/www/index.html"
echo "a secret only the host's loopback serves" > "$work/host-www/index.html"
# GET / and print the body. On the host with bash's /dev/tcp; inside a container
# with busybox nc (busybox's static wget crashes).
fetch() { # HOST PORT
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET / HTTP/1.0\r\n\r\n" >&3 && sed "1,/^\r$/d" <&3' "$1" "$2" 2>/dev/null
}
# nc's input stays open for a second: when nc half-closes first, pasta (passt
# 2023.03) never passes on the server's FIN under --map-gw, and nc waits forever.
get_inside() { # HOST PORT: the shell command for inside the container
  printf '%s' "(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 1) | nc -w 3 $1 $2 | sed '1,/^\\r\$/d'"
}
# A free port: try one; nook itself says when a port is taken (exit 125).
pick_port() { echo $((20000 + RANDOM % 20000)); }
# The container's IPv4 default gateway, read inside it from /proc/net/route (hex,
# little-endian); empty when it has none. It is the address that stands for the
# host's loopback when that is asked for (pasta --map-gw, slirp4netns's 10.0.2.2).
gateway_of() { # CONTAINER
  local hex
  hex=$("$nook" exec "$1" -- cat /proc/net/route | awk '$2 == "00000000" { print $3; exit }')
  [[ $hex =~ ^[0-9A-Fa-f]{8}$ ]] || return 0
  printf '%d.%d.%d.%d\n' "0x${hex:6:2}" "0x${hex:4:2}" "0x${hex:2:2}" "0x${hex:0:2}"
}
# --network for each helper: as Nook sets it up by default, and with the host's
# loopback opened. Without --map-gw, pasta treats the gateway address as the
# real gateway's and would open a host socket to it; -o 127.0.0.1 binds pasta's
# outbound sockets to the loopback, so the host's kernel refuses pasta's connect
# (EINVAL) to any destination but its own loopback: no probe here leaves this
# machine, and the container's probe is never answered (it times out). It
# changes nothing for --map-gw, which maps the gateway address to 127.0.0.1.
net_default() { case $1 in pasta) echo "pasta:-o,127.0.0.1" ;; *) echo "$1" ;; esac; }
net_open() { case $1 in pasta) echo "pasta:--map-gw,-o,127.0.0.1" ;; *) echo "$1:allow_host_loopback=true" ;; esac; }
secret="a secret only the host's loopback serves"

# Starts container $1 serving www with busybox httpd, published on a free port of
# 127.0.0.1 (set in $port; with --network "$2" unless it is none), then fetches
# the page from the host and checks it, labelling the check with $3.
serve_and_fetch() { # NAME NETWORK LABEL
  local c=$1 net=$2 shown=""
  local -a netargs=()
  [[ $net == none ]] || { netargs=(--network "$net"); shown=" --network $net"; }
  for _ in 1 2 3 4 5; do
    port=$(pick_port)
    if out=$("$nook" run -d --init --name "$c" "${netargs[@]}" -p "127.0.0.1:$port:80" \
        -v "$work/www:/www:ro" --rootfs "$rootfs" -- httpd -f -p 80 -h /www 2>&1); then break; fi
    [[ $out == *"already in use"* ]] || die "nook run failed: $out"
  done
  say "  \$ nook run -d --init --name $c$shown -p 127.0.0.1:$port:80 -v \$PWD/www:/www:ro --rootfs ./rootfs -- httpd -f -p 80 -h /www"
  page=""
  for _ in $(seq 50); do page=$(fetch 127.0.0.1 "$port") && [[ -n $page ]] && break; sleep 0.1; done
  say "  from the host: GET http://127.0.0.1:$port/  ->  $page"
  check "$3: the host fetched the page through the published port" test "$page" = "hello from a rootless container"
}
# Inside container $1: is the host's loopback service reached at the container's own 127.0.0.1? Then
# `nook rm -f`: the helper $helper and the published $port go with it. Checks labelled $2.
own_loopback_then_remove() { # NAME LABEL
  got=$("$nook" exec "$1" -- sh -c "$(get_inside 127.0.0.1 "$secret_port")" 2>&1 || true)
  if [[ $got == *secret* ]]; then reached=yes; else reached=no; fi
  say "  inside: GET http://127.0.0.1:$secret_port/ (the container's own loopback) -> reached: $reached"
  check "$2: the container's own 127.0.0.1 is not the host's" test "$reached" = no
  "$nook" rm -f "$1" >/dev/null
  for _ in $(seq 50); do alive "$helper" || break; sleep 0.1; done
  check "$2: after nook rm -f the helper is gone" gone "$helper"
  check "$2: and nothing answers on port $port" test -z "$(fetch 127.0.0.1 "$port")"
}

# A service on the host's loopback that the containers must not reach by default,
# on a port that was free: httpd exits at once when someone else holds it.
secret_port=
for _ in 1 2 3 4 5; do
  port=$(pick_port)
  busybox httpd -f -p "127.0.0.1:$port" -h "$work/host-www" &
  pid=$!
  for _ in $(seq 50); do
    [[ $(fetch 127.0.0.1 "$port") == "$secret" ]] && break
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid" && [[ $(fetch 127.0.0.1 "$port") == "$secret" ]]; then
    host_pids+=("$pid")
    secret_port=$port
    break
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
[[ -n $secret_port ]] || die "could not start busybox httpd on a free loopback port"
check "the host's loopback service answers the host on 127.0.0.1:$secret_port" test "$(fetch 127.0.0.1 "$secret_port")" = "$secret"
say

for mode in "${helpers[@]}"; do
  c=web-$mode
  net=$(net_default "$mode")
  say "== --network $net: busybox httpd on port 80 inside, published on 127.0.0.1"
  serve_and_fetch "$c" "$net" "$mode"

  helper=$(field "$c" networkHelperPID)
  monitor=$(field "$c" monitorPID)
  say "  the helper: pid $helper ($(cat "/proc/$helper/comm")), child of the container's monitor (pid $monitor)"
  check "$mode: the helper is the monitor's child (no daemon, no root)" \
    test "$(awk '{print $4}' "/proc/$helper/stat")" = "$monitor"
  check "$mode: the helper runs as $(id -un), not root" test "$(stat -c %u "/proc/$helper")" = "$(id -u)"

  say "  inside: the container's own interface and routes"
  "$nook" exec "$c" -- sh -c 'ip -4 addr show scope global | grep inet; ip route | grep default; cat /etc/resolv.conf | grep nameserver' | sed 's/^/    /'

  # The probe must work, or "not reached" below would prove nothing.
  got=$("$nook" exec "$c" -- sh -c "$(get_inside 127.0.0.1 80)" 2>&1 || true)
  check "$mode: the probe works: inside, GET http://127.0.0.1:80/ fetches the container's own page" \
    test "$got" = "hello from a rootless container"
  gw=$(gateway_of "$c")
  check "$mode: the container has a default gateway (its /proc/net/route): ${gw:-none}" test -n "$gw"
  # The gateway is where the host's loopback would be, were it opened (the last part).
  got=$("$nook" exec "$c" -- sh -c "$(get_inside "${gw:-0.0.0.0}" "$secret_port")" 2>&1 || true)
  if [[ $got == *secret* ]]; then reached=yes; else reached=no; fi
  say "  inside: GET http://$gw:$secret_port/ (the gateway, for the host's loopback service) -> reached: $reached"
  check "$mode: the host's loopback service is out of reach through the gateway by default" test -n "$gw" -a "$reached" = no
  # pasta's -T would forward the container's own 127.0.0.1 ports to the host's; Nook passes -T none.
  own_loopback_then_remove "$c" "$mode"
  say
done

for mode in "${helpers[@]}"; do
  c=open-$mode
  opt=$(net_open "$mode")
  say "== Asking for the host's loopback: --network $opt"
  "$nook" run -d --name "$c" --network "$opt" --rootfs "$rootfs" -- sleep 300 >/dev/null
  gw=$(gateway_of "$c")
  got=$("$nook" exec "$c" -- sh -c "$(get_inside "${gw:-0.0.0.0}" "$secret_port")" 2>&1 || true)
  say "  inside: GET http://$gw:$secret_port/ (the gateway)  ->  $got"
  check "with $opt the container reaches the host's loopback service through the gateway ${gw:-(none)}" \
    test -n "$gw" -a "$got" = "$secret"
  "$nook" rm -f "$c" >/dev/null
  say
done
say "== --network none with -p: Nook's own port forwarder, and still only lo"
c=web-forward
serve_and_fetch "$c" none forwarder
helper=$(field "$c" networkHelperPID)
monitor=$(field "$c" monitorPID)
say "  the forwarder: pid $helper ($(cat "/proc/$helper/comm")), child of the container's monitor (pid $monitor)"
check "forwarder: it is nook's own (nook-forward), the monitor's child" \
  test "$(cat "/proc/$helper/comm") $(awk '{print $4}' "/proc/$helper/stat")" = "nook-forward $monitor"
check "forwarder: it holds no capability" test "$(awk '/^CapEff/ {print $2}' "/proc/$helper/status")" = 0000000000000000
inside=$("$nook" exec "$c" -- sh -c 'ls /sys/class/net; tail -n +2 /proc/net/route')
check "forwarder: inside, still only lo and no route" test "$inside" = lo
got=$("$nook" exec "$c" -- sh -c "$(get_inside 127.0.0.1 80)" 2>&1 || true)
check "forwarder: the probe works: inside, GET http://127.0.0.1:80/ fetches the container's own page" \
  test "$got" = "hello from a rootless container"
own_loopback_then_remove "$c" forwarder
say

say "== --network none (the default): only lo"
none=$("$nook" run --rootfs "$rootfs" -- sh -c "ls /sys/class/net; ($(get_inside 10.0.2.2 80)) 2>&1 || true")
say "$none" | sed 's/^/  /'
check "--network none has only lo" test "$(printf '%s\n' "$none" | head -n 1)" = lo
left=$(ls -A "$XDG_RUNTIME_DIR/nook" | grep -v '^\.' || true)
check "no container state is left" test -z "$left"

say
say "$passed passed, $failed failed"
[[ $failed == 0 ]] || exit 1
