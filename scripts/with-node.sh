#!/usr/bin/env bash
# Runs a command with a supported Node.js first on PATH (see setup-node.sh): the node on PATH
# when it is new enough, else the one in .tools/node. Everything the command starts that looks
# `node` up on PATH gets the same one: mocha, the driver, the Pulumi CLI's Node.js language
# host and dynamic-provider plugin. Says which node on stderr unless WITH_NODE_QUIET=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -eq 0 ]; then
  echo "usage: scripts/with-node.sh COMMAND [ARGS...]" >&2
  exit 2
fi
bin="$(bash "$root/scripts/setup-node.sh")"
if [ -n "$bin" ]; then export PATH="$bin:$PATH"; fi
if [ "${WITH_NODE_QUIET:-}" != 1 ]; then
  printf 'node %s (%s)\n' "$(node --version)" "$(command -v node)" >&2
fi
exec "$@"
