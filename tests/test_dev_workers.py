"""`pixhaven dev --workers 2` as a real process: two workers on one socket share the state
folder (SQLite in WAL mode, the bucket's atomic writes) while uploads and reads run
concurrently through it, both answer, and exactly one runs the cron triggers.

Which worker answered is read from the outside (each child's CPU time in /proc, the cron
lock's holder in /proc/locks), never from a header the server would send to everyone."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.dev_server import STARTUP_DEADLINE, free_port, write_config
from tests.imagegen import unique_jpeg

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir() or not hasattr(os, "fork"),
    reason="needs fork() and Linux's /proc to see the workers",
)


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def flock_holders(path: Path) -> list[int]:
    inode = path.stat().st_ino
    holders = []
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if "FLOCK" in parts and int(parts[5].rsplit(":", 1)[1]) == inode:
            holders.append(int(parts[4]))
    return holders


@pytest.fixture
def two_workers(tmp_path):
    config = write_config(tmp_path, {"ADMIN_TOKEN": ADMIN_TOKEN}, rate_limit=100_000)
    port = free_port()
    command = [sys.executable, "-m", "pixhaven.local.runtime.cli", "--state-dir"]
    command += [str(tmp_path / "state"), "--config", str(config), "dev"]
    command += ["--port", str(port), "--workers", "2"]
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=5, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "pixhaven dev --workers 2 did not start"
            time.sleep(0.1)
        while len(children_of(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield server, url, tmp_path / "state"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def test_two_workers_share_the_state_folder(two_workers):
    server, url, state = two_workers
    workers = children_of(server.pid)
    assert len(workers) == 2
    before = {pid: cpu_ticks(pid) for pid in workers}

    def upload_and_read(seed: int) -> None:
        data = unique_jpeg(seed, 320, 240)
        # A new connection for every request, so the kernel hands them to either worker.
        with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
            answer = client.post(
                "/api/upload/single",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                files={"image": (f"p{seed}.jpg", data, "application/octet-stream")},
            )
        assert answer.status_code == 200, answer.text
        original = answer.json()["result"]["urls"]["original"].split("/r2/", 1)[1]
        for _ in range(10):
            with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
                served = client.get(f"/r2/{original}")
                assert served.status_code == 200, served.text
                listed = client.get(
                    "/api/images?limit=5", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
                )
                assert listed.status_code == 200, listed.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(upload_and_read, range(16)))

    with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
        listed = client.get(
            "/api/images?limit=50", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    assert listed.status_code == 200
    assert len(listed.json()["images"]) == 16  # every write landed, none lost to a lock

    # Both processes did request work (an idle worker spends no CPU time).
    spent = {pid: cpu_ticks(pid) - before[pid] for pid in workers}
    assert all(ticks >= 5 for ticks in spent.values()), spent
    # One worker holds the cron lock and so runs the cron triggers; the other does not.
    holders = flock_holders(state / "cron.lock")
    assert len(holders) == 1 and holders[0] in workers, (holders, workers)
