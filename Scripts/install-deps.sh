#!/usr/bin/env bash
# Installs the Debian packages Nook builds, tests and benchmarks with (root; idempotent).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-deps.sh: run as root (sudo $0)" >&2; exit 1; }
packages=(
  libseccomp-dev                     # linked by the C shim (capabilities are raw capset(2): no libcap)
  busybox-static                     # the default rootfs
  uidmap                             # setuid newuidmap/newgidmap for sub-id ranges
  util-linux procps iproute2 strace jq python3
  tzdata                             # check-docs --shift-dates runs commands in another time zone
  qemu-system-x86 linux-image-amd64 xz-utils  # the cgroup v2 test guest (Tests/vm)
  crun runc bubblewrap hyperfine     # side-by-side references and benchmarks
  passt slirp4netns curl             # user-mode networking (curl: Docs/networking.md's client)
  podman conmon catatonit            # a real OCI client
  containerd rootlesskit             # a second client, rootless (ContainerdTests)
  gcc libc6-dev                      # the test probe (static C)
  libarchive-dev libzstd-dev zstd liblz4-dev lz4  # tar, gzip, zstd, lz4 (through the CArchive target)
  docker-registry skopeo umoci       # images: a loopback registry, and references to copy and unpack with
  mmdebstrap fuse-overlayfs          # a Debian image built unprivileged; the overlay fallback
  graphviz                           # the docs' pictures (Docs/pictures/*.dot, Scripts/check-pictures.py)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
