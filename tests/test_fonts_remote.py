"""`pixhaven fonts install --remote`: one batched upload through the deployment's pinned
wrangler, with no prompt.

A stand-in `npx` on PATH records its arguments, its working folder and the manifest it is
given (wrangler itself would talk to Cloudflare); the font files come from a prepared cache,
so the test runs offline.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pixhaven.local.runtime.fonts import DEPLOY_NODE, DEPLOY_WRANGLER, FontCache
from pixhaven.render.fonts import CATALOGUE, all_faces, bucket_key

ROOT = Path(__file__).resolve().parents[1]

FAKE_NPX = """#!/bin/sh
# Records how it was called; with "fail" in $FAKE_NPX_MODE it fails as wrangler would.
log="$FAKE_NPX_LOG"
printf '%s\\n' "$*" >> "$log"
pwd >> "$log"
[ -t 0 ] && echo "stdin is a terminal" >> "$log"
previous=""
for arg in "$@"; do
    if [ "$previous" = "--filename" ]; then cp "$arg" "$log.manifest"; fi
    previous="$arg"
done
if [ "$FAKE_NPX_MODE" = "fail" ]; then
    echo "X [ERROR] Not logged in." >&2
    exit 1
fi
echo "Upload complete."
"""


def _prepared_cache(directory: Path, family: str) -> FontCache:
    """A font cache holding `family` already (what `npm pack` would have extracted)."""
    cache = FontCache(directory)
    folder = cache.folder(family)
    folder.mkdir(parents=True)
    for weight, italic in all_faces(family):
        cache.path(family, weight, italic).write_bytes(b"\x00\x01\x00\x00" + bytes(60))
    (folder / ".complete").write_text("prepared\n")
    return cache


def _run_cli(tmp_path: Path, mode: str = "ok") -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    npx = bin_dir / "npx"
    npx.write_text(FAKE_NPX)
    npx.chmod(0o755)
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "wrangler.toml").write_text(
        'name = "x"\n[[r2_buckets]]\nbinding = "BUCKET"\nbucket_name = "my-images"\n'
    )
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PIXHAVEN_FONT_CACHE": str(tmp_path / "cache"),
        "FAKE_NPX_LOG": str(tmp_path / "npx.log"),
        "FAKE_NPX_MODE": mode,
    }
    return subprocess.run(
        [sys.executable, "-m", "pixhaven.local.runtime.cli", "--config"]
        + [str(project / "wrangler.toml"), "--state-dir", str(tmp_path / "state")]
        + ["fonts", "install", "--remote", "--family", "Playfair Display"],
        cwd=tmp_path,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_remote_install_is_one_bulk_put_with_the_pinned_wrangler_and_no_prompt(tmp_path):
    _prepared_cache(tmp_path / "cache", "Playfair Display")
    completed = _run_cli(tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    calls = (tmp_path / "npx.log").read_text().splitlines()
    assert len(calls) == 2, calls  # one call (its arguments and its folder), no terminal
    arguments = calls[0].split(" ")
    # npx brings the pinned Node.js with wrangler, so an older Node.js on PATH does too.
    assert arguments[:6] == ["--yes", "--package", DEPLOY_NODE, "--package", DEPLOY_WRANGLER, "--"]
    assert arguments[6:12] == ["wrangler", "r2", "bulk", "put", "my-images", "--filename"]
    assert arguments[13:] == ["--content-type", "font/ttf", "--remote", "--force"]
    # Run where wrangler.toml is, so that folder's installed wrangler is the one npx finds.
    assert calls[1] == str(tmp_path / "project")
    manifest = json.loads((tmp_path / "npx.log.manifest").read_text())
    faces = all_faces("Playfair Display")
    assert [entry["key"] for entry in manifest] == [
        bucket_key("Playfair Display", weight, italic) for weight, italic in faces
    ]
    assert all(Path(entry["file"]).is_file() for entry in manifest)
    assert f"Uploaded {len(faces)} font files to R2 bucket my-images." in completed.stdout
    assert f"r2://my-images/fonts/{CATALOGUE['Playfair Display'].slug}/" in completed.stdout


def test_a_failed_upload_says_so_and_fails(tmp_path):
    _prepared_cache(tmp_path / "cache", "Playfair Display")
    completed = _run_cli(tmp_path, mode="fail")
    assert completed.returncode != 0
    assert "wrangler r2 bulk put my-images failed" in completed.stderr
    assert "Not logged in" in completed.stderr
    assert "Uploaded" not in completed.stdout


def test_the_fonts_go_up_with_the_wrangler_package_json_pins():
    """One wrangler, and its Node.js, for pywrangler (npx finds the root's copy),
    scripts/deploy.sh and the fonts upload (tests/test_wrangler_config.py checks that pin against pywrangler's needs)."""
    pins = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    assert DEPLOY_WRANGLER == f"wrangler@{pins['wrangler']}"
    assert DEPLOY_NODE == f"node@{pins['node']}"


def test_the_real_pinned_wrangler_runs_without_a_prompt_and_says_why_it_stops(tmp_path):
    """Through the real npx and the repository's installed pins (package.json), not logged
    in and with no terminal: wrangler stops at once with its own reason, never at a prompt
    (npx's "Need to install" or wrangler's login)."""
    if not (ROOT / "node_modules" / ".bin" / "wrangler").exists() or shutil.which("npx") is None:
        message = "the deployment's wrangler is not installed (npm ci)"
        if os.environ.get("PIXHAVEN_REQUIRE_MINIFLARE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    _prepared_cache(tmp_path / "cache", "Playfair Display")
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("CLOUDFLARE_")
    }
    environment.update(
        PIXHAVEN_FONT_CACHE=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # no wrangler login of this machine's user
        WRANGLER_SEND_METRICS="false",
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pixhaven.local.runtime.cli", "--config"]
        + [str(ROOT / "wrangler.toml"), "--state-dir", str(tmp_path / "state")]
        + ["fonts", "install", "--remote", "--family", "Playfair Display"],
        cwd=tmp_path,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode != 0
    assert "wrangler r2 bulk put pixhaven failed" in completed.stderr
    assert "CLOUDFLARE_API_TOKEN" in completed.stderr, completed.stderr
    assert "npm notice" not in completed.stderr
