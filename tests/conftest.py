"""Fixtures that give tests what a client has: the app over HTTP, with real local bindings.

`env` is a fresh local environment (SQLite file, bucket folder, Pillow images, in-process
queue) in a temporary folder, migrated like `pixhaven dev` does. `client` talks HTTP to the
app through httpx, from 127.0.0.1; `client_from(ip)` makes a client seen from another
address (for the IP allowlist).
"""

from pathlib import Path

import httpx
import pytest

from pixhaven.app import create_app
from pixhaven.local.runtime.config import load_config
from pixhaven.local.runtime.env import build_local_env
from pixhaven.local.runtime.server import with_env

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "test-admin-token"


@pytest.fixture(scope="session")
def app():
    return create_app()


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    """Override in a test module (or via indirect parametrisation) to change [vars]."""
    return {}


@pytest.fixture
async def env(tmp_path, settings_overrides):
    config = load_config(ROOT / "wrangler.toml", dev_vars=tmp_path / "no.dev.vars")
    local_env = await build_local_env(
        config, tmp_path / "state", {"ADMIN_TOKEN": ADMIN_TOKEN, **settings_overrides}
    )
    yield local_env
    await local_env.close()


async def every_error_is_an_envelope(response: httpx.Response) -> None:
    """Installed on every test client: any error answer anywhere in the suite must be the
    SPEC §3 envelope, except the allowlist's documented plain-text `Forbidden`."""
    if response.status_code < 400 or response.request.method == "HEAD":
        return
    await response.aread()
    if response.status_code == 403 and response.text == "Forbidden":
        assert response.headers["content-type"].startswith("text/plain")
        return
    assert response.headers.get("content-type", "").startswith("application/json"), (
        response.status_code,
        response.text[:200],
    )
    body = response.json()
    assert body.get("success") is False and isinstance(body.get("error"), str), body
    assert isinstance(body.get("code"), str) and body.get("message") == body["error"], body
    assert "details" in body, body


async def answers_pictifys_openapi(response: httpx.Response) -> None:
    """Installed on every test client: a Pictify answer must be one Pictify's official
    OpenAPI allows (tests/pictify_openapi.py)."""
    from tests import pictify_openapi

    if pictify_openapi.operation_of(response.request.method, response.request.url.path):
        await response.aread()
        pictify_openapi.check(response)


@pytest.fixture
def client_from(app, env):
    clients = []

    def make(ip: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=with_env(app, env), client=(ip, 50000))
        client = httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver",
            event_hooks={"response": [every_error_is_an_envelope, answers_pictifys_openapi]},
        )
        clients.append(client)
        return client

    yield make


@pytest.fixture
async def client(client_from):
    async with client_from() as http:
        yield http


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def make_key(client, admin):
    """Create a managed key through the API, as an admin would: returns (key, id)."""

    async def make(scopes: list[str], owner: str | None = None, name: str = "test key"):
        body = {"name": name, "scopes": scopes}
        if owner:
            body["owner"] = owner
        response = await client.post("/v1/keys", json=body, headers=admin)
        assert response.status_code == 201, response.text
        created = response.json()
        return created["key"], created["id"]

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def browser_available():
    """Skips the test where no Chromium is found (fails instead under
    PIXHAVEN_REQUIRE_BROWSER=1, as in CI): see tests/browser_support.py."""
    from tests.browser_support import require_browser

    require_browser()


async def served(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """GET an answer's absolute `url` (on PUBLIC_BASE_URL) through the app: a 200."""
    response = await client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200, response.text
    return response


def assert_error_envelope(response: httpx.Response, status: int, code: str | None = None):
    """SPEC §3: every error is the superset JSON envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    assert body["message"] == body["error"]
    assert isinstance(body["code"], str) and body["code"]
    assert "details" in body
    if code:
        assert body["code"] == code
    return body
