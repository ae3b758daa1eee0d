#!/usr/bin/env bash
# NookKit as a test harness: a Swift package (this directory) whose tests, in
# Swift Testing and XCTest, start busybox httpd in rootless containers through
# NookKit, wait until it answers, fetch a page over the published port, run a
# command inside, and run 20 servers at once. No daemon, no reaper container.
#
# The tests must run as an unprivileged user: that is what NookKit is for.
# This script builds the package (swift build --build-tests, in
# Examples/harness/.build: NookKit is built again there), then runs the built
# test binary twice, once per testing library, and checks that no container
# state is left behind.
#
# Usage:  Examples/harness/run.sh
#   NOOK    the nook binary the containers' monitors run (default: `nook` on PATH);
#           the tests get it as NOOK_BINARY
#   ROOTFS  a root filesystem to run in (default: a fresh `nook rootfs busybox`)
#   SWIFT   the swift driver (default: `swift` on PATH)
# Started as root (CI), it builds as root, then runs the test binary as the
# user nooktest with setpriv. Needs pasta (Debian package passt) for the ports.
# Exit status: 0 when every check passed, 1 when one failed, 2 when it could
# not run, 77 (skipped) without pasta.
set -euo pipefail

name=harness
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v pasta >/dev/null || skip "pasta (Debian package passt) is not installed: published ports need it"

# The package's test binary (one for both libraries), built from $here.
build_tests() {
  local swift=${SWIFT:-swift} started=$SECONDS
  command -v "$swift" >/dev/null || die "no '$swift' on PATH: install Swift or set SWIFT=/path/to/swift"
  say "Building the package (NookKit is built again in $here/.build)..."
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/nook-harness-build.XXXXXX")
  "$swift" build --build-tests --package-path "$here" >"$log" 2>&1 \
    || { cat "$log" >&2; rm -f "$log"; die "swift build --build-tests failed in $here"; }
  rm -f "$log"
  say "  built in $((SECONDS - started)) s"
  tests=$("$swift" build --show-bin-path --package-path "$here")/NookHarnessExamplePackageTests.xctest
  [[ -x $tests ]] || die "no test binary at $tests"
}

if [[ $(id -u) == 0 ]]; then
  build_tests
  stage_for_test_user
  stage_file "$tests" tests.xctest
  set +e
  run_as_test_user TESTS="$tmp/tests.xctest"
  exit $?
fi

start_as_user
use_rootfs
use_private_state
trap 'rm -rf "$work"' EXIT
if [[ -z ${TESTS:-} ]]; then build_tests; fi
tests=${TESTS:-$tests}

say "Running the tests as $user (uid $uid), the monitors run $nook."
# Both libraries' tests live in one binary: XCTest runs by default, Swift
# Testing when asked (what `swift test` does on Linux).
export NOOK_BINARY=$nook ROOTFS=$rootfs
run_tests() { # LABEL, then arguments for the test binary
  local label=$1 started=$SECONDS
  shift
  "$tests" "$@" >"$work/$label.log" 2>&1
  local rc=$?
  sed 's/^/    /' "$work/$label.log"
  say "  $label: exit status $rc in $((SECONDS - started)) s"
  return $rc
}
check "XCTest: the web server answered and exec ran inside" run_tests xctest
check "Swift Testing: a page over the published port, exec, 20 servers at once" \
  run_tests swift-testing --testing-library swift-testing
check "Swift Testing ran its 4 tests" grep -q "Test run with 4 tests.*passed" "$work/swift-testing.log"
left=$(ls -A "$XDG_RUNTIME_DIR/nook" 2>/dev/null | grep -v '^\.' || true)
check "no container state is left" test -z "$left"

say "$passed passed, $failed failed"
[[ $failed == 0 ]] || exit 1
