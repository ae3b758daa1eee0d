#!/usr/bin/env bash
# Builds NookKit's documentation (Sources/NookKit/NookKit.docc and the doc
# comments of its public declarations) into a DocC archive, with the docc of
# the toolchain: no swift-docc-plugin in Package.swift, so the normal build
# resolves and builds nothing more for it.
#
# Usage:  Scripts/nookkit-docs.sh [OUTPUT]   (default: .build/NookKit.doccarchive)
# Run `swift build --target NookKit` first: the symbols come from its module.
# Exit status: docc's; 1 when a link in the docs or doc comments does not resolve.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/NookKit.doccarchive}
bin=$(swift build --show-bin-path)
[[ -f $bin/Modules/NookKit.swiftmodule ]] || { echo "no $bin/Modules/NookKit.swiftmodule: run swift build --target NookKit" >&2; exit 2; }
symbols=$(mktemp -d "${TMPDIR:-/tmp}/nookkit-symbols.XXXXXX")
trap 'rm -rf "$symbols"' EXIT
# NookKit's imports: swift-system's C module, the shim's, and through
# NookImageRun libarchive's headers, as the build saw them.
swift symbolgraph-extract -module-name NookKit -target "$(uname -m)-unknown-linux-gnu" \
  -I "$bin/Modules" -I "$(dirname "$bin")/../checkouts/swift-system/Sources/CSystem/include" \
  -Xcc "-fmodule-map-file=$bin/CShims.build/module.modulemap" \
  -Xcc "-fmodule-map-file=CArchive/module.modulemap" \
  -minimum-access-level public -output-dir "$symbols"
docc convert Sources/NookKit/NookKit.docc --additional-symbol-graph-dir "$symbols" \
  --fallback-display-name NookKit --fallback-bundle-identifier NookKit \
  --warnings-as-errors --output-path "$out"
echo "NookKit documentation: $out (docc preview Sources/NookKit/NookKit.docc --additional-symbol-graph-dir DIR to browse)"
