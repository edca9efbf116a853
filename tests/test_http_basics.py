"""Behaviour every response shares: CORS, error envelope, headers, docs, health."""

import os
import re

import pytest

from pixhaven.middleware import RequestIds
from tests.conftest import assert_error_envelope

CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "access-control-allow-headers": "Content-Type, Authorization, Idempotency-Key",
    "access-control-max-age": "86400",
}


def assert_common_headers(response):
    for name, value in CORS.items():
        assert response.headers[name] == value, name
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.headers["x-request-id"]) >= 16


async def test_health(client):
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"] == {"database": "ok"}
    assert_common_headers(response)


async def test_preflight_is_answered_for_any_path(client):
    for path in ("/api/images", "/v1/keys", "/api/v1/image", "/nowhere"):
        response = await client.options(
            path,
            headers={
                "Origin": "https://example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert response.status_code == 204
        assert_common_headers(response)


async def test_cors_headers_on_errors_too(client):
    response = await client.get("/v1/keys")
    assert_error_envelope(response, 401)
    assert_common_headers(response)


async def test_unknown_route_is_404_envelope(client):
    response = await client.get("/definitely/not/here")
    assert_error_envelope(response, 404, "NOT_FOUND")
    assert_common_headers(response)


async def test_wrong_method_is_405_envelope(client, admin):
    response = await client.put("/health")
    assert_error_envelope(response, 405, "METHOD_NOT_ALLOWED")


async def test_request_id_is_unique_per_request(client):
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/health")).headers["x-request-id"]
    assert first != second
    assert re.fullmatch(r"[0-9a-f]{32}", first), first


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_request_ids_differ_between_processes_forked_from_one():
    # `pixhaven dev --workers N` forks its workers: each must draw its own prefix.
    ids = RequestIds()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its ids, to the parent
        os.write(writing, " ".join(ids.next() for _ in range(100)).encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    with os.fdopen(reading) as pipe:
        theirs = set(pipe.read().split())
    ours = {ids.next() for _ in range(100)}
    assert len(ours) == len(theirs) == 100
    assert not ours & theirs
    assert len({i[:16] for i in ours}) == 1 and not {i[:16] for i in ours} & {
        i[:16] for i in theirs
    }


async def test_config_is_cattopic_shaped(client, admin):
    response = await client.get("/api/config", headers=admin)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "config": {
            "maxUploadCount": 50,
            "maxFileSize": 15 * 1024 * 1024,
            "supportedFormats": ["jpeg", "jpg", "png", "gif", "webp", "avif"],
            "imageQuality": 80,
        },
    }


async def test_validate_api_key_rejects_missing_key_like_cattopic(client):
    response = await client.post("/api/validate-api-key")
    body = assert_error_envelope(response, 401)
    assert body["error"] == "Unauthorized"


async def test_openapi_and_docs(client):
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/health",
        "/api/config",
        "/api/validate-api-key",
        "/v1/keys",
        "/v1/keys/{key_id}",
    ):
        assert path in spec["paths"], path
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_unhandled_exception_becomes_json_500(app, env, client_from):
    from fastapi import APIRouter

    # A route that fails the way a bug would; added to a private app instance.
    from pixhaven.app import create_app

    broken = create_app()
    router = APIRouter()

    @router.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    broken.include_router(router)
    # Put it ahead of the CDN catch-all paths, which would otherwise claim /boom.
    broken.router.routes.insert(0, broken.router.routes.pop())
    import httpx

    from pixhaven.local.runtime.server import with_env

    transport = httpx.ASGITransport(app=with_env(broken, env), client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
    assert_error_envelope(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert_common_headers(response)
