#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: creates .venv, installs Pixhaven with its
# local runtime and test extras, installs wrangler (for the Miniflare contract tests and the
# wrangler config checks) when npm is available, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[local,test]'
if command -v npm >/dev/null 2>&1; then
    npm ci --prefix tests/miniflare --no-audit --no-fund --loglevel=error
fi
exec .venv/bin/python -m pytest "$@"
