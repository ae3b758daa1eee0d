#!/usr/bin/env bash
# Checks one exercise level (Examples/exercises/README.md) by what the kernel
# reports inside a container you run, and prints PASS or FAIL.
#
# Usage:  Examples/exercises/check.sh LEVEL [CONFIG]
#   LEVEL   pivot-root, masked-path, seccomp or capabilities
#   CONFIG  the config.json you edited (the config levels; default: a fresh
#           `nook spec`, which FAILs: it is where you start)
#   NOOK    the nook binary (default: `nook` on PATH); pivot-root judges it
# Run it as an ordinary user.
# Exit status: 0 PASS, 1 FAIL, 2 when the check could not run.
set -euo pipefail

name=exercises
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=levels.sh
. "$here/levels.sh"

[[ $# == 1 || $# == 2 ]] || die "usage: $0 LEVEL [CONFIG]   (levels: ${levels[*]})"
[[ $(id -u) != 0 ]] || die "run it as an ordinary user: the point is what a rootless container can do"
start_as_user
use_private_state
trap 'rm -rf "$work"' EXIT
config=
if [[ -n ${2:-} ]]; then config=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); fi
level_check "$1" "$config"
