#!/usr/bin/env bash
# CI's run of the exercises (Examples/exercises/README.md): every level's check
# must PASS in the solved state and FAIL in the unsolved one, so that neither
# the checks nor the exercises rot.
#   masked-path, seccomp, capabilities: the student edits a config.json. The
#     unsolved state is a fresh `nook spec` (check must FAIL); the solved one is
#     that file with level_solve's edit, in a scratch copy (check must PASS).
#     Both run the same nook: no rebuild.
#   pivot-root: the student edits CShims/child_mounts.c, so the shipped code is
#     the solved state (check must PASS). Its unsolved state needs a second nook
#     build (minutes), so CI does not run it; README.md says how it was seen to
#     FAIL once.
#
# Usage:  Examples/exercises/run.sh
#   NOOK    the nook binary (default: `nook` on PATH)
# Needs python3, and gcc with libc6-dev (pivot-root's escape program).
# Run it as an ordinary user. Started as root, it re-executes itself as the user
# nooktest (create it with Scripts/test-users.sh).
# Exit status: 0 when every level behaved, 1 when one did not, 2 when it could not run.
set -euo pipefail

name=exercises
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [[ $(id -u) == 0 ]]; then
  stage_for_test_user
  for f in levels.sh escape.c; do stage_file "$here/$f" "$name/$f"; done
  set +e
  run_as_test_user
  exit $?
fi

# shellcheck source-path=SCRIPTDIR source=levels.sh
. "$here/levels.sh"
command -v python3 >/dev/null || die "python3 not found: the checks edit config.json with it"
start_as_user
use_private_state
trap 'rm -rf "$work"' EXIT
level_prefix="    the check says: "

say "== The exercises' checks, each in its solved and its unsolved state"
for level in "${levels[@]}"; do
  if [[ $level == pivot-root ]]; then
    check "pivot-root PASSes with the shipped code (the solved state)" level_check pivot-root
    continue
  fi
  unsolved=$(level_config "")
  check "$level FAILs on a fresh nook spec (the unsolved state)" eval '! level_check "$level" "$unsolved"'
  cp "$unsolved" "$work/$level.json"
  level_solve "$level" "$work/$level.json"
  check "$level PASSes once solved (level_solve's edit)" level_check "$level" "$work/$level.json"
done

if [[ $failed == 0 ]]; then
  say "$name: all $passed checks behaved: each level PASSes solved and FAILs unsolved."
  exit 0
fi
say "$name: $failed of $((passed + failed)) checks FAILED"
exit 1
