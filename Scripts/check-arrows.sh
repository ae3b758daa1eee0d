#!/usr/bin/env bash
# Proves that the module graph's forbidden arrows do not build: for each arrow the
# rule table in Scripts/module-graph.py forbids (A -> B), a copy of the package gets
# one file in target A that says `import B`, and `swift build --target A` must fail
# on that import. An allowed import (the control) must build.
#
# Every target of ours uses the build-tool plugin Plugins/DirectImportsOnly, which
# fails the build of a target importing one of our modules it does not declare
# directly: SwiftPM's own check (--explicit-target-dependency-import-check error,
# which every build passes too) accepts a module reached through another one
# (`import CShims` in NookRuntime, which depends on NookKernel). So every
# forbidden arrow must fail `swift build`, indirect ones included, and quickly:
# the plugin refuses it while planning, before anything compiles.
# `module-graph.py --check` refuses the same imports by reading the sources; this
# script checks that both say no.
#
# Offline: the copy reuses .build's checkouts and Package.resolved.
# Usage: Scripts/check-arrows.sh   Exit status: 0, or 1 if a forbidden arrow builds.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/nook-arrows.XXXXXX)
trap 'rm -rf "$work"' EXIT
pkg=$work/pkg
scratch=$work/build
mkdir -p "$pkg" "$scratch"

# The sources as `swift build` sees them here: tracked and new files, not ignored ones.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  cpio -0pdm --quiet "$pkg"
[ -f Package.resolved ] && cp -p Package.resolved "$pkg/"
if [ -d .build/checkouts ]; then
  cp -a .build/checkouts "$scratch/"
  cp -p .build/workspace-state.json "$scratch/" 2>/dev/null || true
fi
build=(swift build --package-path "$pkg" --scratch-path "$scratch" --disable-automatic-resolution
       --explicit-target-dependency-import-check error)

swift package --package-path "$pkg" --scratch-path "$scratch" --disable-automatic-resolution dump-package > "$work/manifest.json"
graph() { python3 "$pkg/Scripts/module-graph.py" --json "$work/manifest.json" "$@"; }
graph --arrows > "$work/arrows"

# Where target A's probe goes: its own directory (SwiftPM's default, or the path the manifest gives).
target_dir() {
  python3 -c 'import json, sys
t = [t for t in json.load(open(sys.argv[1]))["targets"] if t["name"] == sys.argv[2]][0]
print(t.get("path") or "Sources/" + t["name"])' "$work/manifest.json" "$1"
}
probe() { echo "$pkg/$(target_dir "$1")/ArrowProbe$2.swift"; }

# The scan first: every forbidden import at once, each must be named.
while read -r kind a b _; do
  [ "$kind" = forbidden ] && printf 'import %s\n' "$b" > "$(probe "$a" "$b")"
done < "$work/arrows"
graph --check-arrows > "$work/scan" || true
while read -r kind a b _; do
  [ "$kind" = forbidden ] && rm "$(probe "$a" "$b")"
done < "$work/arrows"

failed=0
while read -r kind a b reach; do
  p=$(probe "$a" "")
  printf 'import %s\n' "$b" > "$p"
  scan="refused by module-graph.py"
  if [ "$kind" = forbidden ] && ! grep -q "forbidden arrow $a -> $b: .*ArrowProbe$b.swift" "$work/scan"; then
    scan="NOT refused by module-graph.py"; failed=1
  fi
  if [ "$kind" = control ]; then
    if "${build[@]}" --target "$a" > "$work/out" 2>&1; then
      echo "check-arrows: control $a -> $b (allowed): builds"
    else
      # Nothing after it would mean anything (no checkouts in .build? run `swift build` first).
      echo "check-arrows: control $a -> $b (allowed): FAILED to build:"; tail -20 "$work/out"; exit 1
    fi
  elif "${build[@]}" --target "$a" > "$work/out" 2>&1; then
    echo "check-arrows: $a -> $b ($reach): BUILDS"; failed=1
  elif why=$(grep -m1 -E "$a imports $b, which Package.swift does not give it|Target $a imports another target \($b\)|no such module '$b'" "$work/out"); then
    echo "check-arrows: $a -> $b: $scan; refused by swift build: ${why#*error: }"
  else
    echo "check-arrows: $a -> $b: the build failed, but not on the import:"; tail -20 "$work/out"; failed=1
  fi
  rm "$p"
done < "$work/arrows"
if [ "$failed" != 0 ]; then
  echo "check-arrows: what module-graph.py --check-arrows said:"; sed 's/^/  /' "$work/scan"
fi
echo "check-arrows: done in $SECONDS s"
exit $failed
