#!/usr/bin/env bash
# Makes `pulumi` and `pulumi-language-nodejs` available in .tools/pulumi/bin.
# Uses binaries already on PATH when they are new enough; otherwise builds them
# with the machine's Go from Pulumi's Go modules and reuses that build later.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-3.274.1}"
# The last Pulumi SDK module that still carries the Node.js language host; later
# releases moved it to a module of its own that the Go module proxy does not serve.
LANGHOST_SDK_VERSION="${LANGHOST_SDK_VERSION:-3.68.0}"
MIN_PULUMI_VERSION="3.150.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/pulumi"
bin="$tools/bin"
mkdir -p "$bin"

log() { printf 'setup-pulumi: %s\n' "$*" >&2; }

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

cli_version() { "$1" version 2>/dev/null | sed 's/^v//'; }

# 1. Binaries already on PATH (not ours) that are new enough.
if [ ! -x "$bin/pulumi" ]; then
  onpath="$(PATH="${PATH//$bin:/}" command -v pulumi || true)"
  langpath="$(PATH="${PATH//$bin:/}" command -v pulumi-language-nodejs || true)"
  if [ -n "$onpath" ] && [ -n "$langpath" ]; then
    v="$(cli_version "$onpath")"
    if [ -n "$v" ] && version_ge "$v" "$MIN_PULUMI_VERSION"; then
      ln -sf "$onpath" "$bin/pulumi"
      ln -sf "$langpath" "$bin/pulumi-language-nodejs"
      log "using pulumi $v from $onpath"
    fi
  fi
fi

build_module() { # name package version output
  local name="$1" pkg="$2" module="$3" version="$4" out="$5" extra_replace="${6:-}"
  local dir="$tools/build/$name"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module ecs-canary/tools/$name

go 1.26
$extra_replace
MOD
  (
    cd "$dir"
    export GOFLAGS="-mod=mod" CGO_ENABLED=0
    go get "$module@v$version" >/dev/null
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$out" "$pkg"
  )
}

if [ ! -x "$bin/pulumi" ] || [ "$(cli_version "$bin/pulumi")" = "" ]; then
  log "building pulumi v$PULUMI_VERSION with $(go version | cut -d' ' -f3) (several minutes, once)"
  start=$SECONDS
  # pkg/v3's own go.mod replaces the clipboard module; a wrapper module must repeat it.
  build_module cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION" "$bin/pulumi" \
    "replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"
  log "built pulumi in $((SECONDS - start)) s"
fi

# The language host built here (not one taken from PATH, a symlink) runs behind a wrapper: the
# host of sdk v3.68 reads runtime options only as flags (-typescript, default true), and CLIs
# since then start it with the engine's address alone and hand Pulumi.yaml's options over in the
# run request (sdk/go/common/resource/plugin/langruntime_plugin.go, buildArgsForNewPlugin). So
# Pulumi.yaml's `typescript: false` never reached it, and every update of the compiled program
# registered ts-node and loaded TypeScript for nothing. The wrapper passes what Pulumi.yaml says.
langhost="$tools/build/langhost/pulumi-language-nodejs"
if [ -f "$bin/pulumi-language-nodejs" ] && [ ! -L "$bin/pulumi-language-nodejs" ] &&
  [ "$(head -c 2 "$bin/pulumi-language-nodejs")" != "#!" ]; then
  # Built by an earlier version of this script into bin/ itself.
  mkdir -p "$(dirname "$langhost")"
  mv -f "$bin/pulumi-language-nodejs" "$langhost"
fi
if [ ! -L "$bin/pulumi-language-nodejs" ]; then
  if [ ! -x "$langhost" ]; then
    log "building pulumi-language-nodejs from sdk v$LANGHOST_SDK_VERSION"
    start=$SECONDS
    build_module langhost github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
      github.com/pulumi/pulumi/sdk/v3 "$LANGHOST_SDK_VERSION" "$langhost"
    log "built pulumi-language-nodejs in $((SECONDS - start)) s"
  fi
  typescript="$(sed -n 's/^ *typescript: *\(true\|false\) *$/\1/p' "$root/Pulumi.yaml" | head -n 1)"
  # Found from the wrapper's own folder, so a working copy moved with its .tools still works.
  cat >"$bin/.pulumi-language-nodejs.new" <<LANGHOST
#!/bin/sh
# Written by scripts/setup-pulumi.sh: see there.
exec "\$(dirname "\$0")/../build/langhost/pulumi-language-nodejs" -typescript=${typescript:-true} "\$@"
LANGHOST
  chmod +x "$bin/.pulumi-language-nodejs.new"
  mv -f "$bin/.pulumi-language-nodejs.new" "$bin/pulumi-language-nodejs"
fi

# The dynamic-provider plugin. The @pulumi/pulumi npm package ships it as a script that starts
# `node -e require.resolve(...)` to find the provider's module from its working directory, then
# node on it: two Node.js starts per update. This one finds the module the same way (the
# node_modules of the working directory or a folder above it) without starting node for it,
# and falls back to the package's script when it does not. Written beside, then renamed, so a
# running update never sees a half-written file.
cat >"$bin/.pulumi-resource-pulumi-nodejs.new" <<'PLUGIN'
#!/bin/sh
# Written by scripts/setup-pulumi.sh: see there.
dir="$PWD"
while :; do
  main="$dir/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"
  if [ -f "$main" ]; then exec node "$main" "$@"; fi
  [ "$dir" = "/" ] && break
  dir="$(dirname "$dir")"
done
main="$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" || exit 1
exec node "$main" "$@"
PLUGIN
chmod +x "$bin/.pulumi-resource-pulumi-nodejs.new"
mv -f "$bin/.pulumi-resource-pulumi-nodejs.new" "$bin/pulumi-resource-pulumi-nodejs"

"$bin/pulumi" version >/dev/null
log "ready: $bin ($("$bin/pulumi" version))"
