#!/usr/bin/env bash
# Every command in the docs still does what the doc shows: each command in a code block of
# Docs/*.md, Examples/README.md and Examples/*/README.md is either verbatim in a
# script CI runs or run here against the built binary (as the user nooktest when
# started as root), and must print what the doc shows. See Scripts/check-docs.py
# for the rules.
#
# Usage:  Scripts/check-docs.sh [--shift-dates] [DOC...]
#   --shift-dates  check a copy of the docs whose dates were moved to another
#                  month and year, the commands run in another time zone
#   NOOK   the nook binary (default: .build/debug/nook, else `nook` on PATH)
#   PROBE  a built Tests/probe (default: built here, which needs gcc)
# Exit status: 0 when every command passed, 1 when one failed, 2 when it could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
nook=${NOOK:-}
if [[ -z $nook ]]; then
  if [[ -x .build/debug/nook ]]; then nook=.build/debug/nook; else nook=$(command -v nook || true); fi
fi
[[ -n $nook && -x $nook ]] || { echo "check-docs: no nook binary: build it (swift build) or set NOOK" >&2; exit 2; }
command -v python3 >/dev/null || { echo "check-docs: python3 not found" >&2; exit 2; }
if [[ $(id -u) == 0 ]] && ! getent passwd nooktest >/dev/null; then
  echo "check-docs: user nooktest does not exist: run Scripts/test-users.sh first" >&2
  exit 2
fi
exec python3 Scripts/check-docs.py "$nook" "$@"
