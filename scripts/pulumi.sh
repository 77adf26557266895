#!/usr/bin/env bash
# This project's Pulumi CLI (built by setup-pulumi.sh) with the file backend and
# empty passphrase that local-platform stacks use on this machine. AWS stacks:
# set PULUMI_BACKEND_URL (or log in) and your passphrase or secrets provider.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-pulumi.sh" 2>/dev/null
mkdir -p "$root/.pulumi-state/backend"
export PATH="$root/.tools/pulumi/bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$root/.pulumi-state/backend}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
cd "$root"
exec pulumi "$@"
