#!/usr/bin/env bash
# Lints the GitHub Actions workflows of the project (or of the git work tree named as the
# first argument) with actionlint, shellcheck checking each `run:` script. Sets the tools up
# first (setup-actionlint.sh). Exits non-zero, with one line per finding, on any finding.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root}"
bash "$root/scripts/setup-actionlint.sh"
bin="$root/.tools/actionlint/bin"
cd "$dir"
# -pyflakes "": no workflow runs Python scripts.
"$bin/actionlint" -oneline -no-color -shellcheck "$bin/shellcheck" -pyflakes ""
echo "actionlint: $(find .github/workflows -name '*.y*ml' | wc -l) workflow files clean" >&2
