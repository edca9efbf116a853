"""A real crash: `kill -9` of a `pixhaven dev` server in the middle of concurrent uploads.

The server runs as a subprocess on a temporary state folder. Five images are uploaded
first; then forty uploads are sent at once, half of them new images and half re-uploads
of those five (new images sharing their objects); when ten have been answered the
server is killed, so the others
are cut off wherever they were (decoding, between object puts, before the D1 batch: in
practice some thirty writes are caught between their first object and their row). Then
the server is started again on the same folder, the cron runs once (grace period 0: nothing
is in flight any more), and:

- every upload that was acknowledged (2xx) is listed, with all of its objects readable by
  its own URLs (the five first ones too: no interrupted re-upload took their objects);
- every object under `images/` belongs to a row, and no journal entry is left.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pixhaven.local.runtime.config import load_config
from pixhaven.local.runtime.env import build_local_env
from pixhaven.services.images.keys import stored_keys
from pixhaven.worker import run_scheduled
from tests.imagegen import unique_jpeg

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "kill-test-admin-token"
UPLOADS = 40
SHARED = 5  # images uploaded before the kill, whose bytes every other upload repeats
KILL_AFTER = 10  # answers; the other uploads are still in flight
# Bounds that only turn a hang into a failure; nothing is asserted about how long anything takes.
STARTUP_LIMIT_SECONDS = 60


def _config_dir(tmp_path: Path) -> Path:
    """wrangler.toml as the checkout has it, but with no cron trigger (the test runs the
    cron itself), migrations found from anywhere, and the admin token in .dev.vars."""
    folder = tmp_path / "config"
    folder.mkdir()
    text = (ROOT / "wrangler.toml").read_text()
    text = text.replace(
        'migrations_dir = "migrations"', f'migrations_dir = "{ROOT / "migrations"}"'
    )
    text = text.replace('crons = ["*/15 * * * *"]', "crons = []")
    (folder / "wrangler.toml").write_text(text)
    (folder / ".dev.vars").write_text(f"ADMIN_TOKEN={TOKEN}\n")
    return folder


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DevServer:
    def __init__(self, config: Path, state: Path):
        self.config, self.state = config, state
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pixhaven.local.runtime.cli",
                "--state-dir",
                str(self.state),
                "--config",
                str(self.config / "wrangler.toml"),
                "dev",
                "--port",
                str(self.port),
            ],
            cwd=self.config,
            env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        async with httpx.AsyncClient(base_url=self.url) as client:
            while True:
                assert self.process.poll() is None, "pixhaven dev exited"
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "pixhaven dev did not start"
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_kill_9_mid_uploads_loses_no_acknowledged_upload_and_leaves_no_orphan(tmp_path):
    config = _config_dir(tmp_path)
    state = tmp_path / "state"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    first = [unique_jpeg(1000 + n, 400 + n, 300) for n in range(SHARED)]
    images = [first[n % SHARED] if n % 2 else unique_jpeg(n, 480 + n, 320) for n in range(UPLOADS)]

    server = DevServer(config, state)
    await server.start()
    acknowledged: dict[str, dict] = {}
    answers: list[int] = []
    finished: list[int] = []
    enough_answers = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            for n, data in enumerate(first):
                response = await client.post(
                    "/api/upload/single",
                    headers=headers,
                    files={"image": (f"first{n}.jpg", data, "image/jpeg")},
                )
                assert response.status_code == 200, response.text
                acknowledged[response.json()["result"]["id"]] = response.json()["result"]

            async def send(n: int) -> None:
                try:
                    response = await client.post(
                        "/api/upload/single",
                        headers=headers,
                        data={"tags": "kill"},
                        files={"image": (f"kill{n}.jpg", images[n], "image/jpeg")},
                    )
                except httpx.TransportError:
                    return  # cut off by the kill: not acknowledged
                finally:
                    finished.append(n)
                    if len(finished) == UPLOADS:
                        enough_answers.set()  # never wait for answers that cannot come
                answers.append(response.status_code)
                if len(answers) == KILL_AFTER:
                    enough_answers.set()
                if response.is_success:
                    acknowledged[response.json()["result"]["id"]] = response.json()["result"]

            async def killer() -> None:
                await enough_answers.wait()
                server.kill()

            await asyncio.gather(killer(), *(send(n) for n in range(UPLOADS)))
    finally:
        server.stop()
    assert len(acknowledged) >= SHARED + KILL_AFTER, answers

    restarted = DevServer(config, state)
    await restarted.start()
    try:
        env = await build_local_env(
            load_config(config / "wrangler.toml"), state, {"ORPHAN_GRACE_SECONDS": "0"}
        )
        try:
            await run_scheduled(env)
            rows = [
                dict(r) for r in (await env.DB.prepare("SELECT * FROM images").all())["results"]
            ]
            journal = (await env.DB.prepare("SELECT * FROM pending_writes").all())["results"]
            stored = {o.key for o in (await env.BUCKET.list(prefix="images/"))["objects"]}
        finally:
            await env.close()

        # No orphan: every object under images/ is one of a row's, and the journal is empty.
        owned = {key for row in rows for key in stored_keys(row).values()}
        assert stored == owned
        assert journal == []

        # No acknowledged upload lost: listed by the restarted server, every object served.
        async with httpx.AsyncClient(base_url=restarted.url) as client:
            listing = (await client.get("/api/images?limit=100", headers=headers)).json()
            listed = {image["id"] for image in listing["images"]}
            assert set(acknowledged) <= listed
            for answer in acknowledged.values():
                for url in answer["urls"].values():
                    if url:
                        served = await client.get(url.replace(server.url, restarted.url))
                        assert served.status_code == 200, url
    finally:
        restarted.stop()
