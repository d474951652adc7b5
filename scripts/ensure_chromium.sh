#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when /usr/bin/chromium is missing (never a Playwright browser
# download). Idempotent and non-interactive; uses sudo when not root. Prints the browser path.
set -euo pipefail
CHROMIUM=${MCC_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM ]]; then
  SUDO=()
  [[ $(id -u) -eq 0 ]] || SUDO=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  echo "ensure_chromium: installing Debian's chromium package" >&2
  # the dpkg lock may be held by another apt run: wait for it instead of failing at once
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >&2
fi
[[ -x $CHROMIUM ]] || { echo "ensure_chromium: $CHROMIUM is still missing after apt-get" >&2; exit 1; }
echo "$CHROMIUM"
