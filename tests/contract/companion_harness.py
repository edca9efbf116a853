"""The companion Worker's page logic, run here: `browser/test/harness.mjs` under Node with
the system Chromium, reached over HTTP as the Python Worker reaches the companion through
its service binding.

`CompanionBrowser` has the shape of `pixhaven.bindings.browser.Browser`: `await
browser.fetch(CONTRACT_ORIGIN + "/screenshot", method="POST", body=json_text)` answers an
object with `status`, `headers.get(...)`, `arrayBuffer()` and `text()`. The harness is
skipped where Node, `npm ci --prefix browser` or Chromium are missing, unless
PIXHAVEN_REQUIRE_MINIFLARE=1 (CI), where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import httpx
import pytest

from pixhaven.bindings.browser import CONTRACT_ORIGIN

ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = ROOT / "browser"
HARNESS = BROWSER_DIR / "test" / "harness.mjs"
CHROMIUM = os.environ.get("PIXHAVEN_CHROMIUM", "/usr/bin/chromium")
START_TIMEOUT = 60.0
CALL_TIMEOUT = 90.0


def skip_or_fail(message: str) -> None:
    if os.environ.get("PIXHAVEN_REQUIRE_MINIFLARE") == "1":
        pytest.fail(message)
    pytest.skip(message)


class Answer:
    """A contract answer, shaped like the JS `Response` a service binding returns."""

    def __init__(self, response: httpx.Response):
        self.status = response.status_code
        self.headers = response.headers
        self._body = response.content

    async def arrayBuffer(self) -> bytes:
        return self._body

    async def text(self) -> str:
        return self._body.decode()


class CompanionBrowser:
    """The harness's contract over HTTP, as `env.BROWSER` would carry it."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"

    async def fetch(self, url: str, /, *, method: str, body: str) -> Answer:
        assert url.startswith(CONTRACT_ORIGIN), url
        async with httpx.AsyncClient(timeout=CALL_TIMEOUT, trust_env=False) as client:
            response = await client.request(
                method, self.base + url[len(CONTRACT_ORIGIN) :], content=body
            )
        return Answer(response)


class Harness:
    def __init__(self, process: subprocess.Popen, port: int, errors):
        self.process = process
        self.errors = errors
        self.browser = CompanionBrowser(port)

    @classmethod
    def start_or_skip(cls, allow_loopback_ports: list[int | str]) -> Harness:
        node = shutil.which("node")
        if node is None:
            skip_or_fail("node is not installed")
        if not (BROWSER_DIR / "node_modules" / "puppeteer-core").exists():
            skip_or_fail("the companion's packages are not installed (npm ci --prefix browser)")
        if not Path(CHROMIUM).exists():
            skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        arguments = [str(node), str(HARNESS), "--chromium", CHROMIUM]
        for port in allow_loopback_ports:
            arguments += ["--allow-loopback-port", str(port)]
        # A file, not a pipe, so it never fills up; open as long as the harness runs.
        errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in stop())
        process = subprocess.Popen(
            arguments,
            cwd=BROWSER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        ready: dict[str, int] = {}

        def read_first_line() -> None:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line:
                ready.update(json.loads(line))

        reader = threading.Thread(target=read_first_line, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if "port" not in ready:
            process.kill()
            process.wait(timeout=10)
            errors.seek(0)
            output = errors.read()[-3000:]
            errors.close()
            pytest.fail(f"the companion harness did not start:\n{output}")
        return cls(process, ready["port"], errors)

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # the harness closes Chromium and exits
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.errors.close()


def node_script(script: str, stdin: str) -> str:
    """The output of a Node script of browser/test/ given `stdin`; skipped without Node."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed")
    completed = subprocess.run(
        [str(node), str(BROWSER_DIR / "test" / script)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=BROWSER_DIR,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout
