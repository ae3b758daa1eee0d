#!/usr/bin/env bash
# Creates the unprivileged users the integration tests run `nook` as (root only; idempotent).
#   nooktest  one /etc/subuid and one /etc/subgid range of 65536 ids
#   nooknosub no sub-id range (the zero-setup single mapping)
# A user that exists already is kept as it is, whatever its uid and gid. A new one
# gets uid = gid = 2000 (nooktest) or 2001 (nooknosub) when that uid and that gid
# are both free, else the first free pair above. nooktest's range is kept when it
# has exactly one of 65536 that overlaps no other entry (nor a uid or gid in use);
# else it gets 200000:65536, or when that overlaps, the first such range above it.
# The tests look every number up at run time: nothing depends on 2000 or 200000.
# Other names (for a second run on the same machine, with NOOK_TEST_USER and
# NOOK_TEST_USER_NOSUB set to them): Scripts/test-users.sh NAME NAME_NOSUB.
# Neither user has a password, a login shell matters not: tests start them with setpriv.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "test-users.sh: must run as root" >&2; exit 1; }

RANGE=65536
created=()

# The first N >= $1 free both as a uid (passwd) and as a gid (group).
free_pair() {
  local n=$1
  while getent passwd "$n" >/dev/null || getent group "$n" >/dev/null; do n=$((n + 1)); done
  echo "$n"
}

add_user() { # name preferred-id
  local name=$1 id gid
  getent passwd "$name" >/dev/null && return 0
  if gid=$(getent group "$name" | cut -d: -f3) && [ -n "$gid" ]; then
    # The group is there already (a half-removed user): keep it, find the user a uid.
    id=$gid
    getent passwd "$id" >/dev/null && id=$(free_pair "$2")
  else
    id=$(free_pair "$2")
    groupadd -g "$id" "$name"
    gid=$id
  fi
  useradd -u "$id" -g "$gid" -M -d /nonexistent -s /bin/sh "$name"
  created+=("$name")
}

# Prints FILE's lines for user NAME (by name or by numeric id), or the others'.
lines_of() { awk -F: -v n="$2" -v u="$3" '$1 == n || $1 == u' "$1"; }
lines_not_of() { awk -F: -v n="$2" -v u="$3" '!($1 == n || $1 == u)' "$1"; }

# Replaces FILE's contents (same inode, mode and owner) with stdin.
rewrite() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  cat "$tmp" >"$1"
  rm -f "$tmp"
}

# Gives NAME (uid ID) exactly one range of $RANGE in FILE (/etc/subuid or /etc/subgid);
# KEEP=1: a single valid range it has already is kept. IDS: the ids in use on the
# host (uids for subuid, gids for subgid), which no range may hold either.
give_range() { # file name id keep ids-source(passwd|group)
  local file=$1 name=$2 id=$3 keep=$4 db=$5 taken mine start
  # "start count" of everything that is not NAME's: the other ranges, and each id in use.
  taken=$( { lines_not_of "$file" "$name" "$id" | awk -F: 'NF == 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { print $2, $3 }'
             getent "$db" | awk -F: '$3 ~ /^[0-9]+$/ { print $3, 1 }'; } | sort -n)
  mine=$(lines_of "$file" "$name" "$id")
  if [ "$keep" = 1 ] && [ "$(printf '%s\n' "$mine" | grep -c .)" = 1 ]; then
    start=$(printf '%s\n' "$mine" | TAKEN=$taken awk -F: -v r="$RANGE" '
      $2 ~ /^[0-9]+$/ && $3 == r {
        s = $2; e = s + r; n = split(ENVIRON["TAKEN"], t, "\n")
        for (i = 1; i <= n; i++) { split(t[i], f, " "); if (f[1] < e && f[1] + f[2] > s) exit }
        print s }')
    [ -n "$start" ] && return 0
  fi
  # The lowest start >= 200000 whose range overlaps nothing taken (sorted by start).
  start=$(printf '%s\n' "$taken" | awk -v r="$RANGE" '
    BEGIN { s = 200000 }
    NF == 2 { if ($1 < s + r && $1 + $2 > s) s = $1 + $2 }
    END { print s }')
  [ "$((start + RANGE))" -le 4294967295 ] || { echo "test-users.sh: no free range of $RANGE ids in $file" >&2; exit 1; }
  { lines_not_of "$file" "$name" "$id"; echo "$name:$start:$RANGE"; } | rewrite "$file"
}

with=${1:-nooktest}
without=${2:-nooknosub}
add_user "$with" 2000
add_user "$without" 2001
test_uid=$(id -u "$with")
nosub_uid=$(id -u "$without")
keep=1
# useradd may have given a new user ranges of its own (SUB_UID_COUNT): not kept.
[[ " ${created[*]} " == *" $with "* ]] && keep=0
# Both files name their owner by login name or by uid (newgidmap's reading, too).
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  lines_not_of "$f" "$without" "$nosub_uid" | rewrite "$f"
done
give_range /etc/subuid "$with" "$test_uid" "$keep" passwd
give_range /etc/subgid "$with" "$test_uid" "$keep" group
