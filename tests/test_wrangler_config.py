"""wrangler.toml and the D1 migrations, checked with the real wrangler (offline).

Uses the wrangler installed for the Miniflare contract tests (tests/miniflare). Skipped
where it is not installed, unless PIXHAVEN_REQUIRE_MINIFLARE=1 (CI), where that fails.
"""

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WRANGLER = ROOT / "tests" / "miniflare" / "node_modules" / ".bin" / "wrangler"
# The companion browser Worker's own copy (same version, pinned in browser/package.json).
COMPANION_WRANGLER = ROOT / "browser" / "node_modules" / ".bin" / "wrangler"


def wrangler(*args: str, cwd: Path = ROOT, timeout: int = 180, binary: Path = WRANGLER) -> str:
    if not binary.exists() or shutil.which("node") is None:
        message = (
            f"wrangler is not installed (npm ci --prefix {binary.parents[2].relative_to(ROOT)})"
        )
        if os.environ.get("PIXHAVEN_REQUIRE_MINIFLARE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    environment = {**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"}
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


def test_deploy_dry_run_lists_every_binding(tmp_path):
    output = wrangler("deploy", "--dry-run", "--outdir", str(tmp_path / "out"))
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
    bundled = {path.name for path in (tmp_path / "out").iterdir()}
    assert any(name.endswith("fabric.min.js") for name in bundled), bundled
    assert "index.js" in bundled
