#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what Nook needs, build it,
# make the default busybox rootfs and run a container in it as an ordinary user.
#   sudo Scripts/bootstrap.sh
# The container runs as the user who called sudo (or `nooktest` when there is none):
# Nook never needs root, only this set-up step does.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

Scripts/install-deps.sh
Scripts/test-users.sh
user=${SUDO_USER:-nooktest}
[ "$user" = root ] && user=nooktest

echo "== building nook (release, Swift runtime linked statically)"
swift build -c release --static-swift-stdlib -Xswiftc -static-executable
bin=$(swift build -c release --static-swift-stdlib -Xswiftc -static-executable --show-bin-path)/nook

# The user must be able to read the binary and own the rootfs: put both in a
# directory the user owns (a 0711 binary fails at writing the id maps).
home=$(getent passwd "$user" | cut -d: -f6)
[ -d "$home" ] && [ -w "$home" ] || home=/tmp
dest=${NOOK_HOME:-$repo}
if ! runuser -u "$user" -- test -w "$dest"; then
  dest=/tmp/nook-$user
  mkdir -p "$dest"
  chown "$user:" "$dest"
  chmod 755 "$dest"
fi
mkdir -p "$dest/bin"
install -m 0755 "$bin" "$dest/bin/nook"
install -m 0755 "$(dirname "$bin")/nook-registry" "$dest/bin/nook-registry"   # what `nook pull` runs
chown -R "$user:" "$dest/bin"
[ -d "$dest/rootfs" ] || runuser -u "$user" -- "$dest/bin/nook" rootfs busybox "$dest/rootfs"

echo "== nook for every shell: /usr/local/bin/nook, completions, man pages"
Scripts/install-shell-support.sh "$bin"

echo "== a container, as $user"
runuser -u "$user" -- env -u XDG_RUNTIME_DIR "$dest/bin/nook" run --rootfs "$dest/rootfs" -- \
  sh -c 'echo "inside: $(id)  hostname=$(hostname)  pid=$$"; ls /sys/class/net'
echo
echo "nook is at $dest/bin/nook; try:  $dest/bin/nook run --rootfs $dest/rootfs --trace -- sh -c id"
