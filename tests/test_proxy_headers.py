"""The local server takes the client address from the socket only: headers a client sends
about itself (X-Forwarded-For, Forwarded, X-Real-IP, True-Client-IP, CF-Connecting-IP) change
neither the IP allowlist nor the variant-miss rate limiter's key. And it names no server
software in its answers.

These run a real `pixhaven dev` in a subprocess on a free loopback port and talk HTTP to it,
because the header handling in question is uvicorn's (`proxy_headers`, trusted from
127.0.0.1 by default), which an in-process ASGI client never exercises.
"""

from collections.abc import Iterator

import httpx
import pytest

from .conftest import ADMIN_TOKEN
from .dev_server import run_dev_server
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


def test_answers_name_no_server_software(localhost_and_test_net):
    with httpx.Client(base_url=localhost_and_test_net, trust_env=False) as http:
        for answer in (http.get("/health"), http.get("/no-such-path")):
            assert "server" not in answer.headers, answer.headers
            assert answer.headers["x-request-id"]  # Pixhaven's own headers are there
