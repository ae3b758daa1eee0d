#!/usr/bin/env bash
# Builds a real Debian 12 image without root and writes it as OCI image layouts:
#
#   Tests/images/debian-image.sh OUTDIR
#
#   OUTDIR/rootfs.tar   `mmdebstrap --mode=unshare --variant=minbase bookworm`'s tarball
#                       (ownership and modes as in the image: mmdebstrap makes it
#                       inside a user namespace mapping the caller's sub-id range)
#   OUTDIR/fresh/       an OCI layout, tag `bookworm`: that tarball as one layer (zstd:
#                       gzip in Python takes minutes for 170 MB),
#                       `created` the time mmdebstrap ran
#   OUTDIR/stale/       an OCI layout, tag `bookworm`: a SIMULATED old image (no
#                       internet, so no old image to download): the same layer, and
#                       on top a second layer holding only /var/lib/dpkg/status with
#                       every version that carries a bookworm point-release suffix
#                       (+deb12uN) rolled back to its version without it, which is
#                       what Debian 12.0 shipped; `created` 2023-06-10 (12.0's
#                       release day) and the label org.nook.simulated says so. The
#                       files themselves are today's: only the package database lies.
#
# The packages come from the mirror apt already uses here (the first `deb` URI
# for Debian in /etc/apt/sources.list or sources.list.d/*.sources; override
# with DEBIAN_MIRROR=URL). Only the `bookworm` suite, not bookworm-security or
# bookworm-updates: the image lacks their fixes from the day it is made.
#
# It takes a few minutes and ~150 MB, so the result is cached, keyed by the
# sha256 of this script, image-cache.sh and oci-layout.py: under $NOOK_IMAGE_CACHE, else
# /var/cache/nook-test-images when writable (CI runs as root), else
# ${XDG_CACHE_HOME:-$HOME/.cache}/nook-test-images. OUTDIR is then a copy.
# Needs: mmdebstrap; as an ordinary user, a sub-id range in /etc/subuid and
# /etc/subgid (mmdebstrap --mode=unshare); as root, mmdebstrap uses --mode=root.
# Exit status: 0, 1 when mmdebstrap or the packing failed, 2 on bad usage.
set -euo pipefail

[[ $# == 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v mmdebstrap >/dev/null || { echo "$0: mmdebstrap not found (Debian package mmdebstrap)" >&2; exit 2; }

# shellcheck source=image-cache.sh
. "$here/image-cache.sh"
cache=$(image_cache debian-bookworm)

if [[ ! -f $cache/.complete ]]; then
  begin_build
  echo "debian-image.sh: mmdebstrap --mode=$mode --variant=minbase bookworm from $url (a few minutes)" >&2
  t0=$(date +%s)
  mmdebstrap --quiet --mode="$mode" --variant=minbase bookworm "$work/rootfs.tar" "$url" >&2
  built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  echo "debian-image.sh: mmdebstrap took $(($(date +%s) - t0)) s" >&2
  python3 "$here/oci-layout.py" "$work/fresh" --tag bookworm --compression zstd --layer-tar "$work/rootfs.tar" --created "$built" \
    --config-json '{"Cmd":["/bin/bash"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' >/dev/null

  # The simulated old image: the package database rolled back to 12.0's versions.
  mkdir -p "$work/status/var/lib/dpkg"
  tar -xOf "$work/rootfs.tar" ./var/lib/dpkg/status |
    sed 's/^\(Version: .*\)+deb12u[0-9]*$/\1/' >"$work/status/var/lib/dpkg/status"
  python3 - "$work/status" "$work/status.tar" <<'EOF'
import sys, tarfile
root, out = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for name, mode in [("var", 0o755), ("var/lib", 0o755), ("var/lib/dpkg", 0o755), ("var/lib/dpkg/status", 0o644)]:
        info = tar.gettarinfo(f"{root}/{name}", arcname="./" + name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode, info.mtime = mode, 1686355200
        if info.isreg():
            with open(f"{root}/{name}", "rb") as f:
                tar.addfile(info, f)
        else:
            tar.addfile(info)
EOF
  python3 "$here/oci-layout.py" "$work/stale" --tag bookworm --compression zstd --layer-tar "$work/rootfs.tar" --layer-tar "$work/status.tar" \
    --created 2023-06-10T00:00:00Z \
    --config-json '{"Cmd":["/bin/bash"],"Labels":{"org.nook.simulated":"an old image simulated by Tests/images/debian-image.sh: package versions in /var/lib/dpkg/status rolled back to Debian 12.0 and an old created date; the files are newer"}}' >/dev/null
  rm -rf "$work/status" "$work/status.tar"
  touch "$work/.complete"
  rm -rf "$cache"
  mv "$work" "$cache"
  trap - EXIT
fi

mkdir -p "$out"
cp -a "$cache/rootfs.tar" "$cache/fresh" "$cache/stale" "$out/"
echo "debian-image.sh: $out/fresh and $out/stale (cached in $cache)" >&2
