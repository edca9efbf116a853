#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: creates .venv, installs Pixhaven with its
# local runtime and test extras on production's package versions (constraints/production.txt:
# what Cloudflare's Pyodide ships, so the versions tested are the versions the Worker runs),
# installs wrangler (for the Miniflare contract tests and the
# wrangler config checks), the companion browser Worker's packages (browser/), axe-core and the
# console's vendored libraries when npm is available, checks lint, formatting and types (ruff, mypy; configured in pyproject.toml),
# then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[local,test]' -c constraints/production.txt
if command -v npm >/dev/null 2>&1; then
    # The deployment's wrangler (package.json; its dry runs are checked) and the Miniflare
    # tests' own pinned copy.
    npm ci --no-audit --no-fund --loglevel=error
    npm ci --prefix tests/miniflare --no-audit --no-fund --loglevel=error
    # The companion Worker (browser/): its page logic runs under Node in the contract tests.
    npm ci --prefix browser --no-audit --no-fund --loglevel=error
    # The Worker on Pyodide (tests/pyodide/): npm pyodide, pinned.
    npm ci --prefix tests/pyodide --no-audit --no-fund --loglevel=error
    # The console's Swagger UI and ReDoc (console/vendor, pinned; the console tests load them).
    .venv/bin/pixhaven console install
fi
# All three checks run (so one run reports every problem); any failure fails the script.
checks=0
.venv/bin/ruff check src tests bench scripts || checks=1
.venv/bin/ruff format --check src tests bench scripts || checks=1
.venv/bin/mypy src/pixhaven || checks=1
if [ "$checks" -ne 0 ]; then
    echo "scripts/test.sh: lint, format or type check failed (see above)" >&2
    exit 1
fi
exec .venv/bin/python -m pytest "$@"
