#!/usr/bin/env bash
# Proves that the module graph's forbidden arrows do not build: for each arrow the
# rule table in Scripts/module-graph.py forbids (A -> B), a copy of the package gets
# one file in target A that imports B (in one of several forms: after another
# import on the line, around a comment, after a tab), and `swift build --target A` must fail
# on that import. An allowed import (the control) must build.
#
# Every target of ours uses the build-tool plugin Plugins/DirectImportsOnly, which
# fails the build of a target importing one of our modules it does not declare
# directly: SwiftPM's own check (--explicit-target-dependency-import-check error,
# which every build passes too) accepts a module reached through another one
# (`import CShims` in NookRuntime, which depends on NookKernel). So every
# forbidden arrow must fail `swift build`, indirect ones included, and quickly:
# the plugin refuses it while planning, before anything compiles.
#
# Offline: the copy reuses .build's checkouts and Package.resolved.
# Usage: Scripts/check-arrows.sh   Exit status: 0, or 1 if a forbidden arrow builds.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/nook-arrows.XXXXXX)
# SwiftPM also leaves its lock files beside the scratch path, named after it (/tmp/_tmp_nook-arrows.X_build.lock).
locks=/tmp/$(printf '%s' "$work" | tr / _)_
trap 'rm -rf "$work"; rm -f "$locks"*.lock' EXIT
pkg=$work/pkg
scratch=$work/build
mkdir -p "$pkg" "$scratch"

# The sources as `swift build` sees them here: tracked and new files, not ignored ones.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$pkg"
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

# The forms an import can take, tried in turn: the plugin reads every
# statement of a line, with comments left out.
forms=('import %s' 'import Glibc; import %s' 'import /* a comment */ %s' $'import\t%s' '@testable import %s' 'internal import %s')
n=0

failed=0
while read -r kind a b reach; do
  p=$(probe "$a" "")
  form=${forms[n % ${#forms[@]}]}
  n=$((n + 1))
  [ "$kind" = control ] && form='import %s'
  # shellcheck disable=SC2059 # the form is ours: one %s
  printf "$form\n" "$b" > "$p"
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
    echo "check-arrows: $a -> $b ($(head -1 "$p")): refused by swift build: ${why#*error: }"
  else
    echo "check-arrows: $a -> $b: the build failed, but not on the import:"; tail -20 "$work/out"; failed=1
  fi
  rm "$p"
done < "$work/arrows"
echo "check-arrows: done in $SECONDS s"
exit $failed
