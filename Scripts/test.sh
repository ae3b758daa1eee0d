#!/usr/bin/env bash
# The whole test suite: unit tests, integration tests (real containers run as
# an unprivileged user), the cgroup v2 tests in a qemu guest, the examples, and
# the commands in the docs (Scripts/check-docs.sh), the pictures (Scripts/check-pictures.py),
# and the module graph (Scripts/module-graph.py, Scripts/check-arrows.sh: Docs/architecture.md).
# As root (CI), it creates the test users first; `nook` itself always runs unprivileged.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  Scripts/test-users.sh
fi

echo "== build"
# A target that imports a module it does not declare fails (the module graph, Docs/architecture.md).
timeout 1200 swift build --build-tests --explicit-target-dependency-import-check error
bin=$(swift build --show-bin-path)
# Examples/harness is a package of its own that builds NookKit again in its own
# .build: built here, so that its run.sh (under run-all.sh's timeout) finds it built.
timeout 900 swift build --build-tests --package-path Examples/harness

echo "== architecture: the module graph in Docs/architecture.md, and the forbidden arrows refused"
python3 Scripts/test_module_graph.py
Scripts/module-graph.py --check Docs/architecture.md
timeout 1500 Scripts/check-arrows.sh
echo "== no error dropped in silence: every try? says why"
Scripts/check-silent-try.py
echo "== NookKit's public surface: nothing else of Nook public, every public declaration documented"
python3 Scripts/test_public_surface.py
Scripts/public-surface.py --check

echo "== unit and integration tests"
timeout 1200 swift test --skip-build

echo "== cgroup v2 tests (qemu guest)"
if [ -x Tests/vm/run.sh ]; then
  timeout 900 Scripts/test-cgroups.sh "$bin"
else
  echo "SKIP: Tests/vm/run.sh missing"
fi

echo "== examples"
# stale-image keeps the Debian image it makes with mmdebstrap here (Tests/images/debian-image.sh).
# harness runs Redis from an image made with mmdebstrap: made (or found in that cache) here, so
# that run-all.sh's timeout covers only the tests; when it cannot be made, harness skips its Redis tests.
redis_out=$(mktemp -d)
NOOK_IMAGE_CACHE="$PWD/.build/example-cache/images" timeout 900 Tests/images/redis-image.sh "$redis_out" \
  || echo "Tests/images/redis-image.sh failed: Examples/harness will skip its Redis tests, saying why"
rm -rf "$redis_out"
NOOK="$bin/nook" NOOK_EXAMPLE_CACHE="$PWD/.build/example-cache" timeout 1200 Examples/run-all.sh

echo "== docs: every source path they name exists"
Scripts/check-doc-paths.py
echo "== docs: every picture rendered from its source, the module graph from Package.swift, each one embedded"
timeout 120 Scripts/check-pictures.py
echo "== docs: NookKit's articles show Examples/harness's code, verbatim"
Scripts/check-docc-snippets.py
echo "== docs: NookKit's DocC catalog and doc comments build, every link resolved"
timeout 300 Scripts/nookkit-docs.sh >/dev/null
echo "== docs: every command in Docs/*.md and Examples/README.md"
NOOK="$bin/nook" timeout 300 Scripts/check-docs.sh
echo "== docs again, their dates moved to another month and year, in another time zone"
NOOK="$bin/nook" timeout 300 Scripts/check-docs.sh --shift-dates
