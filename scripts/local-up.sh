#!/usr/bin/env bash
# Brings up the `local` stack (the whole canary topology as processes on this
# machine) at canary weight 0 and prints its URL.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-pulumi.sh" 2>/dev/null
# Through the driver: it creates the stack on first use, keeps the settings of the stack's last
# update (colours, versions) whatever the settings file says, refuses while a release runs, and
# writes no tracked file.
node "$root/build/automation/cli/main.js" set-weight 0 --stack local --plain >&2
node "$root/build/automation/cli/main.js" status --stack local --json |
  node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).outputs.url))'
