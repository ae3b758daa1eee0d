#!/usr/bin/env bash
# Threat: stale images. An image freezes its packages: a vulnerable library in
# an image stays vulnerable until someone rebuilds it, and a rootfs can carry
# setuid programs, device nodes and world-writable paths nobody looked at.
#
# Nook cannot make an old package safe. It gives you `nook audit ROOTFS`, run
# before you trust an image: setuid and setgid files, world-writable files and
# directories, device nodes, directories it could not read, the system's name,
# and the package list with versions from the rootfs's own package database
# (dpkg status or apk installed, read inside the rootfs: a symlink there cannot
# make it read the host's). `nook audit --strict` exits 1 when it finds setuid
# files or device nodes, so a script can refuse such an image.
#
# The image:
#   - started as root with debootstrap installed: a real Debian 12 rootfs,
#     `debootstrap --variant=minbase bookworm` (about 1.5 minutes and 200 MB
#     from the Debian mirror; set NOOK_EXAMPLE_CACHE=DIR to keep it between
#     runs, as Scripts/test.sh does). debootstrap takes only the main archive,
#     not bookworm-security: the image is stale the moment it is made;
#   - otherwise (or when that fails, or NOOK_EXAMPLE_DEBOOTSTRAP=0): a busybox
#     rootfs with the host's own dpkg status entries for a few packages, a
#     setuid copy of busybox, a world-writable directory and, as root only, a
#     block device node (an unprivileged user cannot create device nodes);
#   - STALE_IMAGE=DIR: your own unpacked rootfs (read, never changed).
# Where the host has apt package lists, the script then compares the image's
# versions with the host's candidate versions (apt-cache policy): the packages
# listed there have newer versions, often security fixes, that the image lacks.
#
# Usage:  Examples/stale-image/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
#   ROOTFS  a root filesystem to build the busybox image and the clean one from
#           (default: a fresh `nook rootfs busybox`)
# Run it as an ordinary user. Started as root, it prepares the image, then
# re-executes itself as the user nooktest (create it with Scripts/test-users.sh).
# Exit status: 0 when every check passed, 1 when one failed, 2 when the example
# could not run.
set -euo pipefail

name='stale-image'
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# The packages copied from the host's dpkg status into the busybox image.
host_packages=(base-files bash apt libc6 zlib1g libssl3 openssl ca-certificates curl tzdata)

# A busybox rootfs dressed as an old image: $1 the image to make, $2 a busybox rootfs.
make_busybox_image() {
  local img=$1
  cp -a "$2" "$img"
  mkdir -p "$img/var/lib/dpkg"
  if [[ -r /var/lib/dpkg/status ]]; then
    # The host's own stanzas (real names and versions) for the packages above.
    awk -v want=" ${host_packages[*]} " 'BEGIN { RS = ""; ORS = "\n\n" }
      { for (i = 1; i <= NF; i++) if ($i == "Package:") { if (index(want, " " $(i + 1) " ")) print; break } }' \
      /var/lib/dpkg/status >"$img/var/lib/dpkg/status"
  fi
  if [[ ! -s $img/var/lib/dpkg/status ]]; then
    # Not a Debian host: two real Debian 11 entries, as an old image would have them.
    printf '%s\n' "Package: openssl" "Status: install ok installed" "Version: 1.1.1n-0+deb11u3" "" \
      "Package: zlib1g" "Status: install ok installed" "Version: 1:1.2.11.dfsg-2+deb11u2" "" >"$img/var/lib/dpkg/status"
  fi
  printf '%s\n' 'PRETTY_NAME="Busybox dressed as an old Debian image"' >"$img/etc/os-release"
  # A setuid program left in by whoever built the image. Made as root, it
  # belongs to the test user first: a setuid-root busybox would be a real way
  # to root on this host while the example runs.
  cp "$img/bin/busybox" "$img/usr/bin/helper"
  if [[ $(id -u) == 0 ]]; then chown "$uid:$gid" "$img/usr/bin/helper"; fi
  chmod 4755 "$img/usr/bin/helper"
  # A directory anyone may write, without the sticky bit.
  mkdir -p "$img/srv/upload"
  chmod 777 "$img/srv/upload"
  if [[ $(id -u) == 0 ]]; then
    mknod -m 600 "$img/dev/sda" b 8 0
  fi
}

# ---- Started as root: prepare the image, then become the test user ------------
if [[ $(id -u) == 0 ]]; then
  stage_for_test_user
  image=
  if [[ -n ${STALE_IMAGE:-} ]]; then
    [[ -d $STALE_IMAGE ]] || die "STALE_IMAGE=$STALE_IMAGE is not a directory"
    image=$(cd "$STALE_IMAGE" && pwd)
  elif [[ ${NOOK_EXAMPLE_DEBOOTSTRAP:-1} != 0 ]] && command -v debootstrap >/dev/null; then
    cached=${NOOK_EXAMPLE_CACHE:+$NOOK_EXAMPLE_CACHE/debian-bookworm-minbase}
    if [[ -n $cached && -f $cached/.complete ]]; then
      say "Using the Debian rootfs made earlier by debootstrap: $cached"
      image=$tmp/image
      cp -a "$cached" "$image"
    else
      say "Making a real Debian 12 rootfs: debootstrap --variant=minbase bookworm (about 1.5 minutes) ..."
      t0=$(date +%s)
      if timeout 300 debootstrap --variant=minbase bookworm "$tmp/image" http://deb.debian.org/debian \
        >"$tmp/debootstrap.log" 2>&1; then
        image=$tmp/image
        touch "$image/.complete"
        say "  done in $(($(date +%s) - t0)) s."
        if [[ -n $cached ]]; then
          mkdir -p "$NOOK_EXAMPLE_CACHE"
          rm -rf "$cached.tmp"
          cp -a "$image" "$cached.tmp" && mv "$cached.tmp" "$cached"
        fi
      else
        say "  debootstrap failed after $(($(date +%s) - t0)) s (last lines below); using the busybox image instead."
        tail -n 3 "$tmp/debootstrap.log" | sed 's/^/    /'
        rm -rf "$tmp/image"
      fi
    fi
    [[ -z $image ]] || rm -f "$image/.complete"
  fi
  if [[ -z $image ]]; then
    image=$tmp/image
    make_busybox_image "$image" "$tmp/rootfs"
  fi
  # Readable by the test user: the image's own files stay as they are (owned by
  # root, setuid bits and device nodes intact); only its top is opened up.
  chmod 755 "$image"
  set +e
  run_as_test_user STALE_IMAGE="$image"
  exit $?
fi

# ---- As an ordinary user --------------------------------------------------
start_as_user
trap 'rm -rf "$work"' EXIT
use_rootfs
clean=$rootfs
if [[ -n ${STALE_IMAGE:-} ]]; then
  [[ -d $STALE_IMAGE ]] || die "STALE_IMAGE=$STALE_IMAGE is not a directory"
  image=$STALE_IMAGE
else
  image=$work/image
  make_busybox_image "$image" "$clean"
  say "Note: as an ordinary user the example cannot create a device node, so the image has none."
fi

say "== The threat: an image frozen with old packages, and things nobody looked at"
say "The image: $image"
say "You are $user (uid $uid). nook audit only reads the image; it needs no privilege."
say ""

say "== nook audit IMAGE"
set +e
"$nook" audit "$image" >"$work/audit.txt" 2>"$work/audit.err"
audit_rc=$?
"$nook" audit --format json "$image" >"$work/audit.json" 2>/dev/null
"$nook" audit --strict "$image" >/dev/null 2>"$work/strict.err"
strict_rc=$?
"$nook" audit --strict "$clean" >"$work/clean.txt" 2>&1
clean_rc=$?
set -e
# The whole report, but only the first 15 packages.
awk '/^packages \(/ { print; n = 0; inp = 1; next } inp && /^  / { if (++n <= 15) print; else if (n == 16) print "  ..."; next } { inp = 0; print }' \
  "$work/audit.txt" | sed 's/^/  /'
[[ ! -s $work/audit.err ]] || sed 's/^/  /' "$work/audit.err"
say ""

say "== nook audit --strict IMAGE: exit $strict_rc"
sed 's/^/  /' "$work/strict.err"
say "== nook audit --strict on a clean busybox rootfs: exit $clean_rc"
say ""

# Independent counts, to check the audit against.
db=$image/var/lib/dpkg/status
installed=0
if [[ -f $db && ! -L $db ]]; then
  installed=$(awk 'BEGIN { RS = "" } /(^|\n)Package: / && /(^|\n)Status: [^\n]* installed(\n|$)/ { n++ } END { print n + 0 }' "$db")
fi
# The number after "TITLE (" in the text report.
count() { sed -n "s/^$1 (\\([0-9]*\\)).*/\\1/p" "$work/audit.txt" | head -n1; }
listed() { awk -v t="$1" '$0 ~ "^" t " \\(" { on = 1; next } /^[^ ]/ { on = 0 } on { print $1 }' "$work/audit.txt"; }
# (find exits 1 when it meets a directory it may not read, like the audit.)
setuid_found=$( (find "$image" -xdev -type f -perm -4000 2>/dev/null || true) | sed "s|^$image||" | sort)
devices_found=$( (find "$image" -xdev \( -type b -o -type c \) 2>/dev/null || true) | sed "s|^$image||" | sort)

say "== Is it stale? The image's versions against the host's apt candidates"
stale=0
if command -v apt-cache >/dev/null && command -v dpkg >/dev/null && [[ -n $(ls /var/lib/apt/lists/*Packages* 2>/dev/null) ]]; then
  sed -n 's/^  \([^ ]*\) \([^ ]*\)$/\1 \2/p' <(awk '/^packages \(/ { on = 1; next } /^[^ ]/ { on = 0 } on' "$work/audit.txt") >"$work/pkgs"
  if [[ -s $work/pkgs ]]; then
    # shellcheck disable=SC2046  # one word per package name
    apt-cache policy $(cut -d' ' -f1 "$work/pkgs") 2>/dev/null |
      awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1); sub(/:amd64$/, "", p) } /^  Candidate:/ { print p, $2 }' >"$work/candidates" || true
    while read -r pkg ver; do
      cand=$(awk -v p="$pkg" '$1 == p { print $2; exit }' "$work/candidates")
      [[ -n $cand && $cand != "(none)" ]] || continue
      if dpkg --compare-versions "$ver" lt "$cand"; then
        stale=$((stale + 1))
        [[ $stale -gt 10 ]] || say "  $pkg: image has $ver, the archive has $cand"
      fi
    done <"$work/pkgs"
    [[ $stale -le 10 ]] || say "  ... $((stale - 10)) more"
    say "  $stale of $(wc -l <"$work/pkgs") packages in the image have a newer version in the host's package lists"
    say "  (as fresh as the host's last apt-get update). Their changelogs say which fixes are security fixes;"
    say "  the Debian security tracker and debsecan map versions to CVEs."
  else
    say "  no packages listed: nothing to compare."
  fi
else
  say "  no apt package lists on this host: compare the list above with your distribution's security tracker."
fi
say ""

say "== What to look at"
say "  setuid files: they run with their owner's rights. Under Nook, no_new_privs makes the kernel ignore"
say "  the setuid bit, and the owner is at most you; run this image under a root daemon without that and"
say "  an attacker inside has a way up. In your own images, remove what you do not need."
say "  device nodes: Nook mounts an empty tmpfs over the image's /dev and binds in a few harmless host"
say "  devices, so the image's own nodes are hidden; one elsewhere in the image opens only with your"
say "  rights on it. Under a root daemon, or in a chroot, a block device node is raw access to a disk."
say "  world-writable paths without the sticky bit: any process in the container can plant files there."
say "  unreadable directories: the audit could not look inside (run it as the owner of the image)."
say "  packages: Nook cannot patch them. Rebuild the image from updated packages, and rebuild often."
say ""

# ---- Checks ------------------------------------------------------------------
say "== Checks"
json_ok() { grep -q '"setuid"' "$work/audit.json" && grep -q '"packages"' "$work/audit.json"; }
check "nook audit exited 0 (got $audit_rc) and printed every section" \
  bash -c "[[ $audit_rc == 0 ]] && for s in 'setuid files' 'setgid files' 'world-writable' 'device nodes' 'system:' 'packages'; do grep -q \"^\$s\" '$work/audit.txt' || exit 1; done"
check "nook audit --format json gives the same report as JSON" json_ok
check "the audit lists every setuid file that find(1) finds ($(wc -w <<<"$setuid_found"))" \
  test "$(listed 'setuid files' | sort)" = "$setuid_found"
check "the audit lists every device node that find(1) finds ($(wc -w <<<"$devices_found"))" \
  test "$(listed 'device nodes' | sort)" = "$devices_found"
check "the audit lists every installed package of the dpkg database ($installed), with versions" \
  test "$(count packages)" = "$installed" -a "$installed" -gt 0
check "--strict exits 1 on an image with setuid files or device nodes" \
  test "$strict_rc" = 1 -a -n "$setuid_found$devices_found"
check "--strict names what it found" grep -q 'audit --strict: [0-9]* setuid file(s), [0-9]* device node(s)' "$work/strict.err"
check "--strict exits 0 on a clean busybox rootfs (got $clean_rc)" test "$clean_rc" = 0

if [[ $failed == 0 ]]; then
  say "$name: all $passed checks passed: the audit showed what to look at before trusting the image."
  exit 0
fi
say "$name: $failed of $((passed + failed)) checks FAILED"
exit 1
