#!/usr/bin/env bash
# Starts the local server with its embedded defaults on http://127.0.0.1:8787 on a fresh
# machine: creates .venv, installs Pixhaven with its local runtime (on production's package
# versions, constraints/production.txt), then runs `pixhaven dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[local]' -c constraints/production.txt
exec .venv/bin/pixhaven dev "$@"
