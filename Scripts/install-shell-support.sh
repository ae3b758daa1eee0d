#!/usr/bin/env bash
# Installs nook for every user's shell (root only; Scripts/bootstrap.sh runs it):
# the binary as /usr/local/bin/nook (root's, 0755: readable, as the id maps need,
# and writable by no user), bash, zsh and fish completions, and the man pages.
#   Scripts/install-shell-support.sh PATH/TO/nook
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1
install -m 0755 -o root -g root "$bin" /usr/local/bin/nook
# What `nook pull` runs, found beside nook.
install -m 0755 -o root -g root "$(dirname "$bin")/nook-registry" /usr/local/bin/nook-registry
install -d /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions \
  /usr/share/fish/vendor_completions.d /usr/local/share/man/man1
/usr/local/bin/nook --generate-completion-script bash >/usr/share/bash-completion/completions/nook
/usr/local/bin/nook --generate-completion-script zsh >/usr/share/zsh/vendor-completions/_nook
/usr/local/bin/nook --generate-completion-script fish >/usr/share/fish/vendor_completions.d/nook.fish
install -m 0644 Docs/man/*.1 /usr/local/share/man/man1/
command -v mandb >/dev/null && mandb -q /usr/local/share/man 2>/dev/null || true
echo "installed /usr/local/bin/nook and nook-registry, completions for bash, zsh and fish, and 'man nook', 'man nook.run', ..."
