"""wrangler.toml, browser/wrangler.toml and the D1 migrations, checked with the real
wrangler (offline): both Workers pass `wrangler deploy --dry-run` with every binding listed,
and the committed configurations hold no account's ids (scripts/deploy.sh writes those into
the untracked wrangler.deploy.toml).

Uses the wrangler installed for the Miniflare contract tests (tests/miniflare), the
companion's own copy (browser/) and the deployment's (package.json at the root, the one
`pywrangler deploy` runs). Skipped where one is not installed, unless
PIXHAVEN_REQUIRE_MINIFLARE=1 (CI), where that fails.
"""

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WRANGLER = ROOT / "tests" / "miniflare" / "node_modules" / ".bin" / "wrangler"
# The companion browser Worker's own copy (same version, pinned in browser/package.json).
COMPANION_WRANGLER = ROOT / "browser" / "node_modules" / ".bin" / "wrangler"
# The deployment's copy (package.json at the root): what `uv run pywrangler deploy` and
# scripts/deploy.sh run. It needs Node.js 22, which the same package.json installs beside it.
DEPLOY_WRANGLER = ROOT / "node_modules" / ".bin" / "wrangler"


def wrangler(*args: str, cwd: Path = ROOT, timeout: int = 180, binary: Path = WRANGLER) -> str:
    if not binary.exists() or shutil.which("node") is None:
        folder = binary.parents[2].relative_to(ROOT)
        message = f"wrangler is not installed (npm ci --prefix {folder})"
        if os.environ.get("PIXHAVEN_REQUIRE_MINIFLARE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    environment = {**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"}
    # As `npx` runs it: that package's own programs (its Node.js, if it brings one) first.
    environment["PATH"] = f"{binary.parent}{os.pathsep}{environment['PATH']}"
    completed = subprocess.run(
        [str(binary), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    return output


def test_wrangler_toml_declares_a_python_worker():
    config = tomllib.loads((ROOT / "wrangler.toml").read_text())
    assert config["main"] == "src/entry.py"
    assert "python_workers" in config["compatibility_flags"]
    assert "2026-04-21" <= config["compatibility_date"] <= "2026-09-07"


@pytest.mark.parametrize(
    "binary", [WRANGLER, DEPLOY_WRANGLER], ids=["miniflare-wrangler", "deploy-wrangler"]
)
def test_deploy_dry_run_lists_every_binding(tmp_path, binary):
    output = wrangler("deploy", "--dry-run", "--outdir", str(tmp_path / "out"), binary=binary)
    for binding, kind in [
        ("env.DB", "D1 Database"),
        ("env.BUCKET", "R2 Bucket"),
        ("env.IMAGES", "Images"),
        ("env.AI", "AI"),
        ("env.JOBS", "Queue"),
        ("env.RATE_LIMITER", "Rate Limit"),
        ("env.BROWSER", "Worker"),  # service binding to the companion browser Worker
    ]:
        line = next((l for l in output.splitlines() if l.startswith(binding + " ")), None)
        assert line is not None and kind in line, f"{binding} missing:\n{output}"
    variables = tomllib.loads((ROOT / "wrangler.toml").read_text())["vars"]
    for name in variables:
        assert f"env.{name} " in output, name
    # The console (wrangler.toml [assets]) goes up with the Python Worker as static assets.
    assert re.search(r"Read \d+ files from the assets directory \S*console", output), output


def test_d1_migrations_apply_locally(tmp_path):
    output = wrangler(
        "d1", "migrations", "apply", "DB", "--local", "--persist-to", str(tmp_path / "state")
    )
    assert "0001_initial.sql" in output
    assert "✅" in output


def test_companion_browser_worker_deploys_with_its_browser_binding(tmp_path):
    """browser/wrangler.toml: the companion Worker bundles (fabric.js as a text module) and
    binds Cloudflare's browser; it is private (no workers.dev URL, no routes)."""
    config = tomllib.loads((ROOT / "browser" / "wrangler.toml").read_text())
    assert config["name"] == "pixhaven-browser"
    assert config["browser"] == {"binding": "MYBROWSER"}
    assert "nodejs_compat" in config["compatibility_flags"]
    assert config["workers_dev"] is False and "routes" not in config and "route" not in config
    miniflare = json.loads((ROOT / "tests" / "miniflare" / "package.json").read_text())
    companion = json.loads((ROOT / "browser" / "package.json").read_text())
    assert companion["devDependencies"]["wrangler"] == miniflare["devDependencies"]["wrangler"]
    output = wrangler(
        "deploy",
        "--dry-run",
        "--config",
        str(ROOT / "browser" / "wrangler.toml"),
        "--outdir",
        str(tmp_path / "out"),
        binary=COMPANION_WRANGLER,  # it bundles browser/node_modules (puppeteer, fabric)
    )
    line = next((l for l in output.splitlines() if l.startswith("env.MYBROWSER ")), None)
    assert line is not None and "Browser" in line, output
    for name in config["vars"]:
        assert f"env.{name} " in output, name
    bundled = {path.name for path in (tmp_path / "out").iterdir()}
    assert any(name.endswith("fabric.min.js") for name in bundled), bundled
    assert "index.js" in bundled


# A Cloudflare account, zone or namespace id (32 hex digits), or a UUID such as a D1
# database's id. The D1 placeholder is the all-zero UUID.
ACCOUNT_SPECIFIC = re.compile(
    r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I
)
PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("path", ["wrangler.toml", "browser/wrangler.toml"])
def test_committed_configuration_holds_no_account_specific_ids(path):
    """Anyone can deploy the repository as it is: the account's ids live in the untracked
    wrangler.deploy.toml that scripts/deploy.sh writes, never in a committed file."""
    text = (ROOT / path).read_text()
    found = [m for m in ACCOUNT_SPECIFIC.findall(text) if m != PLACEHOLDER_DATABASE_ID]
    assert found == [], f"{path} holds account-specific ids: {found}"
    config = tomllib.loads(text)
    assert "account_id" not in config
    for database in config.get("d1_databases", []):
        assert database["database_id"] == PLACEHOLDER_DATABASE_ID
    for route in config.get("routes", []) + [config.get("route", {})]:
        assert not (isinstance(route, dict) and "zone_id" in route), route
    for name, value in config.get("vars", {}).items():
        if name.endswith("ACCOUNT_ID"):
            assert value == "", f"{name} is set in {path}: set it in wrangler.deploy.toml"


def test_the_deploy_wrangler_runs_python_workers_dev_server():
    """`pywrangler dev` refuses a wrangler older than 4.109; the deployment's pin is newer,
    and its lock installs that version (the Miniflare tests keep their own, older pin)."""
    package = json.loads((ROOT / "package.json").read_text())
    pinned = package["devDependencies"]["wrangler"]
    assert tuple(int(part) for part in pinned.split(".")) >= (4, 109, 0)
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/wrangler"]["version"] == pinned
    if DEPLOY_WRANGLER.exists():
        assert wrangler("--version", binary=DEPLOY_WRANGLER).strip().endswith(pinned)
