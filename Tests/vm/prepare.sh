#!/usr/bin/env bash
# Builds and caches the cgroup v2 test guest: an uncompressed vmlinux (booting it skips ~3 s of
# in-guest XZ decompression under TCG) and a tiny initramfs (static busybox, the virtio/9p
# modules, guest/init.sh and guest/stage2.sh).
#   Tests/vm/prepare.sh [--print-dir] [--force]
# Idempotent: rebuilds only when an input changes (kernel file, busybox, these scripts).
# Cache: ${NOOK_VM_CACHE:-/var/tmp/nook-vm}/<kernel version>/{vmlinux,initramfs.cpio,key}; an
# ordinary user who cannot write there (root made it) builds in ${XDG_CACHE_HOME:-~/.cache}/nook-vm.
# Kernel: the newest /boot/vmlinuz-* that has modules, or NOOK_VM_KVER=<version>.
# Exits 77 (the "skip" code of automake/meson) when a needed package is missing.
# Messages go to stderr; --print-dir prints the artefact directory on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${NOOK_VM_CACHE:-/var/tmp/nook-vm}
print_dir=0 force=0
for a in "$@"; do
  case $a in
    --print-dir) print_dir=1 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "prepare.sh: unknown argument: $a" >&2; exit 2 ;;
  esac
done

say() { echo "nook-vm prepare: $*" >&2; }
missing() { # what package
  say "missing $1; install it with: apt-get install $2"
  exit 77
}

# --- Inputs -------------------------------------------------------------------------------
command -v qemu-system-x86_64 >/dev/null || missing qemu-system-x86_64 qemu-system-x86
busybox=/bin/busybox
[ -x "$busybox" ] || missing "a static $busybox" busybox-static
# The dynamic busybox package also ships /bin/busybox; the initramfs has no libc.
if [[ $(LC_ALL=C ldd "$busybox" 2>&1) != *'not a dynamic executable'* ]]; then
  missing "a static $busybox (this one is dynamic)" busybox-static
fi

if [ -n "${NOOK_VM_KVER:-}" ]; then
  kver=$NOOK_VM_KVER
else
  kver=
  # Newest kernel first; it must come with its modules (9p, virtio are modules in Debian).
  while IFS= read -r f; do
    v=${f#/boot/vmlinuz-}
    if [ -f "/lib/modules/$v/modules.dep" ]; then kver=$v; break; fi
  done < <(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -rV)
fi
[ -n "$kver" ] || missing "a kernel in /boot with modules in /lib/modules" linux-image-amd64
vmlinuz=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
if [ ! -f "$vmlinuz" ] || [ ! -f "$moddir/modules.dep" ]; then
  missing "$vmlinuz or $moddir" linux-image-amd64
fi

guest_files=("$here/guest/init.sh" "$here/guest/stage2.sh")
key=$(
  {
    echo "$kver"
    stat -L -c '%n %s %Y' "$vmlinuz" "$moddir/modules.dep" "$busybox"
    cat "${BASH_SOURCE[0]}" "${guest_files[@]}" | sha256sum
  } | sha256sum | cut -d' ' -f1
)
out=$cache/$kver

done_msg() {
  if [ "$print_dir" = 1 ]; then echo "$out"; fi
}
if [ "$force" = 0 ] && [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ]; then
  done_msg; exit 0
fi
# An ordinary user may read root's cache (CI's) but not rebuild it: build in their own.
if [ -z "${NOOK_VM_CACHE:-}" ] && [ "$(id -u)" != 0 ] && ! { mkdir -p "$cache" && [ -w "$cache" ]; } 2>/dev/null; then
  cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/nook-vm
  out=$cache/$kver
  if [ "$force" = 0 ] && [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ]; then
    done_msg; exit 0
  fi
fi

# --- Build (under a lock: several run.sh may start at once) -------------------------------
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ "$force" = 0 ] && [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ]; then
  done_msg; exit 0  # another process built it while we waited
fi
say "building guest for kernel $kver in $out"
build=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$build"' EXIT

decompress() { # file.ko[.xz|.zst|.gz] -> stdout
  case $1 in
    *.ko.xz) if command -v xz >/dev/null; then xz -dc "$1"; else "$busybox" xzcat "$1"; fi ;;
    *.ko.zst) command -v zstd >/dev/null || missing "zstd (modules are .ko.zst)" zstd; zstd -dcq "$1" ;;
    *.ko.gz) "$busybox" zcat "$1" ;;
    *) cat "$1" ;;
  esac
}

# Debian signs its modules; checking a signature (SHA-256 + RSA) costs real time under TCG,
# and unsigned modules load fine (no MODULE_SIG_FORCE, no lockdown in the guest). Layout:
# ... module, signature (sig_len bytes), struct module_signature (12 bytes, big-endian
# sig_len in its last 4), "~Module signature appended~\n" (28 bytes).
strip_sig() { # file.ko
  local f=$1 size b
  size=$(stat -c %s "$f")
  [ "$(tail -c 28 "$f")" = "~Module signature appended~" ] || return 0
  read -r -a b < <(od -An -tu1 -j $((size - 32)) -N 4 "$f")
  truncate -s $((size - 40 - (b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]))) "$f"
}

# vmlinux: the bzImage header says where the compressed payload is (boot protocol >= 2.08):
# setup_sects at 0x1f1, payload_offset at 0x248 (from the protected-mode code), payload_length.
u() { od -An -tu"$1" -j "$2" -N "$1" "$vmlinuz" | tr -d ' '; }
setup_sects=$(u 1 $((0x1f1))); [ "$setup_sects" = 0 ] && setup_sects=4
pl_off=$(( (setup_sects + 1) * 512 + $(u 4 $((0x248))) ))
pl_len=$(u 4 $((0x24c)))
payload() { tail -c +$((pl_off + 1)) "$vmlinuz" | head -c "$pl_len"; }
magic=$(od -An -tx1 -j "$pl_off" -N 6 "$vmlinuz" | tr -d ' \n')
# The build appends the 4-byte uncompressed size after the stream: tolerate trailing data.
case $magic in
  fd377a585a00)
    # (busybox's unxz lacks the x86 BCJ filter the kernel build uses)
    command -v xz >/dev/null || missing "xz (the kernel is xz-compressed)" xz-utils
    payload | xz -dc --single-stream >"$build/vmlinux" || true ;;
  28b52ffd*)
    command -v zstd >/dev/null || missing "zstd (kernel is zstd-compressed)" zstd
    payload | zstd -dcq >"$build/vmlinux" 2>/dev/null || true ;;
  1f8b*) payload | "$busybox" zcat >"$build/vmlinux" 2>/dev/null || true ;;
  7f454c46*) payload >"$build/vmlinux" || true ;;  # an uncompressed payload
  *) say "unsupported kernel compression in $vmlinuz (magic $magic)"; exit 1 ;;
esac
if [ "$(head -c 4 "$build/vmlinux" | od -An -tx1 | tr -d ' \n')" != 7f454c46 ]; then
  say "failed to extract an ELF vmlinux from $vmlinuz"; exit 1
fi

# initramfs tree.
root=$build/root
mkdir -p "$root"/{bin,dev,proc,sys,newroot}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/guest/init.sh" "$root/init"
cp "$here/guest/stage2.sh" "$root/stage2"
chmod 0755 "$root/init" "$root/stage2"
# The kernel opens /dev/console for /init before anything is mounted (root can mknod; else
# /init falls back to devtmpfs's console).
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# Modules: the wanted ones and their dependencies, decompressed, with a modules.dep for
# just them, so that one `modprobe -a` loads them all (each exec costs ~30 ms under TCG).
wanted=(virtio_pci 9pnet_virtio 9p overlay virtio_console virtio_blk)
kmod=$root/lib/modules/$kver
mkdir -p "$kmod"
declare -A added=()
load=()
add_mod() { # modules.dep line
  local rel=${1%%:*} deps=() d out=
  rel=${rel%.ko*}.ko
  [ -n "${added[$rel]:-}" ] && return 0
  added[$rel]=1
  read -r -a deps <<<"${1#*:}"
  for d in "${deps[@]}"; do out+=" ${d%.ko*}.ko"; done
  mkdir -p "$kmod/$(dirname "$rel")"
  decompress "$moddir/${1%%:*}" >"$kmod/$rel"
  strip_sig "$kmod/$rel"
  echo "$rel:$out" >>"$kmod/modules.dep"
}
dep_line() { grep -E "(^|/)${1}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" || true; }
for m in "${wanted[@]}"; do
  line=$(dep_line "$m")
  if [ -z "$line" ]; then
    if grep -qE "(^|/)${m}\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then continue; fi
    say "kernel $kver has no module $m"; exit 1
  fi
  read -r -a deps <<<"${line#*:}"
  for d in "${deps[@]}"; do add_mod "$(grep -E "^${d}:" "$moddir/modules.dep")"; done
  add_mod "$line"
  load+=("$m")
done
echo "${load[*]}" >"$root/modules.list"

# Uncompressed: the kernel would spend time unpacking it under TCG; it is only a few MB.
(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) \
  >"$build/initramfs.cpio"
rm -rf "$root"
echo "$kver" >"$build/kver"
echo "$key" >"$build/key"

# Swap in atomically-ish and drop artefacts of other kernels (vmlinux is ~50 MB).
rm -rf "$out.old"
if [ -d "$out" ]; then mv "$out" "$out.old"; fi
mv "$build" "$out"
chmod 0755 "$out"
rm -rf "$out.old"
for d in "$cache"/*/; do  # only our own artefact directories, whatever NOOK_VM_CACHE is
  if [ "$d" != "$out/" ] && [ -f "$d/key" ] && [ -f "$d/vmlinux" ]; then rm -rf "$d"; fi
done
mods=("${!added[@]}")
mods=("${mods[@]##*/}")
say "done: $(du -sh "$out/vmlinux" | cut -f1) vmlinux, $(du -sh "$out/initramfs.cpio" | cut -f1) initramfs, modules: ${mods[*]%.ko}"
done_msg
