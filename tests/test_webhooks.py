"""Pictify webhooks: `/webhook-subscriptions` CRUD over HTTP, URL checks, and deliveries —
`deliver` against a faked network (httpx.MockTransport; the network is faked, our code is
not) and the durable-job wiring through the local queue."""

import hashlib
import hmac
import json
import time

import httpx
import pytest

from pixhaven.db import jobs as jobs_table
from pixhaven.db import webhooks as table
from pixhaven.net import fetch as remote_fetch
from pixhaven.services.jobs import queue as jobs
from pixhaven.services.jobs import webhooks
from pixhaven.settings import Settings
from tests.conftest import assert_error_envelope, bearer

PUBLIC = "93.184.215.14"
HOOK = "https://hooks.example.com/pixhaven"


class FakeNetwork:
    """Answers POSTs from a per-URL list of responses (the last one repeats)."""

    def __init__(self):
        self.answers: dict[str, list] = {}
        self.requests: list[httpx.Request] = []
        self.dns = {"intranet.example.com": ["10.0.0.9"]}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self.answers.get(str(request.url), [httpx.Response(204)])
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def resolve(self, host, port):
        return self.dns.get(host, [PUBLIC])


@pytest.fixture
def net(monkeypatch):
    network = FakeNetwork()
    transport = httpx.MockTransport(network.handle)
    monkeypatch.setattr(remote_fetch, "default_transport", lambda: transport)
    monkeypatch.setattr(remote_fetch, "default_resolver", network.resolve)
    return network


async def subscribe(client, headers, **body):
    response = await client.post(
        "/webhook-subscriptions", json={"targetUrl": HOOK, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["subscription"]


def verify(request: httpx.Request, secret: str) -> dict:
    """What a receiver does: recompute the signature over "<t>." + raw body."""
    fields = dict(part.split("=", 1) for part in request.headers["x-pictify-signature"].split(","))
    assert fields["t"] == request.headers["x-pictify-timestamp"]
    expected = hmac.new(
        secret.encode(), fields["t"].encode() + b"." + request.content, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert docs_verify_webhook_signature(
        request.content, request.headers["x-pictify-signature"], secret
    )
    return json.loads(request.content)


def docs_verify_webhook_signature(payload: bytes, signature_header: str, secret: str) -> bool:
    """Pictify's documented receiver (concepts/webhooks.mdx, Python), as a customer pastes it."""
    parts = dict(pair.split("=") for pair in signature_header.split(","))
    timestamp = int(parts["t"])
    provided_signature = parts["v1"]
    if abs(time.time() - timestamp) > 300:
        raise ValueError("Webhook timestamp too old")
    signed_payload = f"{timestamp}.{payload.decode()}"
    expected_signature = hmac.new(
        secret.encode(), signed_payload.encode(), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(provided_signature, expected_signature)


def owner_of(env) -> str:
    return Settings.from_env(env).default_owner


# -- CRUD -------------------------------------------------------------------------------------


async def test_pictify_subscription_as_the_docs_show_it(client, admin, env, net):
    """api-reference/webhooks.mdx, request for request: create, get, list, update, pause,
    resume, delete, with Pictify's fields and wrapper."""
    response = await client.post(
        "/webhook-subscriptions",
        headers=admin,
        json={"event": "render.completed", "targetUrl": HOOK, "platform": "custom"},
    )
    assert response.status_code == 201, response.text
    created = response.json()["subscription"]
    uid = created["uid"]
    assert uid.startswith("whs_") and created["secret"].startswith("whsec_")
    assert {k: created[k] for k in ("event", "targetUrl", "platform", "status")} == {
        "event": "render.completed",
        "targetUrl": HOOK,
        "platform": "custom",
        "status": "active",
    }
    assert created["createdAt"].endswith("Z") and created["filters"] == {}
    assert (created["deliveryCount"], created["failureCount"]) == (0, 0)

    fetched = (await client.get(f"/webhook-subscriptions/{uid}", headers=admin)).json()
    # The OpenAPI wraps it in `subscription`, the docs' GET answers it bare: both hold.
    assert fetched["subscription"]["uid"] == fetched["uid"] == uid
    assert fetched["targetUrl"] == HOOK and "secret" not in fetched["subscription"]
    assert "lastDelivery" not in fetched

    listed = (await client.get("/webhook-subscriptions", headers=admin)).json()
    assert [s["uid"] for s in listed["subscriptions"]] == [uid]
    assert "secret" not in listed["subscriptions"][0]
    assert listed["pagination"] == {
        "page": 1,
        "limit": 20,
        "total": 1,
        "totalPages": 1,
        "hasNext": False,
        "hasPrev": False,
    }

    moved = "https://hooks.example.com/new-endpoint"
    updated = await client.put(
        f"/webhook-subscriptions/{uid}",
        headers=admin,
        json={"targetUrl": moved, "status": "paused", "filters": {"templateId": "tmpl_1"}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["subscription"]["targetUrl"] == moved
    fetched = (await client.get(f"/webhook-subscriptions/{uid}", headers=admin)).json()
    assert (fetched["targetUrl"], fetched["status"]) == (moved, "paused")
    assert fetched["filters"] == {"templateId": "tmpl_1"} and "secret" not in fetched
    # A paused subscription receives nothing.
    assert await webhooks.emit(env, owner_of(env), "render.completed", {"template": "tmpl_1"}) == []

    resumed = await client.post(f"/webhook-subscriptions/{uid}/resume", headers=admin)
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert (
        len(await webhooks.emit(env, owner_of(env), "render.completed", {"template": "tmpl_1"}))
        == 1
    )
    paused = await client.post(f"/webhook-subscriptions/{uid}/pause", headers=admin)
    assert paused.json()["subscription"]["status"] == "paused"
    listed = (await client.get("/webhook-subscriptions?status=paused", headers=admin)).json()
    assert [s["uid"] for s in listed["subscriptions"]] == [uid]
    listed = (await client.get("/webhook-subscriptions?status=active", headers=admin)).json()
    assert listed["subscriptions"] == []

    deleted = await client.delete(f"/webhook-subscriptions/{uid}", headers=admin)
    assert deleted.json() == {"success": True, "uid": uid, "deleted": True}
    assert_error_envelope(await client.get(f"/webhook-subscriptions/{uid}", headers=admin), 404)
    assert_error_envelope(await client.delete(f"/webhook-subscriptions/{uid}", headers=admin), 404)
    for action in ("pause", "resume"):
        assert_error_envelope(
            await client.post(f"/webhook-subscriptions/{uid}/{action}", headers=admin), 404
        )


async def test_pixhaven_extensions_keep_working(client, admin, net):
    """Today's `url`, `events`, `active`, `secret` and `description` are still accepted."""
    response = await client.post(
        "/webhook-subscriptions",
        headers=admin,
        json={"url": HOOK, "events": ["batch.completed", "batch.failed"], "description": "ci"},
    )
    assert response.status_code == 201, response.text
    created = response.json()["subscription"]
    assert created["events"] == ["batch.completed", "batch.failed"]
    assert created["event"] == "batch.completed" and created["targetUrl"] == HOOK
    assert created["description"] == "ci"
    uid = created["uid"]
    updated = await client.put(
        f"/webhook-subscriptions/{uid}",
        headers=admin,
        json={"events": ["render.completed", "batch.failed"], "active": False},
    )
    assert updated.json()["events"] == ["render.completed", "batch.failed"]
    assert updated.json()["status"] == "paused" and "secret" not in updated.json()
    rotated = await client.put(
        f"/webhook-subscriptions/{uid}", headers=admin, json={"secret": "s" * 32}
    )
    assert rotated.json()["secret"] == "s" * 32
    default_events = await subscribe(client, admin, secret="my-own-secret-123456")
    assert default_events["events"] == list(webhooks.EVENTS)
    assert default_events["secret"] == "my-own-secret-123456"


async def test_every_documented_event_and_platform_is_accepted(client, admin, net):
    """binding.* may be subscribed to now; they fire once bindings exist (README)."""
    for event in ("render.completed", "render.failed", "batch.completed", "batch.failed"):
        assert (await subscribe(client, admin, event=event))["event"] == event
    for event in ("binding.updated", "binding.failed"):
        assert (await subscribe(client, admin, event=event))["events"] == [event]
    for platform in ("zapier", "make", "n8n", "pipedream"):
        assert (await subscribe(client, admin, platform=platform))["platform"] == platform


async def test_list_pagination(client, admin, net):
    uids = [(await subscribe(client, admin, event="render.failed"))["uid"] for _ in range(3)]
    await subscribe(client, admin, event="batch.failed")
    first = (await client.get("/webhook-subscriptions?limit=2", headers=admin)).json()
    assert [s["uid"] for s in first["subscriptions"]] == uids[:2]
    assert first["pagination"] == {
        "page": 1,
        "limit": 2,
        "total": 4,
        "totalPages": 2,
        "hasNext": True,
        "hasPrev": False,
    }
    second = (await client.get("/webhook-subscriptions?limit=2&page=2", headers=admin)).json()
    assert len(second["subscriptions"]) == 2
    assert (second["pagination"]["hasNext"], second["pagination"]["hasPrev"]) == (False, True)
    only = (await client.get("/webhook-subscriptions?event=render.failed", headers=admin)).json()
    assert [s["uid"] for s in only["subscriptions"]] == uids
    assert only["pagination"]["total"] == 3


async def test_idempotency_key_creates_one_subscription(client, admin, net):
    headers = {**admin, "Idempotency-Key": "create-hook-1"}
    body = {"event": "render.completed", "targetUrl": HOOK}
    first = await client.post("/webhook-subscriptions", json=body, headers=headers)
    again = await client.post("/webhook-subscriptions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    listed = (await client.get("/webhook-subscriptions", headers=admin)).json()
    assert [s["uid"] for s in listed["subscriptions"]] == [first.json()["uid"]]
    other = await client.post(
        "/webhook-subscriptions", json={**body, "event": "render.failed"}, headers=headers
    )
    assert_error_envelope(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert (
        len((await client.get("/webhook-subscriptions", headers=admin)).json()["subscriptions"])
        == 1
    )


async def test_subscriptions_are_scoped(client, admin, make_key, net):
    created = await subscribe(client, admin)
    key, _ = await make_key(["webhooks"], owner="someone-else")
    other = bearer(key)
    assert (await client.get("/webhook-subscriptions", headers=other)).json()["subscriptions"] == []
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(
            method,
            f"/webhook-subscriptions/{created['uid']}",
            headers=other,
            json={} if method == "PUT" else None,
        )
        assert_error_envelope(response, 404)
    render_only, _ = await make_key(["render"])
    assert_error_envelope(
        await client.get("/webhook-subscriptions", headers=bearer(render_only)), 403
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://127.0.0.1:8080/",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/hook",
        "http://[::1]/hook",
        "https://intranet.example.com/hook",
        "ftp://hooks.example.com/",
        "https://user:pw@hooks.example.com/",
        "not a url",
        "",
    ],
)
async def test_refused_urls_at_creation(client, admin, net, url):
    body = assert_error_envelope(
        await client.post("/webhook-subscriptions", json={"targetUrl": url}, headers=admin), 400
    )
    assert body["details"]["errors"][0]["field"] == "targetUrl"
    body = assert_error_envelope(
        await client.post("/webhook-subscriptions", json={"url": url}, headers=admin), 400
    )
    assert body["details"]["errors"][0]["field"] == "url"


async def test_invalid_fields(client, admin, net):
    for body, field in [
        ({"url": HOOK, "events": ["image.deleted"]}, "events[0]"),
        ({"url": HOOK, "events": []}, "events"),
        ({"url": HOOK, "secret": "short"}, "secret"),
        ({"url": HOOK, "active": "yes"}, "active"),
        ({"targetUrl": HOOK, "event": "image.deleted"}, "event"),
        ({"targetUrl": HOOK, "platform": "ifttt"}, "platform"),
        ({"targetUrl": HOOK, "status": "failed"}, "status"),
        ({"targetUrl": HOOK, "filters": {"colour": "red"}}, "filters.colour"),
        ({"targetUrl": HOOK, "filters": {"type": "video"}}, "filters.type"),
        ({"targetUrl": HOOK, "filters": "tmpl_1"}, "filters"),
        ({"targetUrl": HOOK, "target_url": HOOK}, "target_url"),
        ({"event": "render.completed"}, "targetUrl"),
    ]:
        answer = assert_error_envelope(
            await client.post("/webhook-subscriptions", json=body, headers=admin), 400
        )
        assert answer["details"]["errors"][0]["field"] == field
    uid = (await subscribe(client, admin))["uid"]
    answer = assert_error_envelope(
        await client.put(
            f"/webhook-subscriptions/{uid}", json={"url": "http://192.168.1.1/"}, headers=admin
        ),
        400,
    )
    assert answer["details"]["reason"] == "BLOCKED_DESTINATION"
    # A misspelt update is refused, not answered 200 with nothing changed.
    answer = assert_error_envelope(
        await client.put(f"/webhook-subscriptions/{uid}", json={"target": HOOK}, headers=admin),
        400,
    )
    assert answer["details"]["errors"][0]["field"] == "target"
    answer = assert_error_envelope(
        await client.put(f"/webhook-subscriptions/{uid}", json={"status": "failed"}, headers=admin),
        400,
    )
    assert answer["details"]["errors"][0]["field"] == "status"


# -- deliver(): one attempt against a faked network ------------------------------------------


async def pending_delivery(env, event="batch.completed", data=None):
    [delivery_id] = await webhooks.emit(env, owner_of(env), event, data or {"id": "batch_1"})
    return await table.get_delivery(env.DB, delivery_id)


async def test_delivery_is_signed(client, admin, env, net):
    created = await subscribe(client, admin)
    delivery = await pending_delivery(env, data={"id": "batch_1", "total": 2})
    seen = []

    def handle(request):
        seen.append(request)
        return httpx.Response(200)

    assert (
        await webhooks.deliver(env, delivery, transport=httpx.MockTransport(handle)) == "delivered"
    )
    [request] = seen
    assert str(request.url) == HOOK and request.method == "POST"
    assert request.headers["x-pictify-event"] == "batch.completed"
    assert request.headers["x-pictify-delivery-id"] == delivery["id"]
    assert delivery["id"].startswith("del_")
    assert request.headers["x-pictify-delivery"] == delivery["id"]
    assert request.headers["content-type"] == "application/json"
    payload = verify(request, created["secret"])
    assert set(payload) == {"event", "timestamp", "data"}
    assert payload["event"] == "batch.completed" and payload["timestamp"].endswith("Z")
    assert payload["data"] == {"id": "batch_1", "total": 2}
    with pytest.raises(AssertionError):
        verify(request, "another-secret-000000")
    row = await table.get_delivery(env.DB, delivery["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 200)


async def test_retry_on_500_then_success(client, admin, env, net):
    await subscribe(client, admin)
    delivery = await pending_delivery(env)
    answers = [httpx.Response(500), httpx.ConnectError("down"), httpx.Response(202)]

    def handle(request):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = httpx.MockTransport(handle)
    assert await webhooks.deliver(env, delivery, transport=transport) == "retry"
    row = await table.get_delivery(env.DB, delivery["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 500)
    assert row["next_attempt_at"] is not None
    assert await webhooks.deliver(env, row, transport=transport) == "retry"
    row = await table.get_delivery(env.DB, delivery["id"])
    assert row["attempts"] == 2 and "FETCH_FAILED" in row["last_error"]
    assert await webhooks.deliver(env, row, transport=transport) == "delivered"
    row = await table.get_delivery(env.DB, delivery["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 3, 202)


@pytest.mark.parametrize("status", [400, 404, 410, 301])
async def test_no_retry_on_4xx_or_redirects(client, admin, env, net, status):
    await subscribe(client, admin)
    delivery = await pending_delivery(env)
    transport = httpx.MockTransport(
        lambda request: httpx.Response(status, headers={"Location": "http://127.0.0.1/"})
    )
    assert await webhooks.deliver(env, delivery, transport=transport) == "failed"
    row = await table.get_delivery(env.DB, delivery["id"])
    assert (row["status"], row["last_status_code"]) == ("failed", status)


async def test_429_is_retried_and_attempts_run_out(client, admin, env, net):
    await subscribe(client, admin)
    row = await pending_delivery(env)
    transport = httpx.MockTransport(lambda request: httpx.Response(429))
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        assert await webhooks.deliver(env, row, transport=transport) == "retry"
        row = await table.get_delivery(env.DB, row["id"])
    assert await webhooks.deliver(env, row, transport=transport) == "failed"


# -- the durable job wiring (through the local queue) ------------------------------------------


async def delivery_jobs(env) -> list[dict]:
    rows = (await env.DB.prepare("SELECT id FROM jobs WHERE kind = 'webhook.deliver'").all())[
        "results"
    ]
    return [await jobs_table.get(env.DB, row["id"]) for row in rows]


async def test_job_retries_a_500_then_delivers(client, admin, env, net):
    created = await subscribe(client, admin)
    net.answers[HOOK] = [httpx.Response(503), httpx.Response(200)]
    [delivery_id] = await webhooks.emit(env, owner_of(env), "batch.completed", {"id": "b"})
    await env.JOBS.drain()
    [job] = await delivery_jobs(env)
    assert job["status"] == "queued" and job["run_after"] > job["created_at"]  # backoff
    row = await table.get_delivery(env.DB, delivery_id)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 503)
    assert await jobs.run_job(env, job["id"]) == "done"  # what the cron's re-dispatch does
    row = await table.get_delivery(env.DB, delivery_id)
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    assert len(net.requests) == 2
    assert [r.headers["x-pictify-delivery-id"] for r in net.requests] == [delivery_id] * 2
    assert net.requests[0].content == net.requests[1].content
    verify(net.requests[1], created["secret"])


async def test_job_does_not_retry_a_400(client, admin, env, net):
    await subscribe(client, admin)
    net.answers[HOOK] = [httpx.Response(400)]
    [delivery_id] = await webhooks.emit(env, owner_of(env), "batch.failed", {"id": "b"})
    await env.JOBS.drain()
    [job] = await delivery_jobs(env)
    assert job["status"] == "done"
    row = await table.get_delivery(env.DB, delivery_id)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("failed", 1, 400)
    assert len(net.requests) == 1


async def test_refused_address_fails_the_delivery_without_network(client, admin, env, net):
    """The name passed at creation, then resolves to a private address (DNS rebinding)."""
    await subscribe(client, admin, targetUrl="https://rebinding.example.com/hook")
    net.dns["rebinding.example.com"] = ["127.0.0.1"]
    [delivery_id] = await webhooks.emit(env, owner_of(env), "batch.completed", {"id": "b"})
    await env.JOBS.drain()
    row = await table.get_delivery(env.DB, delivery_id)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"].startswith("BLOCKED_DESTINATION") and "loopback" in row["last_error"]
    assert net.requests == []
    [job] = await delivery_jobs(env)
    assert job["status"] == "done"


async def test_only_subscribed_active_owners_get_events(client, admin, env, make_key, net):
    await subscribe(client, admin, events=["batch.completed"])
    inactive = await subscribe(client, admin, events=["batch.failed"])
    await client.put(
        f"/webhook-subscriptions/{inactive['uid']}", json={"active": False}, headers=admin
    )
    assert await webhooks.emit(env, owner_of(env), "batch.failed", {}) == []
    assert await webhooks.emit(env, "someone-else", "batch.completed", {}) == []
    assert len(await webhooks.emit(env, owner_of(env), "batch.completed", {})) == 1


async def test_render_completed_is_delivered(client, admin, env, net):
    created = await subscribe(client, admin, events=["render.completed"])
    response = await client.post(
        "/image",
        headers=admin,
        json={"width": 20, "height": 10, "background": "#ff0000", "components": []},
    )
    assert response.status_code == 200, response.text
    await env.JOBS.drain()
    [request] = net.requests
    payload = verify(request, created["secret"])
    assert payload["event"] == "render.completed"
    assert payload["data"]["id"] == response.json()["id"]
    assert payload["data"]["url"] == response.json()["url"]
    data = payload["data"]
    assert (data["type"], data["source"], data["imageId"]) == ("image", "api", data["id"])
    assert (data["width"], data["height"]) == (20, 10)
    assert data["userId"] == owner_of(env) and data["renderedAt"].endswith("Z")
    assert data["templateId"] is None

    fetched = (await client.get(f"/webhook-subscriptions/{created['uid']}", headers=admin)).json()
    assert fetched["lastDelivery"]["status"] == "success"
    assert fetched["lastDelivery"]["responseCode"] == 204
    assert (fetched["deliveryCount"], fetched["failureCount"]) == (1, 0)
    assert fetched["lastDeliveryAt"].endswith("Z")


async def test_render_failed_is_delivered(client, admin, env, net):
    """A render that fails (here: an unknown template) emits Pictify's render.failed."""
    created = await subscribe(client, admin, event="render.failed")
    await subscribe(client, admin, event="render.completed")
    response = await client.post(
        "/templates/tmpl_missing/render", headers=admin, json={"variables": {}}
    )
    assert_error_envelope(response, 404)
    await env.JOBS.drain()
    [request] = net.requests
    payload = verify(request, created["secret"])
    assert request.headers["x-pictify-event"] == payload["event"] == "render.failed"
    assert payload["data"] == {
        "type": "image",
        "templateId": "tmpl_missing",
        "error": response.json()["error"],
        "errorCode": response.json()["code"],
    }


async def test_render_failed_for_a_file_asked_for_with_accept(client, admin, env, net):
    """A render answered as the file itself (Accept) emits render.failed too when it fails."""
    created = await subscribe(client, admin, event="render.failed")
    response = await client.post(
        "/pdf/render",
        headers={**admin, "Accept": "application/pdf"},
        json={"html": "<p>x</p>", "options": {"preset": "B7"}},
    )
    assert_error_envelope(response, 400)
    await env.JOBS.drain()
    [request] = net.requests
    payload = verify(request, created["secret"])
    assert payload["data"]["type"] == "pdf" and payload["data"]["errorCode"] == "INVALID_REQUEST"


async def test_filters_choose_the_events(client, admin, env, net):
    """filters.templateId and filters.type (api-reference/webhooks.mdx, Filters)."""
    owner = owner_of(env)
    await subscribe(client, admin, event="render.completed", filters={"templateId": "tmpl_a"})
    await subscribe(client, admin, event="render.completed", filters={"type": "pdf"})
    await subscribe(client, admin, event="render.completed")
    image_a = {"id": "1", "url": f"{HOOK}/1.png", "template": "tmpl_a"}
    assert len(await webhooks.emit(env, owner, "render.completed", image_a)) == 2
    image_b = {"id": "2", "url": f"{HOOK}/2.png", "template": "tmpl_b"}
    assert len(await webhooks.emit(env, owner, "render.completed", image_b)) == 1
    pdf = {"id": "3", "url": f"{HOOK}/3.pdf", "format": "pdf"}
    assert len(await webhooks.emit(env, owner, "render.completed", pdf)) == 2


async def test_rows_from_before_migration_0012_keep_working(tmp_path):
    """An inactive subscription written before 0012 is `paused`, with platform `custom`."""
    import shutil
    from pathlib import Path

    from pixhaven.local.bindings.d1 import LocalD1
    from pixhaven.local.runtime.migrations import apply_migrations

    migrations = Path(__file__).resolve().parents[1] / "migrations"
    MIGRATION = "0012_pictify_webhook_fields.sql"
    before = tmp_path / "before"
    before.mkdir()
    for path in sorted(migrations.glob("*.sql")):
        if path.name != MIGRATION:
            shutil.copy(path, before / path.name)
    db = LocalD1(tmp_path / "db.sqlite3")
    try:
        await apply_migrations(db, before)
        for uid, active in (("whs_on", 1), ("whs_off", 0)):
            await (
                db.prepare(
                    "INSERT INTO webhook_subscriptions (uid, owner, url, events, secret, active,"
                    " created_at, updated_at) VALUES (?, 'o', ?, '[\"batch.completed\"]', 's', ?,"
                    " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
                )
                .bind(uid, HOOK, active)
                .run()
            )
        assert await apply_migrations(db, migrations) == [MIGRATION]
        on, off = (
            await table.get_subscription(db, "whs_on"),
            await table.get_subscription(db, "whs_off"),
        )
        assert (on["status"], on["platform"], on["filters"]) == ("active", "custom", {})
        assert (off["status"], off["active"]) == ("paused", False)
        assert [row["uid"] for row in await table.active_subscriptions(db, "o")] == ["whs_on"]
    finally:
        db.close()


async def test_failed_batch_items_are_render_failed(client, admin, env, net):
    failed = await subscribe(client, admin, event="render.failed")
    batches = await subscribe(client, admin, event="batch.failed")
    template = {
        "name": "Badge",
        "document": {"width": 40, "height": 20, "background": "#123456", "components": []},
    }
    uid = (await client.post("/templates", json=template, headers=admin)).json()["template"]["uid"]
    started = await client.post(
        f"/templates/{uid}/batch-render", json={"variables": [{}, {}]}, headers=admin
    )
    assert started.status_code == 202, started.text
    # The template is deleted before the jobs run: both items fail for good (a 404).
    await client.delete(f"/templates/{uid}", headers=admin)
    await env.JOBS.drain()
    events = {}
    for request in net.requests:
        secret = (
            failed["secret"]
            if request.headers["x-pictify-event"] == "render.failed"
            else batches["secret"]
        )
        payload = verify(request, secret)
        events.setdefault(payload["event"], []).append(payload["data"])
    assert sorted(events) == ["batch.failed", "render.failed"]
    assert (
        events["render.failed"]
        == [
            {
                "type": "image",
                "templateId": uid,
                "error": "Template not found",
                "errorCode": "NOT_FOUND",
            }
        ]
        * 2
    )


async def test_repeated_failures_set_status_failed(client, admin, env, net):
    """api-reference/webhooks.mdx: `failed` = disabled after repeated failures; resume
    turns it back on."""
    created = await subscribe(client, admin, event="batch.failed")
    net.answers[HOOK] = [httpx.Response(410)]
    owner = owner_of(env)
    for _ in range(webhooks.FAILED_DELIVERIES_LIMIT - 1):
        await webhooks.emit(env, owner, "batch.failed", {})
        await env.JOBS.drain()
    path = f"/webhook-subscriptions/{created['uid']}"
    assert (await client.get(path, headers=admin)).json()["status"] == "active"
    await webhooks.emit(env, owner, "batch.failed", {})
    await env.JOBS.drain()
    fetched = (await client.get(path, headers=admin)).json()
    assert fetched["status"] == "failed"
    assert fetched["failureCount"] == webhooks.FAILED_DELIVERIES_LIMIT
    assert fetched["lastDelivery"]["status"] == "failed"
    assert fetched["lastDelivery"]["responseCode"] == 410
    assert await webhooks.emit(env, owner, "batch.failed", {}) == []
    assert (await client.post(f"{path}/resume", headers=admin)).json()["status"] == "active"
    assert len(await webhooks.emit(env, owner, "batch.failed", {})) == 1


def test_the_documented_events_are_the_events():
    """models/pictify.py documents the event names (models may not import services): the
    same list as services/jobs/webhooks.EVENTS."""
    from pixhaven.models.pictify import WEBHOOK_EVENTS

    assert WEBHOOK_EVENTS == list(webhooks.EVENTS)


async def test_deliveries_are_listed_newest_first(client, admin, env, make_key, net):
    created = await subscribe(client, admin)
    net.answers[HOOK] = [httpx.Response(200), httpx.Response(410)]
    first = await pending_delivery(env, data={"id": "batch_1"})
    second = await pending_delivery(env, event="batch.failed", data={"id": "batch_2"})
    assert await webhooks.deliver(env, first) == "delivered"
    assert await webhooks.deliver(env, second) == "failed"
    third = await pending_delivery(env, data={"id": "batch_3"})  # not attempted yet

    path = f"/webhook-subscriptions/{created['uid']}/deliveries"
    listed = await client.get(path, headers=admin)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["subscriptionUid"] == created["uid"]
    assert [d["id"] for d in body["deliveries"]] == [third["id"], second["id"], first["id"]]
    newest, failed, delivered = body["deliveries"]
    assert (newest["status"], newest["attempts"], newest["responseCode"]) == ("pending", 0, None)
    assert (failed["status"], failed["event"], failed["responseCode"]) == (
        "failed",
        "batch.failed",
        410,
    )
    assert delivered["status"] == "delivered" and delivered["responseCode"] == 200
    assert delivered["payload"]["data"] == {"id": "batch_1"}
    assert body["pagination"]["total"] == 3

    page = (await client.get(f"{path}?limit=1&page=2", headers=admin)).json()
    assert [d["id"] for d in page["deliveries"]] == [second["id"]]
    assert page["pagination"]["hasNext"] is True
    only_failed = (await client.get(f"{path}?status=failed", headers=admin)).json()
    assert [d["id"] for d in only_failed["deliveries"]] == [second["id"]]
    assert_error_envelope(await client.get(f"{path}?status=lost", headers=admin), 400)

    other, _ = await make_key(["webhooks"], owner="someone_else")
    assert_error_envelope(await client.get(path, headers=bearer(other)), 404)
    assert_error_envelope(
        await client.get("/webhook-subscriptions/whs_none/deliveries", headers=admin), 404
    )
