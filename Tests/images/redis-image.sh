#!/usr/bin/env bash
# Builds a Debian 12 image with a real database server, Redis, and writes it as
# an OCI image layout:
#
#   Tests/images/redis-image.sh OUTDIR
#
#   OUTDIR/redis/   an OCI layout, tag `nook-example/redis`: one zstd layer, the
#                   tarball of `mmdebstrap --variant=minbase --include=redis-server
#                   bookworm` (no docs, man pages or locales), `created` the time
#                   mmdebstrap ran. Its config:
#                     Cmd        redis-server --port 6379 --protected-mode no
#                                --save '' --appendonly no
#                                (no config file, nothing written to disk, and
#                                clients from outside the container's loopback
#                                allowed: pasta's forwarded connections are such)
#                     User       redis (the package's system user)
#                     WorkingDir /var/lib/redis
#                     ExposedPorts 6379/tcp
#   Import it with `nook image import OUTDIR/redis nook-example/redis`.
#
# A sibling of debian-image.sh, which it leaves alone (its outputs and its
# cache are other tests'). The same mirror (the first `deb` URI for Debian in
# /etc/apt/sources.list or sources.list.d/*.sources; DEBIAN_MIRROR=URL
# overrides it), only the `bookworm` suite, and the same cache: keyed by the
# sha256 of this script, image-cache.sh and oci-layout.py (the package list and the config
# are in this script), under $NOOK_IMAGE_CACHE, else /var/cache/nook-test-images
# when writable (CI runs as root), else ${XDG_CACHE_HOME:-$HOME/.cache}/nook-test-images.
# OUTDIR/redis is then a copy. About 2 minutes uncached on a busy 2-core
# machine, ~40 MB of packages from the mirror.
# Needs: mmdebstrap and zstd; as an ordinary user, a sub-id range in /etc/subuid
# and /etc/subgid (mmdebstrap --mode=unshare: no root); as root, mmdebstrap uses
# --mode=root.
# Exit status: 0; 2 on bad usage or when mmdebstrap is missing; else, when
# mmdebstrap (no mirror: 25) or the packing failed, their own status.
set -euo pipefail

[[ $# == 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v mmdebstrap >/dev/null || { echo "$0: mmdebstrap not found (Debian package mmdebstrap)" >&2; exit 2; }

# shellcheck source=image-cache.sh
. "$here/image-cache.sh"
cache=$(image_cache redis-bookworm)

if [[ ! -f $cache/.complete ]]; then
  begin_build
  echo "redis-image.sh: mmdebstrap --mode=$mode --variant=minbase --include=redis-server bookworm from $url (a few minutes)" >&2
  t0=$(date +%s)
  mmdebstrap --quiet --mode="$mode" --variant=minbase --include=redis-server \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$work/rootfs.tar" "$url" >&2
  built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  echo "redis-image.sh: mmdebstrap took $(($(date +%s) - t0)) s" >&2
  # The server really is in it.
  tar -tf "$work/rootfs.tar" ./usr/bin/redis-server >/dev/null
  python3 "$here/oci-layout.py" "$work/redis" --tag nook-example/redis --compression zstd --layer-tar "$work/rootfs.tar" --created "$built" \
    --config-json '{"Cmd":["redis-server","--port","6379","--protected-mode","no","--save","","--appendonly","no"],"User":"redis","WorkingDir":"/var/lib/redis","ExposedPorts":{"6379/tcp":{}},"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' >/dev/null
  rm "$work/rootfs.tar"
  touch "$work/.complete"
  rm -rf "$cache"
  mv "$work" "$cache"
  trap - EXIT
fi

mkdir -p "$out"
rm -rf "$out/redis"
cp -a "$cache/redis" "$out/"
echo "redis-image.sh: $out/redis, tag nook-example/redis (cached in $cache)" >&2
