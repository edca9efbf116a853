#!/usr/bin/env bash
# Starts the local server with its embedded defaults on http://127.0.0.1:8787 on a fresh
# machine: creates .venv, installs Pixhaven with its local runtime (on production's package
# versions, constraints/production.txt), puts the console's Swagger UI and ReDoc into
# console/vendor (`pixhaven console install`, npm; without npm the server still starts and
# /docs says what to install), then runs `pixhaven dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[local]' -c constraints/production.txt
if ! .venv/bin/pixhaven console install; then
    echo "scripts/dev.sh: the console's libraries are not installed (above); /docs and /redoc" \
        "will say so. Install Node.js with npm, then: .venv/bin/pixhaven console install" >&2
fi
exec .venv/bin/pixhaven dev "$@"
