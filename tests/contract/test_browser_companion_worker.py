"""The companion Worker itself (browser/src/index.js, bundled by wrangler with
@cloudflare/puppeteer and fabric.js) under workerd: `wrangler dev` with Miniflare's
emulation of the Browser Rendering binding.

Miniflare's binding lists sessions itself but launches a Chrome it downloads first, which a
machine without internet cannot do: the Worker must then answer 503 BROWSER_NOT_AVAILABLE
(its launch failure path). Where the download works it must answer the screenshot. Either
way the request checks before any browser (400, 422, 404) are the Worker's own.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.contract.companion_harness import BROWSER_DIR, skip_or_fail

WRANGLER = BROWSER_DIR / "node_modules" / ".bin" / "wrangler"
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def worker() -> Iterator[str]:
    if shutil.which("node") is None or not WRANGLER.exists():
        skip_or_fail("the companion's packages are not installed (npm ci --prefix browser)")
    scratch = Path(tempfile.mkdtemp(prefix="pixhaven-companion-"))
    port = free_port()
    environment = {
        **os.environ,
        "WRANGLER_SEND_METRICS": "false",
        "WRANGLER_SEND_ERROR_REPORTS": "false",
        "WRANGLER_HIDE_BANNER": "true",
        "CLOUDFLARE_CF_FETCH_ENABLED": "false",
        "WRANGLER_LOG_PATH": str(scratch / "logs"),
        "WRANGLER_REGISTRY_PATH": str(scratch / "registry"),
        "CI": "1",  # Miniflare then starts its Chrome with --no-sandbox
    }
    log = (scratch / "wrangler.log").open("wb")
    process = subprocess.Popen(
        [
            str(WRANGLER),
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--inspector-port",
            str(free_port()),
            "--persist-to",
            str(scratch / "state"),
            "--show-interactive-dev-session=false",
            "--log-level",
            "warn",
        ],
        cwd=BROWSER_DIR,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, (scratch / "wrangler.log").read_text()[-3000:]
            try:
                if httpx.get(base + "/", timeout=2, trust_env=False).status_code == 404:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (scratch / "wrangler.log").read_text()[-3000:]
            time.sleep(0.3)
        yield base
    finally:
        os.killpg(process.pid, 15)  # wrangler, workerd and any Chrome it started
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(BROWSER_DIR / ".wrangler", ignore_errors=True)  # wrangler dev's scratch


def post(base: str, path: str, body: object, method: str = "POST") -> httpx.Response:
    return httpx.request(
        method, base + path, content=json.dumps(body), timeout=120, trust_env=False
    )


def code(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()["error"]["code"]


def test_only_the_three_calls_are_answered(worker):
    assert code(post(worker, "/screenshot", {}, method="GET")) == (404, "NOT_FOUND")
    assert code(post(worker, "/evaluate", {"html": "x"})) == (404, "NOT_FOUND")


def test_requests_are_checked_before_a_browser_is_sought(worker):
    assert code(post(worker, "/screenshot", {"html": "x", "width": 0})) == (
        400,
        "INVALID_REQUEST",
    )
    assert code(post(worker, "/pdf", {"url": "http://169.254.169.254/latest/meta-data/"})) == (
        422,
        "NAVIGATION_FAILED",
    )


def test_a_screenshot_or_a_clear_503(worker):
    response = post(
        worker,
        "/screenshot",
        {"html": '<body style="background:rgb(51,102,204)">', "width": 120, "height": 60},
    )
    if response.status_code == 503:  # no internet: Miniflare could not fetch its Chrome
        assert code(response) == (503, "BROWSER_NOT_AVAILABLE")
        assert "could not start a browser" in response.json()["error"]["message"]
        return
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert picture.size == (120, 60) and picture.getpixel((100, 50)) == (51, 102, 204)
