"""A real `pixhaven dev` in a subprocess on a free loopback port, for tests whose subject
is what happens over a real socket (uvicorn's header handling) or whose client needs one
(Pictify's SDK, a synchronous httpx client).
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from .conftest import ADMIN_TOKEN, ROOT

STARTUP_DEADLINE = 60.0  # seconds for the subprocess to answer at all (not a measurement)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(folder: Path, dev_vars: dict[str, str], rate_limit: int) -> Path:
    """The repository's wrangler.toml with the migrations and the console's assets found
    from `folder` and the rate limit lowered; `dev_vars` as .dev.vars beside it (they
    override [vars])."""
    text = (ROOT / "wrangler.toml").read_text()
    text = text.replace(
        'migrations_dir = "migrations"', f'migrations_dir = "{ROOT / "migrations"}"'
    )
    assets = 'directory = "./console"'
    assert assets in text
    text = text.replace(assets, f'directory = "{ROOT / "console"}"')
    limiter = "simple = { limit = 100, period = 60 }"
    assert limiter in text
    text = text.replace(limiter, f"simple = {{ limit = {rate_limit}, period = 60 }}")
    (folder / "wrangler.toml").write_text(text)
    (folder / ".dev.vars").write_text("".join(f'{k}="{v}"\n' for k, v in dev_vars.items()))
    return folder / "wrangler.toml"


def run_dev_server(
    folder: Path, allowed_ips: str = "", rate_limit: int = 100, **dev_vars: str
) -> Iterator[str]:
    """`pixhaven dev` on a free loopback port, with ADMIN_TOKEN, ALLOWED_IPS and `dev_vars`
    in its .dev.vars; yields its base URL and stops it afterwards."""
    variables = {"ADMIN_TOKEN": ADMIN_TOKEN, "ALLOWED_IPS": allowed_ips, **dev_vars}
    config = write_config(folder, variables, rate_limit)
    port = free_port()
    command = [sys.executable, "-m", "pixhaven.local.runtime.cli"]
    command += ["--state-dir", str(folder / "state"), "--config", str(config)]
    command += ["dev", "--host", "127.0.0.1", "--port", str(port)]
    log = folder / "server.log"  # a file, not a pipe: a full pipe would stall the server
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=folder, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            assert server.poll() is None, log.read_text()
            try:
                httpx.get(f"{url}/health", timeout=5, trust_env=False)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "pixhaven dev did not start"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
