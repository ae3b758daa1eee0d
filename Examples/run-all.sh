#!/usr/bin/env bash
# Runs every Examples/*/run.sh, one after the other (in the order of the lab
# sheet, Examples/README.md, then any other), and reports on its last line
#   N passed, N failed
# Exit status: 0 when every example passed; 1 when one failed or none was found.
#
# Usage:  Examples/run-all.sh [NOOK]
#   NOOK    the nook binary: the first argument, else $NOOK, else `nook` on PATH
#   ROOTFS  passed on to each example (default: each makes its own busybox rootfs)
#   EXAMPLE_TIMEOUT  seconds one example may take (default 300)
#   NOOK_EXAMPLE_CACHE  a directory where stale-image keeps the Debian rootfs it
#           makes with debootstrap (default: none, made again on every run)
# Run it as an ordinary user, or as root (CI): each example then switches to the
# test user nooktest itself (Scripts/test-users.sh creates it).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -gt 0 ]]; then NOOK=$1; fi
NOOK=${NOOK:-nook}
# Examples may change directory: give them an absolute path.
if [[ $NOOK == */* && -e $NOOK ]]; then
  NOOK=$(cd "$(dirname "$NOOK")" && pwd)/$(basename "$NOOK")
fi
export NOOK
timeout_s=${EXAMPLE_TIMEOUT:-300}

passed=0
failed=0
failures=()
# The lab sheet's order (Examples/README.md), then any other example.
order=(bind-mount malicious-image daemon-spof cryptojacking no-api-socket stale-image web-server)
scripts=()
for example in "${order[@]}"; do scripts+=("$here/$example/run.sh"); done
for script in "$here"/*/run.sh; do
  [[ " ${order[*]} " == *" $(basename "$(dirname "$script")") "* ]] || scripts+=("$script")
done
for script in "${scripts[@]}"; do
  [[ -f $script ]] || continue
  example=$(basename "$(dirname "$script")")
  printf '=== %s\n' "$example"
  if timeout --kill-after=10 "$timeout_s" bash "$script"; then
    passed=$((passed + 1))
    printf '=== %s: passed\n\n' "$example"
  else
    status=$?
    failed=$((failed + 1))
    failures+=("$example")
    if [[ $status == 124 || $status == 137 ]]; then
      printf '=== %s: FAILED (timed out after %ss)\n\n' "$example" "$timeout_s"
    else
      printf '=== %s: FAILED (exit status %s)\n\n' "$example" "$status"
    fi
  fi
done

if [[ $((passed + failed)) == 0 ]]; then
  echo "no example found under $here (expected */run.sh)"
fi
if [[ $failed -gt 0 ]]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
