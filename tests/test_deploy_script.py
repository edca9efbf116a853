"""scripts/deploy.sh against stand-ins of the tools it runs (tests/deploy_standins.py).

The stand-ins record every command and keep a small account, so the tests see the exact
sequence of the first deployment, that a second run finds everything and creates nothing,
that secrets travel on standard input only and are never printed, that the account's
database id lands in the untracked wrangler.deploy.toml (never in wrangler.toml), and that a
failing step stops with the command to retry. Offline, and a few seconds.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy_standins import DATABASE_ID, WORKERS_DEV

ROOT = Path(__file__).resolve().parents[1]
STANDINS = Path(__file__).resolve().parent / "deploy_standins.py"
# What the script reads from the repository.
FILES = [
    "scripts/deploy.sh",
    "wrangler.toml",
    "pyproject.toml",
    "package.json",
    "package-lock.json",
    "browser/package.json",
    "browser/package-lock.json",
    "browser/wrangler.toml",
    "browser/src/index.js",
    "src/pixhaven/render/fonts.py",
    "console/index.html",
]
CONFIG = "--config wrangler.deploy.toml"

FIRST_RUN = [
    "uv --version",
    "npm --version",
    "npm ci --prefix . --no-audit --no-fund --loglevel=error",
    "npm ci --prefix browser --no-audit --no-fund --loglevel=error",
    "npx --yes wrangler whoami --json",
    "npx --yes wrangler login",
    "npx --yes wrangler d1 list --json",
    "npx --yes wrangler d1 create pixhaven",
    "npx --yes wrangler d1 list --json",
    "npx --yes wrangler r2 bucket list",
    "npx --yes wrangler r2 bucket create pixhaven",
    "npx --yes wrangler queues list",
    "npx --yes wrangler queues create pixhaven-jobs",
    "npx --yes wrangler queues create pixhaven-jobs-dead",
    f"npx --yes wrangler d1 migrations apply DB --remote {CONFIG}",
    f"npx --yes wrangler secret list {CONFIG} --format json",
    f"npx --yes wrangler secret put ADMIN_TOKEN {CONFIG}",
    f"npx --yes wrangler secret put R2_ACCESS_KEY_ID {CONFIG}",
    f"npx --yes wrangler secret put R2_SECRET_ACCESS_KEY {CONFIG}",
    "uv run pixhaven fonts install --remote",
    "(browser) npx --yes wrangler deploy",
    "uv run pixhaven console install",
    f"uv run pywrangler deploy {CONFIG}",
    f"curl -fsS --retry 6 --retry-delay 5 --retry-all-errors --max-time 30 {WORKERS_DEV}/health",
]

SECOND_RUN = [
    "uv --version",
    "npm --version",
    "npx --yes wrangler whoami --json",
    "npx --yes wrangler d1 list --json",
    "npx --yes wrangler r2 bucket list",
    "npx --yes wrangler queues list",
    f"npx --yes wrangler d1 migrations apply DB --remote {CONFIG}",
    f"npx --yes wrangler secret list {CONFIG} --format json",
    # Both Workers exist with the code they would be given again: not redeployed.
    "npx --yes wrangler deployments status --name pixhaven-browser --json",
    # The console's libraries: already in console/vendor, nothing fetched.
    "uv run pixhaven console install",
    "npx --yes wrangler deployments status --name pixhaven --json",
    f"curl -fsS --retry 6 --retry-delay 5 --retry-all-errors --max-time 30 {WORKERS_DEV}/health",
]

R2_KEY_ID = "r2-key-id-7c1f0e"
R2_SECRET = "r2-secret-a9d3b5e1c7f2"


class Deployment:
    """A copy of the repository's deploy inputs, stand-in tools first on PATH, one account."""

    def __init__(self, tmp_path: Path):
        if shutil.which("node") is None:
            pytest.skip("scripts/deploy.sh needs Node.js (it parses wrangler's JSON with it)")
        self.repo = tmp_path / "repo"
        for name in FILES:
            (self.repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, self.repo / name)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for tool in ("npx", "uv", "npm", "curl"):
            path = self.bin / tool
            path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDINS}" {tool} "$@"\n')
            path.chmod(path.stat().st_mode | stat.S_IEXEC)
        self.log = tmp_path / "commands.log"
        self.account_file = tmp_path / "account.json"

    def run(self, **environment: str) -> subprocess.CompletedProcess[str]:
        self.log.write_text("")
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"ADMIN_TOKEN", "PUBLIC_BASE_URL", "CLOUDFLARE_API_TOKEN"}
        }
        env.update(
            PATH=f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            STANDIN_LOG=str(self.log),
            STANDIN_ACCOUNT=str(self.account_file),
            STANDIN_REPO=str(self.repo),
            **environment,
        )
        return subprocess.run(
            ["bash", str(self.repo / "scripts" / "deploy.sh")],
            cwd=self.repo,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def commands(self) -> list[str]:
        return self.log.read_text().splitlines()

    def account(self) -> dict:
        return json.loads(self.account_file.read_text())


def test_first_run_creates_everything_in_order_and_a_second_run_creates_nothing(tmp_path):
    deployment = Deployment(tmp_path)
    committed = (deployment.repo / "wrangler.toml").read_bytes()

    first = deployment.run(R2_ACCESS_KEY_ID=R2_KEY_ID, R2_SECRET_ACCESS_KEY=R2_SECRET)
    assert first.returncode == 0, first.stdout + first.stderr
    assert deployment.commands() == FIRST_RUN
    account = deployment.account()
    assert [d["name"] for d in account["databases"]] == ["pixhaven"]
    assert account["buckets"] == ["pixhaven"]
    assert account["queues"] == ["pixhaven-jobs", "pixhaven-jobs-dead"]
    assert account["workers"]["pixhaven"]["deploys"] == 1
    assert account["workers"]["pixhaven-browser"]["deploys"] == 1
    assert f"Pixhaven is deployed: {WORKERS_DEV}" in first.stdout
    assert '"status":"ok"' in first.stdout

    # The account's id is in the local, untracked copy; wrangler.toml is as committed.
    deploy_config = deployment.repo / "wrangler.deploy.toml"
    assert f'database_id = "{DATABASE_ID}"' in deploy_config.read_text()
    assert (deployment.repo / "wrangler.toml").read_bytes() == committed
    written = deploy_config.stat().st_mtime_ns

    second = deployment.run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert deployment.commands() == SECOND_RUN
    again = deployment.account()
    assert again["databases"] == account["databases"]
    assert again["buckets"] == account["buckets"]
    assert again["queues"] == account["queues"]
    assert again["workers"]["pixhaven"]["secrets"] == account["workers"]["pixhaven"]["secrets"]
    assert "unchanged" in second.stdout
    assert deploy_config.stat().st_mtime_ns == written
    assert (deployment.repo / "wrangler.toml").read_bytes() == committed
    assert again["workers"]["pixhaven"]["deploys"] == 1
    assert again["workers"]["pixhaven-browser"]["deploys"] == 1
    assert f"Pixhaven is deployed: {WORKERS_DEV}" in second.stdout


def test_an_update_deploys_what_changed(tmp_path):
    deployment = Deployment(tmp_path)
    assert deployment.run().returncode == 0
    code = deployment.repo / "src" / "pixhaven" / "render" / "fonts.py"
    code.write_text(code.read_text() + "\n# a new release\n")
    updated = deployment.run()
    assert updated.returncode == 0, updated.stdout + updated.stderr
    commands = deployment.commands()
    assert f"uv run pywrangler deploy {CONFIG}" in commands
    assert "(browser) npx --yes wrangler deploy" not in commands
    assert not any(" create " in command for command in commands)
    # The font catalogue's module changed: the fonts go up again too.
    assert "uv run pixhaven fonts install --remote" in commands
    account = deployment.account()
    assert account["workers"]["pixhaven"]["deploys"] == 2
    assert account["workers"]["pixhaven-browser"]["deploys"] == 1

    # A Worker deleted on the dashboard, or rolled back to an older version, is deployed
    # again, whatever the last run recorded.
    del account["workers"]["pixhaven-browser"]
    account["workers"]["pixhaven"]["version"] = "00000001-rolled-back"
    deployment.account_file.write_text(json.dumps(account))
    again = deployment.run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "(browser) npx --yes wrangler deploy" in deployment.commands()
    assert f"uv run pywrangler deploy {CONFIG}" in deployment.commands()
    assert deployment.run().returncode == 0
    assert not any(" deploy" in c and "deployments" not in c for c in deployment.commands())


def test_secrets_go_on_stdin_and_a_generated_admin_token_is_printed_once(tmp_path):
    deployment = Deployment(tmp_path)
    first = deployment.run(R2_ACCESS_KEY_ID=R2_KEY_ID, R2_SECRET_ACCESS_KEY=R2_SECRET)
    assert first.returncode == 0, first.stdout + first.stderr
    secrets = deployment.account()["workers"]["pixhaven"]["secrets"]
    # wrangler received each value on its standard input...
    assert secrets["R2_ACCESS_KEY_ID"] == R2_KEY_ID
    assert secrets["R2_SECRET_ACCESS_KEY"] == R2_SECRET
    # ...and no value is on a command line or in what the script printed.
    for value in (R2_KEY_ID, R2_SECRET):
        assert value not in deployment.log.read_text()
        assert value not in first.stdout + first.stderr

    # No ADMIN_TOKEN given, no terminal: one is generated, kept in a private file, shown once.
    token_file = deployment.repo / ".pixhaven" / "cloudflare" / "admin_token"
    token = token_file.read_text().strip()
    assert len(token) >= 40 and secrets["ADMIN_TOKEN"] == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert first.stdout.count(token) == 1
    assert token not in deployment.log.read_text()
    assert "Admin token: .pixhaven/cloudflare/admin_token" in first.stdout

    second = deployment.run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert token not in second.stdout + second.stderr
    assert "ADMIN_TOKEN: already set, kept" in second.stdout
    assert deployment.account()["workers"]["pixhaven"]["secrets"]["ADMIN_TOKEN"] == token


def test_a_given_admin_token_is_set_and_never_echoed(tmp_path):
    deployment = Deployment(tmp_path)
    given = "admin-token-given-3e8b0f4d2a6c"
    completed = deployment.run(ADMIN_TOKEN=given, PUBLIC_BASE_URL="https://img.example.com")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert deployment.account()["workers"]["pixhaven"]["secrets"]["ADMIN_TOKEN"] == given
    assert given not in completed.stdout + completed.stderr + deployment.log.read_text()
    assert not (deployment.repo / ".pixhaven" / "cloudflare" / "admin_token").exists()
    # A custom domain: the setting goes into the local configuration, /health is asked there.
    deploy_config = (deployment.repo / "wrangler.deploy.toml").read_text()
    assert 'PUBLIC_BASE_URL = "https://img.example.com"' in deploy_config
    assert deployment.commands()[-1].endswith(" https://img.example.com/health")


def test_a_failing_step_stops_with_the_command_to_retry(tmp_path):
    deployment = Deployment(tmp_path)
    failed = deployment.run(STANDIN_FAIL="queues create pixhaven-jobs-dead")
    assert failed.returncode != 0
    assert "retry with:  npx --yes wrangler queues create pixhaven-jobs-dead" in failed.stderr
    assert deployment.commands()[-1] == "npx --yes wrangler queues create pixhaven-jobs-dead"
    assert "Pixhaven is deployed" not in failed.stdout

    # Re-running resumes: what exists is found, only the missing queue is created.
    resumed = deployment.run()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    created = [c for c in deployment.commands() if " create " in c]
    assert created == ["npx --yes wrangler queues create pixhaven-jobs-dead"]


def test_an_unreadable_secret_list_stops_rather_than_replace_the_admin_token(tmp_path):
    deployment = Deployment(tmp_path)
    assert deployment.run().returncode == 0
    token = deployment.account()["workers"]["pixhaven"]["secrets"]["ADMIN_TOKEN"]
    failed = deployment.run(STANDIN_FAIL="secret list")
    assert failed.returncode != 0
    assert "retry with:  npx --yes wrangler secret list" in failed.stderr
    assert not any("secret put" in command for command in deployment.commands())
    assert deployment.account()["workers"]["pixhaven"]["secrets"]["ADMIN_TOKEN"] == token


def test_a_generated_admin_token_survives_a_failed_first_run(tmp_path):
    deployment = Deployment(tmp_path)
    failed = deployment.run(STANDIN_FAIL="secret put ADMIN_TOKEN")
    assert failed.returncode != 0
    token = (deployment.repo / ".pixhaven" / "cloudflare" / "admin_token").read_text().strip()
    resumed = deployment.run()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert deployment.account()["workers"]["pixhaven"]["secrets"]["ADMIN_TOKEN"] == token
    assert token not in resumed.stdout


def test_missing_tools_are_named_with_how_to_get_them(tmp_path):
    deployment = Deployment(tmp_path)
    (deployment.bin / "uv").unlink()
    # A PATH with the stand-ins and the basic commands, but no uv anywhere on it.
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("node", "awk", "sed", "grep", "sort", "head", "cat", "mkdir", "dirname"):
        found = shutil.which(name)
        if found:
            (tools / name).symlink_to(found)
    completed = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(deployment.repo / "scripts" / "deploy.sh")],
        cwd=deployment.repo,
        env={"PATH": f"{deployment.bin}{os.pathsep}{tools}", "HOME": str(tmp_path)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode != 0
    assert "uv is missing" in completed.stdout
    assert "https://astral.sh/uv/install.sh" in completed.stdout
    assert "retry with:  ./scripts/deploy.sh" in completed.stderr


def test_the_local_configuration_is_ignored_by_git():
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    for name in ("wrangler.deploy.toml", ".pixhaven/cloudflare/admin_token"):
        ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", name])
        assert ignored.returncode == 0, f"{name} is not in .gitignore"


def test_the_script_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    completed = subprocess.run(
        ["shellcheck", str(ROOT / "scripts" / "deploy.sh")], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout
