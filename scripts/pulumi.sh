#!/usr/bin/env bash
# This project's Pulumi CLI (built by setup-pulumi.sh) with the file backend and
# empty passphrase that local-platform stacks use on this machine. AWS stacks:
# set PULUMI_BACKEND_URL (or log in) and your passphrase or secrets provider.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-pulumi.sh" 2>/dev/null
mkdir -p "$root/.pulumi-state/backend"
export PATH="$root/.tools/pulumi/bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
# The stack's encryption salt from its state when the settings file has none (as committed).
export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true
# Node.js >= 22.1 compiles the modules of the program and provider processes once, not per update.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$root/.pulumi-state/node-compile-cache}"
# Local stacks need no provider plugin and this machine may reach no download site, so plugin
# downloads are off; a stack named with -s whose settings are not local's (an AWS stack) must
# be able to fetch the aws and awsx plugins on a fresh machine, as the driver allows.
stack=""
for ((i = 1; i <= $#; i++)); do
  case "${!i}" in
    -s | --stack) j=$((i + 1)) && stack="${!j:-}" ;;
    --stack=*) stack="${!i#--stack=}" ;;
  esac
done
if [ -z "$stack" ] || [ ! -f "$root/Pulumi.$stack.yaml" ] ||
  grep -qE '^\s*ecs-canary:platform:\s*["'"'"']?local["'"'"']?\s*$' "$root/Pulumi.$stack.yaml"; then
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
fi
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$root/.pulumi-state/backend}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
cd "$root"
# Pulumi writes the stack's encryption salt into a settings file that has none (`destroy`,
# `stack init`); the salt is in the stack's state too, where the fallback above finds it, so
# the tracked file is put back without it (as the driver does).
file="$root/Pulumi.${stack:-local}.yaml"
salted=0
if [ -f "$file" ] && grep -q '^encryptionsalt:' "$file"; then salted=1; fi
rc=0
# The Node.js language host runs the program with the `node` on PATH: a supported one.
WITH_NODE_QUIET=1 bash "$root/scripts/with-node.sh" pulumi "$@" || rc=$?
if [ "$salted" = 0 ] && [ -f "$file" ] && grep -q '^encryptionsalt:' "$file"; then
  sed -i '/^encryptionsalt:/d' "$file"
fi
exit "$rc"
