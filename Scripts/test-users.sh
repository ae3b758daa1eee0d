#!/usr/bin/env bash
# Creates the unprivileged users the integration tests run `nook` as (root only; idempotent).
#   nooktest  uid/gid 2000, with /etc/subuid and /etc/subgid ranges 200000:65536
#   nooknosub uid/gid 2001, with no sub-id range (the zero-setup single mapping)
# Neither user has a password, a login shell matters not: tests start them with setpriv.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "test-users.sh: must run as root" >&2; exit 1; }
add_user() { # name uid
  getent group "$1" >/dev/null || groupadd -g "$2" "$1"
  getent passwd "$1" >/dev/null || useradd -u "$2" -g "$2" -M -d /nonexistent -s /bin/sh "$1"
}
add_user nooktest 2000
add_user nooknosub 2001
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  # useradd may have added ranges of its own: set exactly the documented ones.
  sed -i '/^nooktest:/d; /^nooknosub:/d' "$f"
  echo "nooktest:200000:65536" >> "$f"
done
