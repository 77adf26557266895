#!/usr/bin/env bash
# Installs Debian's `chromium` package, the headless browser the report's integration test
# opens a real release report in. Skips at once when /usr/bin/chromium is there; installing
# needs root (apt-get), as on CI's machine. No browser build is downloaded by any npm package:
# the test drives this one through playwright-core.
set -euo pipefail

browser="${CHROMIUM:-/usr/bin/chromium}"
log() { printf 'setup-chromium: %s\n' "$*" >&2; }

if [ -x "$browser" ]; then
  log "chromium ready at $browser"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  log "no $browser, and this is not root on a Debian machine: install Debian's chromium package" \
    "(apt-get install -y chromium) or set CHROMIUM to a Chromium binary"
  exit 1
fi

start=$SECONDS
log "installing Debian's chromium package (once)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
log "$("$browser" --version 2>/dev/null || echo chromium) installed in $((SECONDS - start)) s"
