#!/usr/bin/env bash
# Brings up the `local` stack (the whole canary topology as processes on this
# machine) and prints its URL. Extra arguments go to `pulumi up`, e.g. -c canaryWeight=30.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pulumi() { bash "$root/scripts/pulumi.sh" "$@"; }
pulumi stack select local 2>/dev/null || pulumi stack init local --secrets-provider passphrase >/dev/null
pulumi up --stack local --yes --skip-preview "$@" >&2
echo "$(pulumi stack output url --stack local)"
