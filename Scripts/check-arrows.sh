#!/usr/bin/env bash
# Proves that the module graph's forbidden arrows do not build: for each arrow the
# rule table in Scripts/module-graph.py forbids (A -> B), a copy of the package gets
# one file in target A that says `import B`, and `swift build --target A` must fail
# on that import. An allowed import (the control) must build.
#
# SwiftPM refuses an import of a module that is not among the target's declared
# dependencies, direct or indirect; it cannot refuse one that is (NookRuntime
# reaches CShims through NookKernel, and all modules land in one directory). Those
# arrows are refused by `module-graph.py --check`, which reads the imports of each
# target: this script shows that it refuses every forbidden arrow. To keep CI short
# it builds only the arrows SwiftPM is to refuse, and not those into a module none
# of ours may import (NookKit: it would cost a build of NookRuntime); --all builds
# those too, and the indirect ones, which must then build.
#
# Without --explicit-target-dependency-import-check error, an undeclared import
# builds whenever the other module happens to be built already (an incremental
# build, or another target needing it first): every build must pass that flag.
#
# Offline: the copy reuses .build's checkouts and Package.resolved.
# Usage: Scripts/check-arrows.sh [--all]   Exit status: 0, or 1 if a forbidden arrow builds.
set -euo pipefail
cd "$(dirname "$0")/.."
all=false
[ "${1:-}" = --all ] && all=true

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
  elif [ "$reach" = transitive ] && ! $all; then
    echo "check-arrows: $a -> $b: $scan; SwiftPM cannot refuse it ($b is an indirect dependency of $a)"
  elif [ "$reach" = unimported ] && ! $all; then
    echo "check-arrows: $a -> $b: $scan; not built (none of ours may import $b; --all builds it)"
  elif "${build[@]}" --target "$a" > "$work/out" 2>&1; then
    if [ "$reach" = transitive ]; then
      echo "check-arrows: $a -> $b: $scan; builds, as SwiftPM cannot refuse it ($b is an indirect dependency of $a)"
    else
      echo "check-arrows: $a -> $b: BUILDS"; failed=1
    fi
  elif why=$(grep -m1 -E "Target $a imports another target \($b\)|no such module '$b'|missing required module|circular dependency between modules '($a|$b)' and '($a|$b)'" "$work/out"); then
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
