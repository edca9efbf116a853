#!/usr/bin/env bash
# Fuzzes the running API against its own /openapi.json with every schemathesis check:
# starts `pixhaven dev` on a throwaway state folder and port, runs `schemathesis run`, stops
# the server. Arguments go to schemathesis (e.g. `--seed 1`, `--max-time 60`,
# `--include-path-regex '^/v1/'`). Needs the test extra
# (`pip install -e '.[local,test]' -c constraints/production.txt`).
# tests/test_openapi_fuzz.py runs a small derandomized subset of this inside pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${FUZZ_PORT:-8799}
TOKEN=fuzz-admin
STATE=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$STATE"' EXIT
cp wrangler.toml "$STATE/"
ln -s "$ROOT/migrations" "$STATE/migrations"
echo "ADMIN_TOKEN=$TOKEN" > "$STATE/.dev.vars"
(cd "$STATE" && exec "$ROOT/.venv/bin/pixhaven" dev --port "$PORT" > dev.log 2>&1) &
SERVER=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break
  sleep 0.2
done
cd "$STATE"
"$ROOT/.venv/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
  -H "Authorization: Bearer $TOKEN" --checks all "$@"
