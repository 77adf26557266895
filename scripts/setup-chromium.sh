#!/usr/bin/env bash
# Finds the headless browser the report's integration test opens a real release report in, and
# prints its path on stdout (the test runs this script to find the same one). In this order:
# $CHROMIUM if set (it must run); /usr/bin/chromium (Debian's package); `chromium`,
# `google-chrome`, `google-chrome-stable` or `chromium-browser` on PATH (GitHub's ubuntu runners
# have google-chrome). Only when none runs does it install Debian's `chromium` package with
# apt-get (through sudo when not root). No browser build is downloaded by any npm package: the
# test drives this one through playwright-core. Logs go to stderr; a failure is one line.
set -euo pipefail

log() { printf 'setup-chromium: %s\n' "$*" >&2; }
runs() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${CHROMIUM:-}" ]; then
  if runs "$CHROMIUM"; then
    echo "$CHROMIUM"
    exit 0
  fi
  log "CHROMIUM=$CHROMIUM does not run (\`$CHROMIUM --version\` failed): set CHROMIUM to a Chromium or Chrome binary, or unset it"
  exit 1
fi

find_browser() {
  if runs /usr/bin/chromium; then
    echo /usr/bin/chromium
    return 0
  fi
  local name found
  # A snap shim (Ubuntu's chromium-browser without snapd) does not run, so it is passed over.
  for name in chromium google-chrome google-chrome-stable chromium-browser; do
    found="$(command -v "$name" 2>/dev/null || true)"
    if [ -n "$found" ] && runs "$found"; then
      echo "$found"
      return 0
    fi
  done
  return 1
}

if browser="$(find_browser)"; then
  log "browser ready at $browser"
  echo "$browser"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=(sudo -n); fi
if ! command -v apt-get >/dev/null || { [ "$(id -u)" -ne 0 ] && [ ${#sudo[@]} -eq 0 ]; }; then
  log "no Chromium or Chrome found (CHROMIUM unset; no /usr/bin/chromium; none of chromium, google-chrome, google-chrome-stable, chromium-browser on PATH) and apt-get as root is not available: install one, or set CHROMIUM to its binary"
  exit 1
fi

start=$SECONDS
log "installing Debian's chromium package (once)"
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
  ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 ||
  ! browser="$(find_browser)"; then
  log "installing the chromium package with apt-get failed (on Ubuntu it is a snap: install google-chrome or chromium otherwise): set CHROMIUM to a Chromium or Chrome binary"
  exit 1
fi
log "$("$browser" --version 2>/dev/null || echo chromium) installed in $((SECONDS - start)) s"
echo "$browser"
