#!/bin/sh
# Builds the static container probe: Tests/probe/build.sh OUTDIR  ->  OUTDIR/probe
# Needs gcc and the static glibc (Debian: gcc libc6-dev). No other libraries.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
${CC:-gcc} -static -O2 -Wall -Wextra -pthread -o "$out/probe.tmp.$$" "$here/probe.c"
mv -f "$out/probe.tmp.$$" "$out/probe"
echo "$out/probe"
