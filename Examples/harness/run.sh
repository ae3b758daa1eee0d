#!/usr/bin/env bash
# NookKit as a test harness: a Swift package (this directory) whose tests, in
# Swift Testing and XCTest, start busybox httpd in rootless containers through
# NookKit, wait until it answers, fetch a page over the published port, run a
# command inside, and run 20 servers at once; and start Redis, a real
# database, from a Debian image, SET and GET a key over the published port,
# and show that two containers of the image share nothing. No daemon, no
# reaper container.
#
# The tests must run as an unprivileged user: that is what NookKit is for.
# This script builds the package (swift build --build-tests, in
# Examples/harness/.build: NookKit is built again there), makes the Redis
# image (Tests/images/redis-image.sh: mmdebstrap, cached) and imports it into
# a store of the test user's own, then runs the built test binary twice, once
# per testing library, and checks that no container state is left behind.
#
# Usage:  Examples/harness/run.sh
#   NOOK    the nook binary the containers' monitors run (default: `nook` on PATH);
#           the tests get it as NOOK_BINARY
#   ROOTFS  a root filesystem to run in (default: a fresh `nook rootfs busybox`)
#   SWIFT   the swift driver (default: `swift` on PATH)
#   REDIS_LAYOUT  an OCI layout of the Redis image to import instead of making
#           one (what Tests/images/redis-image.sh writes as OUTDIR/redis)
#   NOOK_EXAMPLE_CACHE  where redis-image.sh keeps the image (DIR/images; default:
#           its own cache, /var/cache/nook-test-images as root)
# Started as root (CI), it builds the package and the image as root, then runs
# the test binary as the user nooktest (NOOK_EXAMPLE_USER) with setpriv. As an
# ordinary user, mmdebstrap runs with --mode=unshare and needs a sub-id range.
# Published ports go through Nook's own forwarder: nothing more to install.
# Exit status: 0 when every check passed, 1 when one failed, 2 when it could
# not run. When the Redis image could not be made (no mmdebstrap, no mirror),
# every other test still runs, and the SKIP line says why the Redis tests did not.
set -euo pipefail

name=harness
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

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

# The Redis image's OCI layout in DIR/redis: $REDIS_LAYOUT, else the one
# Tests/images/redis-image.sh makes (or has in its cache). Sets redis_layout,
# or redis_missing: why there is none.
make_redis_layout() { # DIR
  redis_layout='' redis_missing=''
  if [[ -n ${REDIS_LAYOUT:-} ]]; then
    [[ -f $REDIS_LAYOUT/index.json ]] || die "REDIS_LAYOUT=$REDIS_LAYOUT is not an OCI layout (no index.json)"
    cp -a "$REDIS_LAYOUT" "$1/redis"
    redis_layout=$1/redis
    return
  fi
  if ! command -v mmdebstrap >/dev/null; then
    redis_missing="mmdebstrap is not installed (Debian package mmdebstrap): no Redis image"
    return
  fi
  say "Making the Redis image: Tests/images/redis-image.sh (mmdebstrap, a few minutes unless cached) ..."
  local started=$SECONDS
  if NOOK_IMAGE_CACHE=${NOOK_EXAMPLE_CACHE:+$NOOK_EXAMPLE_CACHE/images} \
    timeout 600 "$repo/Tests/images/redis-image.sh" "$1" >"$1/redis-image.log" 2>&1; then
    redis_layout=$1/redis
    say "  $(tail -n 1 "$1/redis-image.log" | sed 's/^redis-image.sh: //'), in $((SECONDS - started)) s"
  else
    tail -n 5 "$1/redis-image.log" | sed 's/^/    /'
    # mmdebstrap's first error says the most (its last: only that it failed).
    redis_missing="Tests/images/redis-image.sh failed, no Redis image (is the Debian mirror reachable?): $(
      grep -m 1 '^E: ' "$1/redis-image.log" || tail -n 1 "$1/redis-image.log")"
  fi
  rm -f "$1/redis-image.log"
}

if [[ $(id -u) == 0 ]]; then
  build_tests
  stage_for_test_user
  stage_file "$tests" tests.xctest
  # Root makes the image in a directory of its own, never in $tmp (the test
  # user's: a link planted there would take root's writes elsewhere); the
  # user only reads it.
  redis_dir=$(mktemp -d /tmp/nook-harness-redis.XXXXXX) || die "mktemp failed"
  trap 'rm -rf "$redis_dir" "$tmp"' EXIT  # lib.sh's trap removes $tmp: this one both
  make_redis_layout "$redis_dir"
  chmod 755 "$redis_dir"
  [[ -z $redis_layout ]] || chmod -R a+rX "$redis_layout"
  set +e
  run_as_test_user TESTS="$tmp/tests.xctest" REDIS_LAYOUT="$redis_layout" REDIS_MISSING="$redis_missing"
  status=$?
  rm -rf "$redis_dir"
  exit $status
fi

start_as_user
# The image store's unpacked layers belong to the user's sub-ids: removed in a
# user namespace that maps them.
cleanup() {
  [[ ! -d $work/data ]] || unshare --map-root-user --map-auto rm -rf "$work/data" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
use_rootfs
use_private_state
if [[ -z ${TESTS:-} ]]; then build_tests; fi
tests=${TESTS:-$tests}

# A store of this run's own, with the Redis image in it.
export XDG_DATA_HOME=$work/data
if [[ -n ${NOOK_EXAMPLE_REEXEC:-} && -z ${REDIS_LAYOUT:-} ]]; then
  redis_layout='' redis_missing=${REDIS_MISSING:-"no Redis image was made"}  # root tried, and said why not
else
  make_redis_layout "$work"
fi
if [[ -n $redis_layout ]]; then
  check "nook image import: the Redis image as nook-example/redis" \
    "$nook" image import "$redis_layout" nook-example/redis
  if "$nook" image inspect nook-example/redis >/dev/null 2>&1; then export REDIS_IMAGE=nook-example/redis; fi
else
  say "The Redis tests will be skipped: $redis_missing"
fi

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
redis=${REDIS_IMAGE:+"; Redis SET and GET"}
check "XCTest: the web server answered and exec ran inside$redis" run_tests xctest
check "Swift Testing: a page over the published port, exec, 20 servers at once$redis" \
  run_tests swift-testing --testing-library swift-testing
check "Swift Testing ran its 6 tests" grep -q "Test run with 6 tests.*passed" "$work/swift-testing.log"
if [[ -n ${REDIS_IMAGE:-} ]]; then
  # Run, not skipped: each passed by name.
  check "Redis (Swift Testing): SET then GET over the published port" \
    grep -q "Test setThenGetOverThePublishedPort() passed" "$work/swift-testing.log"
  check "Redis (Swift Testing): a key set in one container is absent in another" \
    grep -q "Test twoContainersOfTheImageAreIndependent() passed" "$work/swift-testing.log"
  check "Redis (XCTest): SET then GET" \
    grep -q "RedisXCTests.testSetThenGet.* passed" "$work/xctest.log"
fi
left=$(ls -A "$XDG_RUNTIME_DIR/nook" 2>/dev/null | grep -v '^\.' || true)
check "no container state is left" test -z "$left"
layers=$(ls -A "$XDG_DATA_HOME/nook/containers" 2>/dev/null || true)
check "no container layer is left in the image store" test -z "$layers"

say "$passed passed, $failed failed"
[[ $failed == 0 ]] || exit 1
[[ -z ${REDIS_IMAGE:-} ]] || exit 0
skip "the Redis tests did not run (every other check passed): ${redis_missing:-the image was not imported}"
