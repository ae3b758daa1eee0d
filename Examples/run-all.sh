#!/usr/bin/env bash
# Runs every Examples/*/run.sh, one after the other (in the order of the lab
# sheet, Examples/README.md, then any other), and reports on its last line
#   N passed, N failed, N skipped
# An example is skipped when it exits 77 (automake's code; lib.sh's `skip`)
# after a line "SKIP: REASON": it could not show its threat on this host.
# run-all.sh repeats the reason (the last such line). 77 without that line,
# or that line with exit status 0, fails: a skip is never counted as a pass.
# Exit status: 0 when no example failed (passed or skipped; with CI=true, none skipped); 1 when one failed
# (any other exit status, or a timeout) or none was found.
#
# Usage:  Examples/run-all.sh [NOOK]
#   NOOK    the nook binary: the first argument, else $NOOK, else `nook` on PATH
#   ROOTFS  passed on to each example (default: each makes its own busybox rootfs)
#   EXAMPLE_TIMEOUT  seconds one example may take (default 300)
#   NOOK_EXAMPLE_CACHE  a directory where stale-image keeps the Debian image it
#           makes with mmdebstrap (default: Tests/images/debian-image.sh's own cache)
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
skipped=0
failures=()
skips=()
log=$(mktemp "${TMPDIR:-/tmp}/nook-run-all.XXXXXX")
trap 'rm -f "$log"' EXIT
# The lab sheet's order (Examples/README.md), then any other example.
order=(bind-mount malicious-image daemon-spof cryptojacking no-api-socket stale-image web-server harness exercises)
scripts=()
for example in "${order[@]}"; do scripts+=("$here/$example/run.sh"); done
for script in "$here"/*/run.sh; do
  [[ " ${order[*]} " == *" $(basename "$(dirname "$script")") "* ]] || scripts+=("$script")
done
for script in "${scripts[@]}"; do
  [[ -f $script ]] || continue
  example=$(basename "$(dirname "$script")")
  printf '=== %s\n' "$example"
  # stdout through tee, to find the SKIP line; the example's own status.
  timeout --kill-after=10 "$timeout_s" bash "$script" | tee "$log"
  status=${PIPESTATUS[0]}
  said_skip=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
  if [[ $status == 0 && -z $said_skip ]]; then
    passed=$((passed + 1))
    printf '=== %s: passed\n\n' "$example"
  elif [[ $status == 77 && -n $said_skip ]]; then
    skipped=$((skipped + 1))
    reason=${said_skip#"$example: "}
    skips+=("$example: $reason")
    printf '=== %s: skipped: %s\n\n' "$example" "$reason"
  else
    failed=$((failed + 1))
    failures+=("$example")
    if [[ $status == 0 ]]; then
      printf '=== %s: FAILED (a "SKIP:" line, but exit status 0: a skip exits 77)\n\n' "$example"
    elif [[ $status == 77 ]]; then
      printf '=== %s: FAILED (exit status 77, a skip, but no "SKIP: REASON" line)\n\n' "$example"
    elif [[ $status == 124 || $status == 137 ]]; then
      printf '=== %s: FAILED (timed out after %ss)\n\n' "$example" "$timeout_s"
    else
      printf '=== %s: FAILED (exit status %s)\n\n' "$example" "$status"
    fi
  fi
done

total=$((passed + failed + skipped))
if [[ $total == 0 ]]; then
  echo "no example found under $here (expected */run.sh)"
fi
for s in "${skips[@]}"; do echo "skipped: $s"; done
if [[ $failed -gt 0 ]]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
# CI's machines can run every example: there a skip means something was not shown.
if [[ ${CI:-} == true && $skipped -gt 0 ]]; then
  echo "CI: every example must run here; $skipped skipped"
  exit 1
fi
[[ $failed == 0 && $total -gt 0 ]]
