"""The local runtime's own parts: config from wrangler.toml/.dev.vars, cron, CLI."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from pixhaven.cron import Schedule as CronSchedule
from pixhaven.local.runtime.cli import main as cli
from pixhaven.local.runtime.config import load_config, parse_dev_vars

ROOT = Path(__file__).resolve().parents[1]


def test_config_reads_wrangler_toml_and_dev_vars(tmp_path):
    dev_vars = tmp_path / ".dev.vars"
    dev_vars.write_text('ADMIN_TOKEN="s3cret"\n# comment\nIMAGE_QUALITY=90\n')
    config = load_config(ROOT / "wrangler.toml", dev_vars=dev_vars)
    assert config.vars["ADMIN_TOKEN"] == "s3cret"
    assert config.vars["IMAGE_QUALITY"] == "90"  # .dev.vars overrides [vars], as in wrangler
    assert config.vars["DEFAULT_OWNER"] == "default_user"
    assert config.migrations_dir == ROOT / "migrations"
    assert (config.rate_limit, config.rate_period) == (100, 60)
    assert config.crons == ["*/15 * * * *"]


def test_parse_dev_vars():
    assert parse_dev_vars("export A=1\nB = 'two words'\n\n#x=y\nC=\"q\"") == {
        "A": "1",
        "B": "two words",
        "C": "q",
    }


def test_cron_next_fire_times():
    start = datetime(2026, 1, 1, 10, 7, 30, tzinfo=timezone.utc)
    assert CronSchedule("*/15 * * * *").next_after(start).minute == 15
    assert CronSchedule("0 3 * * *").next_after(start) == datetime(
        2026, 1, 2, 3, 0, tzinfo=timezone.utc
    )
    # 2026-01-04 is a Sunday (0 and 7 both mean Sunday).
    for sunday in ("0 0 * * 0", "0 0 * * 7"):
        assert CronSchedule(sunday).next_after(start).day == 4
    with pytest.raises(ValueError):
        CronSchedule("61 * * * *")


def test_cli_keys_lifecycle(tmp_path, capsys):
    state = ["--state-dir", str(tmp_path / "state"), "--config", str(ROOT / "wrangler.toml")]
    assert cli([*state, "keys", "create", "--name", "ci", "--scopes", "images:read,keys:read"]) == 0
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    assert key.startswith("pxf_")
    key_id = out.split()[1]
    assert key_id.startswith("key_")

    assert cli([*state, "keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "active" in listing and key not in listing

    assert cli([*state, "keys", "revoke", key_id]) == 0
    assert cli([*state, "keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert cli([*state, "keys", "revoke", key_id]) == 1
    assert cli([*state, "keys", "create", "--name", "x", "--scopes", "nope"]) == 2


def test_cli_migrate_and_admin_token(tmp_path, capsys):
    state = tmp_path / "state"
    assert cli(["--state-dir", str(state), "--config", str(ROOT / "wrangler.toml"), "migrate"]) == 0
    assert "0001_initial.sql" in capsys.readouterr().out
    token = (state / "admin_token").read_text().strip()
    assert token.startswith("pxa_") and (state / "admin_token").stat().st_mode & 0o077 == 0
