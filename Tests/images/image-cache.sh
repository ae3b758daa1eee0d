# What debian-image.sh and redis-image.sh share; sourced by them, not run.
#
#   mirror            the Debian mirror apt already uses here (the first `deb`
#                     URI for Debian in /etc/apt/sources.list or
#                     sources.list.d/*.sources); DEBIAN_MIRROR=URL overrides it
#   image_cache NAME  the cache directory for the calling script's image NAME,
#                     keyed by the sha256 of the script, of this file and of
#                     oci-layout.py: under $NOOK_IMAGE_CACHE, else
#                     /var/cache/nook-test-images when writable (CI runs as
#                     root), else ${XDG_CACHE_HOME:-$HOME/.cache}/nook-test-images
#   begin_build       before building into the cache directory $cache: sets
#                     work (a fresh directory beside it, removed on exit),
#                     mode (mmdebstrap's: unshare, or root as root) and url (mirror)

mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then echo "$DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(sed -n 's|^deb \(\[[^]]*\] \)\{0,1\}\([a-z]*://[^ ]*/debian/\{0,1\}\) .*|\2|p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  if [[ -z $uri ]]; then
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's|^URIs: *\([a-z]*://[^ ]*/debian/\{0,1\}\)$|\1|p' | head -n 1)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

image_cache() { # NAME
  local here key root
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  key=$(cat "$0" "$here/image-cache.sh" "$here/oci-layout.py" | sha256sum | cut -c1-16)
  if [[ -n ${NOOK_IMAGE_CACHE:-} ]]; then
    root=$NOOK_IMAGE_CACHE
  elif [[ -w /var/cache ]]; then
    root=/var/cache/nook-test-images
  else
    root=${XDG_CACHE_HOME:-$HOME/.cache}/nook-test-images
  fi
  echo "$root/$1-$key"
}

begin_build() {
  mkdir -p "$(dirname "$cache")"
  work=$(mktemp -d "$(dirname "$cache")/.building.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  mode=unshare
  [[ $(id -u) != 0 ]] || mode=root
  url=$(mirror)
}
