"""Pictify webhooks: `/webhook-subscriptions` CRUD over HTTP, URL checks, and deliveries —
`deliver` against a faked network (httpx.MockTransport; the network is faked, our code is
not) and the durable-job wiring through the local queue."""

import hashlib
import hmac
import json

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
        "/webhook-subscriptions", json={"url": HOOK, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def verify(request: httpx.Request, secret: str) -> dict:
    """What a receiver does: recompute the signature over "<t>." + raw body."""
    fields = dict(part.split("=", 1) for part in request.headers["x-pictify-signature"].split(","))
    assert fields["t"] == request.headers["x-pictify-timestamp"]
    expected = hmac.new(
        secret.encode(), fields["t"].encode() + b"." + request.content, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    return json.loads(request.content)


def owner_of(env) -> str:
    return Settings.from_env(env).default_owner


# -- CRUD -------------------------------------------------------------------------------------


async def test_subscription_round_trip(client, admin, net):
    created = await subscribe(client, admin, events=["batch.completed"], description="ci")
    uid = created["uid"]
    assert uid.startswith("whs_") and created["secret"].startswith("whsec_")
    assert created["events"] == ["batch.completed"] and created["active"] is True
    assert created["url"] == HOOK and created["description"] == "ci"

    fetched = (await client.get(f"/webhook-subscriptions/{uid}", headers=admin)).json()
    assert "secret" not in fetched and fetched["uid"] == uid
    listed = (await client.get("/webhook-subscriptions", headers=admin)).json()
    assert [s["uid"] for s in listed["subscriptions"]] == [uid]
    assert "secret" not in listed["subscriptions"][0]
    assert "batch.failed" in listed["events"]

    updated = await client.put(
        f"/webhook-subscriptions/{uid}",
        headers=admin,
        json={"events": ["render.completed", "batch.failed"], "active": False},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["events"] == ["render.completed", "batch.failed"]
    assert updated.json()["active"] is False and "secret" not in updated.json()
    rotated = await client.put(
        f"/webhook-subscriptions/{uid}", headers=admin, json={"secret": "s" * 32}
    )
    assert rotated.json()["secret"] == "s" * 32

    default_events = await subscribe(client, admin, secret="my-own-secret-123456")
    assert default_events["events"] == list(webhooks.EVENTS)
    assert default_events["secret"] == "my-own-secret-123456"

    assert (await client.delete(f"/webhook-subscriptions/{uid}", headers=admin)).json() == {
        "success": True,
        "uid": uid,
        "deleted": True,
    }
    assert_error_envelope(await client.get(f"/webhook-subscriptions/{uid}", headers=admin), 404)
    assert_error_envelope(await client.delete(f"/webhook-subscriptions/{uid}", headers=admin), 404)


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
        await client.post("/webhook-subscriptions", json={"url": url}, headers=admin), 400
    )
    assert body["details"]["errors"][0]["field"] == "url"


async def test_invalid_fields(client, admin, net):
    for body, field in [
        ({"url": HOOK, "events": ["image.deleted"]}, "events[0]"),
        ({"url": HOOK, "events": []}, "events"),
        ({"url": HOOK, "secret": "short"}, "secret"),
        ({"url": HOOK, "active": "yes"}, "active"),
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
    assert request.headers["x-pictify-delivery"] == delivery["id"]
    payload = verify(request, created["secret"])
    assert payload["id"] == delivery["id"] and payload["event"] == "batch.completed"
    assert payload["data"] == {"id": "batch_1", "total": 2}
    assert payload["createdAt"].endswith("Z")
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
    assert [r.headers["x-pictify-delivery"] for r in net.requests] == [delivery_id] * 2
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
    await subscribe(client, admin, url="https://rebinding.example.com/hook")
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
    assert response.status_code == 201, response.text
    await env.JOBS.drain()
    [request] = net.requests
    payload = verify(request, created["secret"])
    assert payload["event"] == "render.completed"
    assert payload["data"]["id"] == response.json()["id"]
    assert payload["data"]["url"] == response.json()["url"]
