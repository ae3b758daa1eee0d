#!/usr/bin/env bash
# Regenerates Docs/man: one man page per subcommand, made from nook's own help
# text by swift-argument-parser's generate-manual plugin, and help.json, the
# help they were made from. The suite compares help.json with the built nook's
# (EverydayCLITests), so a changed flag or help text without new pages fails.
#   Scripts/make-man.sh        (run after changing any help text; commit Docs/man)
set -euo pipefail
cd "$(dirname "$0")/.."
out=Docs/man
rm -rf "$out"
mkdir -p "$out"
# The date printed in the pages: the last commit's, so two runs agree.
swift package --allow-writing-to-package-directory generate-manual --multi-page \
  --date "$(git log -1 --format=%cs)" --output-directory "$out"
rm -f "$out"/nook.__*.1 # internal commands
swift build
"$(swift build --show-bin-path)/nook" --experimental-dump-help >"$out/help.json"
ls "$out"
