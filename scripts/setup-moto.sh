#!/usr/bin/env bash
# Installs moto's server (a local AWS API emulator, from PyPI) into a venv in
# .tools/moto, for the integration tests of the AWS adapters. A second run reuses
# the venv while it holds exactly the pinned packages below.
set -euo pipefail

# moto 5.2.5 with its server's web stack and every transitive dependency pinned, so
# that each machine runs the same emulator. `moto[server]` is not used: it adds the
# dependencies of services this project does not emulate (cfn-lint, sympy, docker...).
PINS=(
  moto==5.2.5
  flask==3.1.3
  flask-cors==6.0.5
  blinker==1.9.0
  boto3==1.44.8
  botocore==1.44.8
  certifi==2026.10.19.post1
  cffi==2.1.1
  charset-normalizer==3.5.3
  click==8.5.1
  cryptography==50.0.2
  idna==3.20
  itsdangerous==2.2.0
  jinja2==3.1.6
  jmespath==1.1.0
  markupsafe==3.0.4
  pycparser==3.12
  python-dateutil==2.9.0.post0
  pyyaml==6.0.4
  requests==2.34.2
  responses==0.26.3
  s3transfer==0.19.3
  six==1.17.0
  urllib3==2.8.0
  werkzeug==3.1.9
  xmltodict==1.0.4
)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/moto"
stamp="$venv/.pins"
python="${PYTHON:-python3}"

log() { printf 'setup-moto: %s\n' "$*" >&2; }

wanted="$(printf '%s\n' "${PINS[@]}")"
if [ -x "$venv/bin/moto_server" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] &&
  "$venv/bin/python" -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
  log "moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') ready in $venv"
  exit 0
fi

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
  log "moto 5.2 needs Python >= 3.9; '$python' is $("$python" --version 2>&1 || echo missing)" \
    "(set PYTHON to another interpreter)"
  exit 1
fi

start=$SECONDS
log "installing moto server into $venv (about a minute, once)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --no-input --disable-pip-version-check "${PINS[@]}"
"$venv/bin/python" -c 'import moto.server, flask, flask_cors'
printf '%s\n' "$wanted" >"$stamp"
log "moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') installed in $((SECONDS - start)) s"
