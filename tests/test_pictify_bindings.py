"""Pictify bindings over HTTP: CRUD, a template bound to a real local HTTP endpoint (let
through by the test-only OUTBOUND_TEST_ALLOW), refresh policies (ttl, manual, etag,
webhook push, schedule), onError, credentials, events, and bad input.

The data source is a real HTTP server on a thread; images are decoded with Pillow and a
pixel is checked. Time is never waited for: a binding is made "older than its ttl" by
moving its last refresh back in D1, as time passing would."""

import io
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from PIL import Image

from pixhaven.net import fetch as remote_fetch
from pixhaven.services.bindings.mapping import MISSING, PathError, resolve, steps
from pixhaven.settings import Settings
from pixhaven.timeutil import iso, utcnow
from pixhaven.worker import run_scheduled
from tests.conftest import assert_error_envelope, bearer, served

RED, BLUE, GREEN, GREY = (255, 0, 0), (0, 0, 255), (0, 128, 0), (128, 128, 128)
SECRET = "s3cret-token-value-never-shown"
PUBLIC = "93.184.215.14"
HOOK = "https://hooks.example.com/bindings"

TEMPLATE = {
    "name": "Swatch",
    "document": {"width": 20, "height": 10, "background": "{{color}}", "components": []},
    "variables": [{"name": "color", "type": "color", "default": "#808080"}],
}


class DataServer:
    """A JSON endpoint on 127.0.0.1 whose answer the test changes; it records the requests
    it gets and answers If-None-Match with 304 while its data is unchanged."""

    def __init__(self):
        self.payload: object = {"theme": {"color": "#ff0000"}}
        self.status = 200
        self.version = 1
        self.redirect_to: str | None = None
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(
                    {"method": "GET", "path": self.path, "headers": dict(self.headers)}
                )
                etag = f'"v{owner.version}"'
                if owner.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", owner.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if owner.status != 200:
                    self.send_response(owner.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                body = json.dumps(owner.payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/data.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, payload):
        self.payload = payload
        self.version += 1

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def data_server():
    server = DataServer()
    yield server
    server.close()


@pytest.fixture
def other_server():
    server = DataServer()
    yield server
    server.close()


@pytest.fixture
def settings_overrides(data_server, other_server):
    return {"OUTBOUND_TEST_ALLOW": f"127.0.0.1:{data_server.port},127.0.0.1:{other_server.port}"}


async def make_template(client, admin, template=TEMPLATE) -> str:
    response = await client.post("/templates", json=template, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["template"]["uid"]


async def make_binding(client, admin, **body) -> dict:
    response = await client.post("/bindings", json=body, headers=admin)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["binding"]["uid"] == answer["uid"]
    return answer


def http_binding(template: str, url: str, **extra) -> dict:
    return {
        "name": "Colour",
        "templateId": template,
        "dataSource": {"type": "http", "url": url},
        "mapping": {"color": "theme.color"},
        **extra,
    }


async def pixel(client, binding: dict) -> tuple:
    response = await served(client, binding["imageUrl"])
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB").getpixel((5, 5))


async def age(env, uid: str, seconds: int = 3600) -> None:
    """As if the binding's last refresh were `seconds` ago (its ttl has run out)."""
    past = iso(utcnow() - timedelta(seconds=seconds))
    await (
        env.DB.prepare(
            "UPDATE bindings SET last_refresh = ?, rendered_at = ?, next_run_at = ? WHERE uid = ?"
        )
        .bind(past, past, past, uid)
        .run()
    )


async def binding_rows(env) -> int:
    row = await env.DB.prepare("SELECT COUNT(*) AS n FROM bindings").first()
    return row["n"]


async def render_images(env, template: str) -> list[str]:
    result = await env.DB.prepare("SELECT id FROM images WHERE template = ?").bind(template).all()
    return [row["id"] for row in result["results"]]


# -- CRUD -------------------------------------------------------------------------------------


async def test_crud_pagination_and_filters(client, admin, data_server):
    first, second = await make_template(client, admin), await make_template(client, admin)
    a = await make_binding(client, admin, **http_binding(first, data_server.url, name="A"))
    b = await make_binding(client, admin, **http_binding(first, data_server.url, name="B"))
    c = await make_binding(
        client,
        admin,
        # The docs' spelling: templateUid, dataUrl, dataMapping, schedule, format.
        name="C",
        templateUid=second,
        dataUrl=data_server.url,
        dataMapping={"color": "$.theme.color"},
        schedule="*/5 * * * *",
        format="png",
        status="paused",
    )
    assert c["templateUid"] == c["templateId"] == second
    assert c["dataSource"] == {
        "type": "http",
        "url": data_server.url,
        "method": "GET",
        "headers": {},
    }
    assert c["dataUrl"] == data_server.url
    assert c["mapping"] == c["dataMapping"] == {"color": "$.theme.color"}
    assert c["schedule"] == "*/5 * * * *" and c["refreshPolicy"]["type"] == "schedule"
    assert c["status"] == "paused"
    assert c["imageUrl"] == f"http://testserver/bindings/{c['uid']}/image" == c["renderUrl"]
    assert c["webhookUrl"] == f"http://testserver/bindings/{c['uid']}/webhook"
    assert c["uid"].startswith("bind_") and len(c["uid"]) == 29
    assert a["refreshPolicy"] == {"type": "ttl", "ttlSeconds": 3600, "onError": "serve_stale"}
    assert a["outputConfig"] == {"format": "png", "quality": None}

    page1 = (await client.get("/bindings?limit=2", headers=admin)).json()
    page2 = (await client.get("/bindings?limit=2&page=2", headers=admin)).json()
    assert [x["uid"] for x in page1["bindings"] + page2["bindings"]] == [
        c["uid"],
        b["uid"],
        a["uid"],
    ]
    assert page1["pagination"] == {
        "page": 1,
        "limit": 2,
        "total": 3,
        "totalPages": 2,
        "hasNext": True,
        "hasPrev": False,
    }
    assert page2["pagination"]["hasPrev"] and not page2["pagination"]["hasNext"]
    by_template = (await client.get(f"/bindings?templateId={first}", headers=admin)).json()
    assert {x["name"] for x in by_template["bindings"]} == {"A", "B"}
    paused = (await client.get("/bindings?status=paused", headers=admin)).json()
    assert [x["name"] for x in paused["bindings"]] == ["C"]
    assert_error_envelope(await client.get("/bindings?status=asleep", headers=admin), 400)

    got = await client.get(f"/bindings/{a['uid']}", headers=admin)
    assert got.status_code == 200 and got.json()["binding"]["name"] == "A"
    assert "webhookSecret" not in got.json()["binding"]
    updated = await client.put(
        f"/bindings/{a['uid']}",
        json={"name": "A2", "refreshPolicy": {"ttlSeconds": 120}},
        headers=admin,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["binding"]["name"] == "A2"
    assert updated.json()["binding"]["refreshPolicy"]["ttlSeconds"] == 120
    assert updated.json()["binding"]["refreshPolicy"]["type"] == "ttl"

    deleted = await client.delete(f"/bindings/{a['uid']}", headers=admin)
    assert deleted.json() == {"success": True, "uid": a["uid"], "deleted": True}
    assert_error_envelope(await client.get(f"/bindings/{a['uid']}", headers=admin), 404)
    assert_error_envelope(await client.get(f"/bindings/{a['uid']}/image"), 404)
    assert_error_envelope(await client.delete(f"/bindings/{a['uid']}", headers=admin), 404)


async def test_owner_scoped_and_scopes(client, admin, make_key, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(client, admin, **http_binding(template, data_server.url))
    reader, _ = await make_key(["templates:read"], owner="someone-else")
    assert_error_envelope(
        await client.get(f"/bindings/{binding['uid']}", headers=bearer(reader)), 404
    )
    listed = await client.get("/bindings", headers=bearer(reader))
    assert listed.json()["pagination"]["total"] == 0
    # Another owner's template cannot be bound.
    writer, _ = await make_key(["templates:write"], owner="someone-else")
    refused = await client.post(
        "/bindings", json=http_binding(template, data_server.url), headers=bearer(writer)
    )
    assert_error_envelope(refused, 404)
    assert refused.json()["errors"][0]["field"] == "templateId"
    # Reading needs templates:read, writing templates:write, refreshing render.
    own_reader, _ = await make_key(["templates:read"])
    assert_error_envelope(
        await client.post(
            "/bindings", json=http_binding(template, data_server.url), headers=bearer(own_reader)
        ),
        403,
    )
    assert_error_envelope(
        await client.post(f"/bindings/{binding['uid']}/refresh", headers=bearer(own_reader)), 403
    )
    assert_error_envelope(await client.get("/bindings"), 401)


async def test_answers_carry_rate_limit_headers_and_problem_fields(client, admin, data_server):
    response = await client.get("/bindings", headers=admin)
    assert response.headers["x-ratelimit-limit"] == "60"
    assert "x-ratelimit-remaining" in response.headers
    refused = await client.post("/bindings", json={"name": "x"}, headers=admin)
    body = assert_error_envelope(refused, 400)
    assert refused.headers["x-ratelimit-limit"] == "60"
    assert body["status"] == 400 and body["instance"] == "/bindings"
    assert body["type"].startswith("https://docs.pictify.io/errors/")
    assert body["errors"][0]["field"] == "dataSource"


async def test_refresh_and_push_honour_idempotency_keys(client, admin, env):
    template = await make_template(client, admin)
    binding = await make_binding(client, admin, templateId=template, dataSource={"type": "webhook"})
    uid = binding["uid"]
    headers = {**admin, "Idempotency-Key": "refresh-once"}
    first = await client.post(f"/bindings/{uid}/refresh", headers=headers)
    again = await client.post(f"/bindings/{uid}/refresh", headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    push = {"Authorization": f"Bearer {binding['webhookSecret']}", "Idempotency-Key": "p1"}
    first = await client.post(f"/bindings/{uid}/webhook", json={"a": 1}, headers=push)
    again = await client.post(f"/bindings/{uid}/webhook", json={"a": 1}, headers=push)
    assert first.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post(f"/bindings/{uid}/webhook", json={"a": 2}, headers=push)
    assert_error_envelope(other, 422)
    jobs = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'binding.refresh'"
    ).first()
    assert jobs["n"] == 2  # one refresh, one push: the replays queued nothing


async def test_idempotency_key_creates_one_binding(client, admin, env, data_server):
    template = await make_template(client, admin)
    headers = {**admin, "Idempotency-Key": "bind-once"}
    body = http_binding(template, data_server.url)
    first = await client.post("/bindings", json=body, headers=headers)
    again = await client.post("/bindings", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["uid"] == again.json()["uid"]
    assert await binding_rows(env) == 1


# -- rendering from a real endpoint --------------------------------------------------------------


async def test_renders_the_endpoints_current_data_and_manual_refresh(
    client, admin, env, data_server
):
    template = await make_template(client, admin)
    binding = await make_binding(
        client,
        admin,
        **http_binding(template, data_server.url, refreshPolicy={"type": "manual"}),
    )
    # The first image request renders synchronously from the endpoint's data.
    assert await pixel(client, binding) == RED
    assert len(data_server.requests) == 1
    got = (await client.get(f"/bindings/{binding['uid']}", headers=admin)).json()["binding"]
    assert got["status"] == "active" and got["lastRefresh"] and got["lastError"] is None
    assert got["lastData"] == {"theme": {"color": "#ff0000"}}

    data_server.set({"theme": {"color": "#0000ff"}})
    # Manual: nothing re-renders until asked.
    assert await pixel(client, binding) == RED
    await env.JOBS.drain()
    assert await pixel(client, binding) == RED
    assert len(data_server.requests) == 1

    refreshed = await client.post(f"/bindings/{binding['uid']}/refresh", headers=admin)
    assert refreshed.status_code == 202, refreshed.text
    assert refreshed.json()["status"] == "refreshing"
    assert refreshed.json()["imageUrl"] == binding["imageUrl"]
    await env.JOBS.drain()
    assert await pixel(client, binding) == BLUE
    # One image per binding: the previous render was purged.
    assert len(await render_images(env, template)) == 1


async def test_image_url_http_semantics(client, admin, env, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(client, admin, **http_binding(template, data_server.url))
    first = await served(client, binding["imageUrl"])
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    again = await client.get(f"/bindings/{binding['uid']}/image", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert_error_envelope(await client.get("/bindings/bind_nosuchbinding000000000000/image"), 404)


async def test_ttl_rerenders_on_request_and_on_the_cron(client, admin, env, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(
        client,
        admin,
        **http_binding(template, data_server.url, refreshPolicy={"type": "ttl", "ttlSeconds": 60}),
    )
    uid = binding["uid"]
    assert await pixel(client, binding) == RED
    data_server.set({"theme": {"color": "#0000ff"}})
    assert await pixel(client, binding) == RED  # younger than its ttl: served as it is
    await env.JOBS.drain()
    assert len(data_server.requests) == 1

    await age(env, uid)
    # Older than its ttl: this request is answered with the current image, a refresh is
    # queued, and the next request sees the new data.
    assert await pixel(client, binding) == RED
    await env.JOBS.drain()
    assert await pixel(client, binding) == BLUE
    assert len(data_server.requests) == 2

    # The cron sweep refreshes a binding past its ttl without any image request.
    data_server.set({"theme": {"color": "#008000"}})
    await age(env, uid)
    summary = await run_scheduled(env)
    assert summary["binding_refreshes_queued"] == 1
    await env.JOBS.drain()
    assert len(data_server.requests) == 3
    assert await pixel(client, binding) == GREEN
    assert (await run_scheduled(env))["binding_refreshes_queued"] == 0  # not due again yet
    assert len(await render_images(env, template)) == 1


async def test_etag_rerenders_only_when_the_data_changed(client, admin, env, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(
        client, admin, **http_binding(template, data_server.url, refreshPolicy={"type": "etag"})
    )
    uid = binding["uid"]
    assert await pixel(client, binding) == RED
    first_image = await render_images(env, template)

    await age(env, uid)
    await run_scheduled(env)
    await env.JOBS.drain()
    assert data_server.requests[-1]["headers"]["If-None-Match"] == '"v1"'
    assert await render_images(env, template) == first_image  # 304: not rendered again
    got = (await client.get(f"/bindings/{uid}", headers=admin)).json()["binding"]
    assert got["status"] == "active" and got["lastRefresh"] > got["lastRenderedAt"]

    data_server.set({"theme": {"color": "#0000ff"}})
    await age(env, uid)
    await run_scheduled(env)
    await env.JOBS.drain()
    assert data_server.requests[-1]["headers"]["If-None-Match"] == '"v1"'
    assert await pixel(client, binding) == BLUE
    assert len(await render_images(env, template)) == 1


async def test_schedule_is_honoured_by_the_cron(client, admin, env, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(
        client, admin, **http_binding(template, data_server.url, schedule="* * * * *")
    )
    assert binding["refreshPolicy"]["type"] == "schedule"
    assert await pixel(client, binding) == RED
    data_server.set({"theme": {"color": "#0000ff"}})
    assert (await run_scheduled(env))["binding_refreshes_queued"] == 0  # its minute is ahead
    await age(env, binding["uid"], 61)
    assert (await run_scheduled(env))["binding_refreshes_queued"] == 1
    await env.JOBS.drain()
    assert await pixel(client, binding) == BLUE


async def test_webhook_push_with_and_without_the_secret(client, admin, env, data_server):
    template = await make_template(client, admin)
    created = await make_binding(
        client,
        admin,
        templateId=template,
        dataSource={"type": "webhook"},
        mapping={"color": "payload.colour"},
    )
    secret, uid = created["webhookSecret"], created["uid"]
    assert created["refreshPolicy"]["type"] == "webhook"
    assert await pixel(client, created) == GREY  # nothing pushed yet: the template's default

    push = f"/bindings/{uid}/webhook"
    data = {"payload": {"colour": "#0000ff"}}
    assert_error_envelope(await client.post(push, json=data), 401)
    assert_error_envelope(
        await client.post(push, json=data, headers={"Authorization": "Bearer bwh_wrong"}), 401
    )
    assert_error_envelope(
        await client.post(
            "/bindings/bind_nosuchbinding000000000000/webhook",
            json=data,
            headers={"Authorization": f"Bearer {secret}"},
        ),
        401,
    )
    await env.JOBS.drain()
    assert await pixel(client, created) == GREY

    accepted = await client.post(push, json=data, headers={"Authorization": f"Bearer {secret}"})
    assert accepted.status_code == 202, accepted.text
    await env.JOBS.drain()
    assert await pixel(client, created) == BLUE
    again = await client.post(
        push, json={"payload": {"colour": "#ff0000"}}, headers={"X-Binding-Secret": secret}
    )
    assert again.status_code == 202
    await env.JOBS.drain()
    assert await pixel(client, created) == RED
    # The secret is answered once, by the create.
    for response in (
        await client.get(f"/bindings/{uid}", headers=admin),
        await client.get("/bindings", headers=admin),
    ):
        assert secret not in response.text


async def test_static_source_and_defaults(client, admin, env):
    template = await make_template(client, admin)
    binding = await make_binding(
        client,
        admin,
        templateId=template,
        dataSource={"type": "static", "data": {"items": [{"c": "#0000ff"}]}},
        mapping={"color": "items[0].c"},
    )
    assert binding["refreshPolicy"]["type"] == "manual"
    assert await pixel(client, binding) == BLUE
    missing = await make_binding(
        client,
        admin,
        templateId=template,
        dataSource={"type": "static", "data": {}},
        mapping={"color": "items[3].c"},
        defaults={"color": "#ff0000"},
    )
    assert await pixel(client, missing) == RED


# -- onError ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_error", "status", "colour"),
    [("serve_stale", 200, RED), ("serve_error", 502, None), ("serve_default", 200, GREEN)],
)
async def test_on_error(client, admin, env, data_server, on_error, status, colour):
    template = await make_template(client, admin)
    binding = await make_binding(
        client,
        admin,
        **http_binding(
            template,
            data_server.url,
            refreshPolicy={"type": "manual", "onError": on_error},
            defaults={"color": "#008000"},
        ),
    )
    assert await pixel(client, binding) == RED
    data_server.status = 500
    await client.post(f"/bindings/{binding['uid']}/refresh", headers=admin)
    await env.JOBS.drain()
    got = (await client.get(f"/bindings/{binding['uid']}", headers=admin)).json()["binding"]
    assert got["status"] == "error"
    assert "HTTP 500" in got["lastError"]
    response = await client.get(f"/bindings/{binding['uid']}/image")
    assert response.status_code == status, response.text
    if colour is None:
        assert assert_error_envelope(response, 502)["code"] == "BINDING_REFRESH_FAILED"
    else:
        assert Image.open(io.BytesIO(response.content)).convert("RGB").getpixel((5, 5)) == colour

    # The endpoint recovers: the next refresh is active again and serves its data.
    data_server.status = 200
    data_server.set({"theme": {"color": "#0000ff"}})
    await client.post(f"/bindings/{binding['uid']}/refresh", headers=admin)
    await env.JOBS.drain()
    assert await pixel(client, binding) == BLUE
    got = (await client.get(f"/bindings/{binding['uid']}", headers=admin)).json()["binding"]
    assert got["status"] == "active" and got["lastError"] is None
    assert len(await render_images(env, template)) == 1


async def test_first_render_failure_without_an_image(client, admin, data_server):
    template = await make_template(client, admin)
    data_server.status = 503
    binding = await make_binding(client, admin, **http_binding(template, data_server.url))
    response = await client.get(f"/bindings/{binding['uid']}/image")
    assert assert_error_envelope(response, 502)["code"] == "BINDING_REFRESH_FAILED"


# -- outbound rules and credentials ------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{}])
async def test_loopback_is_refused_without_the_test_setting(client, admin, env, data_server):
    template = await make_template(client, admin)
    refused = await client.post(
        "/bindings", json=http_binding(template, data_server.url), headers=admin
    )
    body = assert_error_envelope(refused, 400)
    assert body["errors"][0]["field"] == "dataSource.url"
    assert "loopback" in body["error"]
    assert await binding_rows(env) == 0
    assert data_server.requests == []


def test_the_test_allowlist_takes_loopback_addresses_only():
    class Vars:
        def __init__(self, value):
            self.OUTBOUND_TEST_ALLOW = value

        def __getattr__(self, name):
            return None

    assert Settings.from_env(Vars("127.0.0.1:8080, [::1]:9")).outbound_test_allow == (
        ("127.0.0.1", 8080),
        ("::1", 9),
    )
    for bad in ("10.0.0.1:80", "example.com:80", "127.0.0.1", "localhost:80", "127.0.0.1:0"):
        with pytest.raises(ValueError, match="OUTBOUND_TEST_ALLOW"):
            Settings.from_env(Vars(bad))


async def test_credentials_stay_with_their_origin_on_a_redirect(
    client, admin, data_server, other_server
):
    template = await make_template(client, admin)
    other_server.set({"theme": {"color": "#0000ff"}})
    data_server.redirect_to = other_server.url
    body = http_binding(template, data_server.url)
    body["dataSource"]["credentials"] = {"type": "bearer_token", "value": SECRET}
    binding = await make_binding(client, admin, **body)
    assert await pixel(client, binding) == BLUE
    assert data_server.requests[-1]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert "Authorization" not in other_server.requests[-1]["headers"]


async def test_the_allowlist_names_exact_ports(client, admin, data_server):
    template = await make_template(client, admin)
    unused = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = unused.server_address[1]
    unused.server_close()
    other_port = f"http://127.0.0.1:{port}/data.json"
    refused = await client.post("/bindings", json=http_binding(template, other_port), headers=admin)
    assert assert_error_envelope(refused, 400)["errors"][0]["field"] == "dataSource.url"


@pytest.mark.parametrize(
    ("credentials", "header", "sent"),
    [
        ({"type": "bearer_token", "value": SECRET}, "Authorization", f"Bearer {SECRET}"),
        ({"type": "api_key", "value": SECRET}, "X-API-Key", SECRET),
        (
            {"type": "custom_header", "value": SECRET, "headerName": "X-Token"},
            "X-Token",
            SECRET,
        ),
        (
            {"type": "basic_auth", "value": f"user:{SECRET}"},
            "Authorization",
            "Basic dXNlcjpzM2NyZXQtdG9rZW4tdmFsdWUtbmV2ZXItc2hvd24=",
        ),
    ],
)
async def test_credentials_are_sent_and_never_echoed(
    client, admin, env, data_server, credentials, header, sent
):
    template = await make_template(client, admin)
    body = http_binding(template, data_server.url)
    body["dataSource"]["credentials"] = credentials
    body["dataSource"]["headers"] = {"X-Extra": f"extra-{SECRET}"}
    answers = [await client.post("/bindings", json=body, headers=admin)]
    uid = answers[0].json()["uid"]
    assert answers[0].json()["dataSource"]["credentials"]["configured"] is True
    assert answers[0].json()["headers"] == {"X-Extra": "[redacted]"}
    assert await pixel(client, answers[0].json()) == RED
    assert data_server.requests[-1]["headers"][header] == sent
    assert data_server.requests[-1]["headers"]["X-Extra"] == f"extra-{SECRET}"
    answers.append(await client.get(f"/bindings/{uid}", headers=admin))
    answers.append(await client.get("/bindings", headers=admin))
    # An update that leaves the source alone keeps the credentials; they still work.
    answers.append(await client.put(f"/bindings/{uid}", json={"name": "renamed"}, headers=admin))
    answers.append(await client.post(f"/bindings/{uid}/refresh", headers=admin))
    await env.JOBS.drain()
    assert data_server.requests[-1]["headers"][header] == sent
    data_server.status = 500  # a failure's message names no credential either
    answers.append(await client.post(f"/bindings/{uid}/refresh", headers=admin))
    await env.JOBS.drain()
    answers.append(await client.get(f"/bindings/{uid}", headers=admin))
    assert answers[-1].json()["status"] == "error"
    for response in answers:
        assert response.status_code < 300, response.text
        assert SECRET not in response.text
    deliveries = await env.DB.prepare("SELECT payload FROM webhook_deliveries").all()
    assert all(SECRET not in row["payload"] for row in deliveries["results"])
    # `credentials: null` removes them.
    cleared = await client.put(
        f"/bindings/{uid}", json={"dataSource": {"credentials": None}}, headers=admin
    )
    assert "credentials" not in cleared.json()["dataSource"]


# -- events -----------------------------------------------------------------------------------


class Hooks:
    """The receiving end of webhook deliveries (the network is faked, our code is not)."""

    def __init__(self):
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(204)

    async def resolve(self, host, port):
        return [PUBLIC]


async def test_binding_updated_and_failed_are_delivered(client, admin, env, monkeypatch):
    hooks = Hooks()
    monkeypatch.setattr(
        remote_fetch, "default_transport", lambda: httpx.MockTransport(hooks.handle)
    )
    monkeypatch.setattr(remote_fetch, "default_resolver", hooks.resolve)
    template = await make_template(client, admin)
    binding = await make_binding(
        client,
        admin,
        templateId=template,
        dataSource={"type": "webhook"},
        mapping={"color": "colour"},
    )
    other = await make_binding(
        client, admin, templateId=template, dataSource={"type": "static", "data": {}}
    )
    for event in ("binding.updated", "binding.failed"):
        response = await client.post(
            "/webhook-subscriptions",
            json={"event": event, "targetUrl": HOOK, "filters": {"bindingId": binding["uid"]}},
            headers=admin,
        )
        assert response.status_code == 201, response.text
    push = {"Authorization": f"Bearer {binding['webhookSecret']}"}
    assert (
        await client.post(
            f"/bindings/{binding['uid']}/webhook", json={"colour": "#0000ff"}, headers=push
        )
    ).status_code == 202
    await client.post(f"/bindings/{other['uid']}/refresh", headers=admin)  # filtered out
    await env.JOBS.drain()
    [updated] = [json.loads(r.content) for r in hooks.requests]
    assert updated["event"] == "binding.updated"
    assert updated["data"]["bindingId"] == binding["uid"]
    assert updated["data"]["imageUrl"] == binding["imageUrl"]
    assert updated["data"]["status"] == "active" and updated["data"]["url"]

    # Data the template refuses (not a colour) fails the refresh: binding.failed.
    await client.post(
        f"/bindings/{binding['uid']}/webhook", json={"colour": "not a colour"}, headers=push
    )
    await env.JOBS.drain()
    failed = json.loads(hooks.requests[-1].content)
    assert failed["event"] == "binding.failed"
    assert failed["data"]["bindingId"] == binding["uid"]
    assert failed["data"]["errorCode"] == "INVALID_REQUEST"
    assert "color" in failed["data"]["error"]
    assert failed["data"]["onError"] == "serve_stale"
    assert await pixel(client, binding) == BLUE  # serve_stale: the last image


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"templateId": None}, "templateId"),
        ({"dataSource": None}, "dataSource"),
        ({"dataSource": {"type": "ftp"}}, "dataSource.type"),
        ({"dataSource": {"type": "http"}}, "dataSource.url"),
        ({"dataSource": {"type": "http", "url": "file:///etc/passwd"}}, "dataSource.url"),
        ({"dataSource": {"type": "http", "url": "http://10.0.0.1/x"}}, "dataSource.url"),
        ({"dataSource": {"type": "static"}}, "dataSource.data"),
        (
            {"dataSource": {"type": "webhook"}, "refreshPolicy": {"type": "etag"}},
            "refreshPolicy.type",
        ),
        ({"mapping": {"color": "a..b"}}, "mapping.color"),
        ({"mapping": {"not a name": "a"}}, "mapping.not a name"),
        ({"mapping": ["color"]}, "mapping"),
        ({"refreshPolicy": {"type": "hourly"}}, "refreshPolicy.type"),
        ({"refreshPolicy": {"type": "ttl", "ttlSeconds": 5}}, "refreshPolicy.ttlSeconds"),
        ({"refreshPolicy": {"onError": "panic"}}, "refreshPolicy.onError"),
        ({"schedule": "every minute"}, "schedule"),
        ({"schedule": "0 0 31 2 *"}, "schedule"),
        ({"schedule": "*/30 * * * * *"}, "schedule"),
        ({"outputConfig": {"format": "pdf"}}, "outputConfig.format"),
        ({"format": "gif"}, "format"),
        ({"outputConfig": {"quality": 101}}, "outputConfig.quality"),
        ({"status": "error"}, "status"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(client, admin, env, data_server, change, field):
    template = await make_template(client, admin)
    body = {**http_binding(template, data_server.url), **change}
    response = await client.post("/bindings", json=body, headers=admin)
    answer = assert_error_envelope(response, 400)
    assert answer["errors"][0]["field"] == field, answer
    assert await binding_rows(env) == 0


async def test_bad_update_changes_nothing(client, admin, env, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(client, admin, **http_binding(template, data_server.url))
    response = await client.put(
        f"/bindings/{binding['uid']}",
        json={"name": "new", "refreshPolicy": {"ttlSeconds": 1}},
        headers=admin,
    )
    assert assert_error_envelope(response, 400)["errors"][0]["field"] == "refreshPolicy.ttlSeconds"
    got = (await client.get(f"/bindings/{binding['uid']}", headers=admin)).json()["binding"]
    assert got["name"] == "Colour"


async def test_a_bound_template_cannot_be_deleted(client, admin, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(client, admin, **http_binding(template, data_server.url))
    refused = await client.delete(f"/templates/{template}", headers=admin)
    assert assert_error_envelope(refused, 409)["code"] == "TEMPLATE_IN_USE"
    await client.delete(f"/bindings/{binding['uid']}", headers=admin)
    assert (await client.delete(f"/templates/{template}", headers=admin)).status_code == 200


async def test_paused_bindings_do_not_render(client, admin, env, data_server):
    template = await make_template(client, admin)
    binding = await make_binding(
        client, admin, **http_binding(template, data_server.url), status="paused"
    )
    assert assert_error_envelope(await client.get(f"/bindings/{binding['uid']}/image"), 409)
    refused = await client.post(f"/bindings/{binding['uid']}/refresh", headers=admin)
    assert assert_error_envelope(refused, 409)["code"] == "BINDING_PAUSED"
    resumed = await client.put(
        f"/bindings/{binding['uid']}", json={"status": "active"}, headers=admin
    )
    assert resumed.json()["status"] == "active"
    assert await pixel(client, binding) == RED
    assert data_server.requests


# -- HTML templates --------------------------------------------------------------------------


async def test_html_template_binding(client, admin, env, data_server, browser_available):
    response = await client.post(
        "/templates",
        json={
            "name": "HTML swatch",
            "html": '<body style="margin:0;background:{{ color }}"></body>',
            "width": 40,
            "height": 20,
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    template = response.json()["template"]["uid"]
    binding = await make_binding(
        client,
        admin,
        **http_binding(template, data_server.url, refreshPolicy={"type": "manual"}),
    )
    assert await pixel(client, binding) == RED
    data_server.set({"theme": {"color": "#0000ff"}})
    await client.post(f"/bindings/{binding['uid']}/refresh", headers=admin)
    await env.JOBS.drain()
    assert await pixel(client, binding) == BLUE


async def test_etag_rerenders_after_a_failure_even_with_the_same_data(
    client, admin, env, data_server
):
    """After serve_default drew the defaults, unchanged data must still be drawn again."""
    template = await make_template(client, admin)
    binding = await make_binding(
        client,
        admin,
        **http_binding(
            template,
            data_server.url,
            refreshPolicy={"type": "etag", "onError": "serve_default"},
            defaults={"color": "#008000"},
        ),
    )
    assert await pixel(client, binding) == RED
    data_server.status = 500
    await client.post(f"/bindings/{binding['uid']}/refresh", headers=admin)
    await env.JOBS.drain()
    assert await pixel(client, binding) == GREEN
    data_server.status = 200  # the same data (and ETag) as before the failure
    await client.post(f"/bindings/{binding['uid']}/refresh", headers=admin)
    await env.JOBS.drain()
    assert await pixel(client, binding) == RED


def test_mapping_paths_index_lists_with_ascii_digits_only():
    data = {"items": ["a", "b", "c", "d"]}
    assert resolve(data, "items.3") == "d" and resolve(data, "items[3]") == "d"
    # Digits to str.isdigit() but not to JSON paths: "²" made int() raise, a 500.
    assert resolve(data, "items.²") is MISSING
    assert resolve(data, "items.٣") is MISSING
    with pytest.raises(PathError):
        steps("items[٣]")
