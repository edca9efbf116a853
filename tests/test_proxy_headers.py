"""The local server takes the client address from the socket only: headers a client sends
about itself (X-Forwarded-For, Forwarded, X-Real-IP, True-Client-IP, CF-Connecting-IP) change
neither the IP allowlist nor the variant-miss rate limiter's key.

These run a real `pixhaven dev` in a subprocess on a free loopback port and talk HTTP to it,
because the header handling in question is uvicorn's (`proxy_headers`, trusted from
127.0.0.1 by default), which an in-process ASGI client never exercises.
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ADMIN_TOKEN, ROOT
from .imagegen import image_bytes

# One header a proxy would set, each, claiming the same client.
SPOOFS = {
    "X-Forwarded-For": "{ip}",
    "Forwarded": "for={ip}",
    "X-Real-IP": "{ip}",
    "True-Client-IP": "{ip}",
    "CF-Connecting-IP": "{ip}",
}
STARTUP_DEADLINE = 60.0  # seconds for the subprocess to answer at all (not a measurement)


def spoofed(ip: str) -> list[dict[str, str]]:
    return [{name: value.format(ip=ip)} for name, value in SPOOFS.items()] + [
        {name: value.format(ip=ip) for name, value in SPOOFS.items()}  # all at once
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(folder: Path, dev_vars: dict[str, str], rate_limit: int) -> Path:
    """The repository's wrangler.toml with the migrations found from `folder` and the rate
    limit lowered; `dev_vars` as .dev.vars beside it (they override [vars])."""
    text = (ROOT / "wrangler.toml").read_text()
    text = text.replace(
        'migrations_dir = "migrations"', f'migrations_dir = "{ROOT / "migrations"}"'
    )
    limiter = "simple = { limit = 100, period = 60 }"
    assert limiter in text
    text = text.replace(limiter, f"simple = {{ limit = {rate_limit}, period = 60 }}")
    (folder / "wrangler.toml").write_text(text)
    (folder / ".dev.vars").write_text("".join(f'{k}="{v}"\n' for k, v in dev_vars.items()))
    return folder / "wrangler.toml"


def run_dev_server(folder: Path, allowed_ips: str, rate_limit: int = 100) -> Iterator[str]:
    config = write_config(
        folder, {"ADMIN_TOKEN": ADMIN_TOKEN, "ALLOWED_IPS": allowed_ips}, rate_limit
    )
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


@pytest.fixture(scope="module")
def only_10_network(tmp_path_factory) -> Iterator[str]:
    yield from run_dev_server(tmp_path_factory.mktemp("only10"), "10.0.0.0/8")


@pytest.fixture(scope="module")
def localhost_and_test_net(tmp_path_factory) -> Iterator[str]:
    """Allows 127.0.0.1 and 203.0.113.0/24 (so a claimed 203.0.113.x would pass the
    allowlist and reach the limiter), one variant miss per client a minute."""
    folder = tmp_path_factory.mktemp("localhost")
    yield from run_dev_server(folder, "127.0.0.1, 203.0.113.0/24", rate_limit=1)


def test_a_forwarded_address_does_not_pass_the_allowlist(only_10_network):
    with httpx.Client(base_url=only_10_network, trust_env=False) as http:
        response = http.get("/health")
        assert (response.status_code, response.text) == (403, "Forbidden")
        for headers in spoofed("10.0.0.5"):
            response = http.get("/health", headers=headers)
            assert (response.status_code, response.text) == (403, "Forbidden"), headers


def test_a_forwarded_address_does_not_lock_a_local_client_out(localhost_and_test_net):
    with httpx.Client(base_url=localhost_and_test_net, trust_env=False) as http:
        assert http.get("/health").status_code == 200
        for headers in spoofed("198.51.100.9"):
            response = http.get("/health", headers=headers)
            assert response.status_code == 200, (headers, response.text)


def upload(http: httpx.Client, headers: dict[str, str], width: int) -> dict:
    response = http.post(
        "/api/upload/single",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", **headers},
        files={"image": ("wide.jpg", image_bytes(width, 300), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_a_forwarded_address_does_not_key_the_variant_miss_limiter(localhost_and_test_net):
    with httpx.Client(base_url=localhost_and_test_net, trust_env=False) as http:
        variants = f"/r2/variants/{upload(http, {}, 400)['id']}"
        # This client's one miss a minute (rate_limit=1)...
        first = http.get(f"{variants}/thumb.jpg", headers={"X-Forwarded-For": "203.0.113.1"})
        assert first.status_code == 200, first.text
        # ...is spent, whatever (allowed) address the next requests claim.
        for headers in spoofed("203.0.113.2"):
            refused = http.get(f"{variants}/og-image.jpg", headers=headers)
            assert refused.status_code == 429, (headers, refused.status_code)
            assert refused.json()["code"] == "RATE_LIMITED"


def test_a_forwarded_scheme_does_not_change_the_urls(localhost_and_test_net):
    with httpx.Client(base_url=localhost_and_test_net, trust_env=False) as http:
        result = upload(http, {"X-Forwarded-Proto": "https"}, 401)
        assert result["urls"]["original"].startswith(f"{localhost_and_test_net}/r2/")
