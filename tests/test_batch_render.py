"""Pictify batch rendering over HTTP: 202, durable jobs through the local queue, results in
order, up-front validation, cancel, owner isolation, and the batch's webhook event."""

import io
import json
import time

import httpx
import pytest
from PIL import Image

from pixhaven.net import fetch as remote_fetch
from pixhaven.services.rendering import batch as batch_render
from tests.conftest import ADMIN_TOKEN, assert_error_envelope, bearer
from tests.dev_server import run_dev_server
from tests.test_webhooks import FakeNetwork, verify

TEMPLATE = {
    "name": "Badge",
    "document": {"width": 40, "height": 20, "background": "{{bg}}", "components": []},
    "variables": [
        {"name": "bg", "type": "color", "required": True},
        {"name": "label", "type": "text", "default": "x"},
    ],
}


async def create_template(client, headers, template=TEMPLATE):
    response = await client.post("/templates", json=template, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["template"]["uid"]


async def start(client, headers, uid, body, status=202):
    response = await client.post(f"/templates/{uid}/batch-render", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def results(client, headers, batch_id, status=200):
    response = await client.get(f"/templates/batch/{batch_id}/results", headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def pixel(client, url):
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    response = await client.get(path)
    assert response.status_code == 200, path
    return Image.open(io.BytesIO(response.content)).convert("RGB").getpixel((0, 0))


async def test_batch_renders_every_item_in_order(client, admin, env):
    uid = await create_template(client, admin)
    colours = ["#ff0000", "#00ff00", "#0000ff"]
    started = await start(client, admin, uid, {"variableSets": [{"bg": c} for c in colours]})
    assert started["status"] == "pending" and started["total"] == 3
    assert started["batchId"] == started["id"] and started["templateUid"] == uid
    assert (started["totalItems"], started["completedItems"], started["progress"]) == (3, 0, 0)
    assert started["id"].startswith("batch_") and started["pending"] == 3
    assert started["template"] == uid and started["format"] == "png"

    await env.JOBS.drain()
    done = await results(client, admin, started["id"])
    assert done["status"] == "completed" and done["finishedAt"] is not None
    assert (done["completed"], done["failed"], done["pending"]) == (3, 0, 0)
    assert (done["totalItems"], done["completedItems"], done["failedItems"]) == (3, 3, 0)
    assert done["progress"] == 100 and done["errors"] == []
    assert done["batch"]["completedCount"] == 3 and done["batch"]["status"] == "completed"
    assert [r["index"] for r in done["results"]] == [0, 1, 2]
    assert all(r["success"] and r["variables"] == ["bg"] for r in done["results"])
    assert [r["variableValues"] for r in done["results"]] == [{"bg": c} for c in colours]
    assert all(
        r["status"] == "completed" and r["id"] and r["template"] == uid for r in done["results"]
    )
    got = [await pixel(client, r["url"]) for r in done["results"]]
    assert got == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    assert done["pagination"] == {"page": 1, "limit": 100, "total": 3, "totalPages": 1}
    # Pictify's page, limit and status filter.
    paged = await client.get(
        f"/templates/batch/{started['id']}/results?page=2&limit=2", headers=admin
    )
    assert [r["index"] for r in paged.json()["results"]] == [2]
    assert paged.json()["pagination"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}
    failed_only = await client.get(
        f"/templates/batch/{started['id']}/results?status=failed", headers=admin
    )
    assert failed_only.json()["results"] == [] and failed_only.json()["completedItems"] == 3
    for query in ("page=0", "limit=101", "status=done"):
        assert_error_envelope(
            await client.get(f"/templates/batch/{started['id']}/results?{query}", headers=admin),
            400,
        )


async def test_items_and_data_aliases_and_svg(client, admin, env):
    uid = await create_template(client, admin)
    for key in ("items", "data"):
        started = await start(
            client, admin, uid, {key: [{"variables": {"bg": "#123456"}}], "format": "svg"}
        )
        await env.JOBS.drain()
        done = await results(client, admin, started["id"])
        [item] = done["results"]
        assert item["status"] == "completed" and item["url"].endswith(".svg")


@pytest.mark.parametrize(
    "body, index",
    [
        ({"variables": [{"bg": "#ff0000"}, {"bg": "red-ish"}]}, 1),
        ({"variables": [{"bg": "#ff0000"}, {"bg": "#00ff00"}, {}]}, 2),
        ({"variables": [{"bg": "#ff0000"}, "not an object"]}, 1),
    ],
)
async def test_every_item_is_checked_before_anything_runs(client, admin, env, body, index):
    uid = await create_template(client, admin)
    answer = assert_error_envelope(
        await client.post(f"/templates/{uid}/batch-render", json=body, headers=admin), 400
    )
    assert f"{index}" in answer["error"]
    assert answer["details"]["index"] == index
    count = (await env.DB.prepare("SELECT COUNT(*) AS n FROM batch_jobs").first())["n"]
    assert count == 0 and env.JOBS.pending_count == 0


async def test_bad_requests(client, admin):
    uid = await create_template(client, admin)
    for body in (
        {},
        {"variables": []},
        {"variables": {"bg": "#fff"}},
        {"variables": [{"bg": "#fff"}] * (batch_render.MAX_ITEMS + 1)},
        {"variables": [{"bg": "#fff"}], "format": "bmp"},
    ):
        assert_error_envelope(
            await client.post(f"/templates/{uid}/batch-render", json=body, headers=admin), 400
        )
    assert_error_envelope(
        await client.post(
            "/templates/tpl_nope/batch-render", json={"variables": [{}]}, headers=admin
        ),
        404,
    )


async def test_cancel(client, admin, env):
    uid = await create_template(client, admin)
    started = await start(client, admin, uid, {"variables": [{"bg": "#ffffff"}] * 4})
    # One item runs before the cancel (as if a consumer had picked it up first).
    jobs = (
        await env.DB.prepare(
            "SELECT id, payload FROM jobs WHERE kind = 'batch.render_item' ORDER BY id"
        ).all()
    )["results"]
    first = next(j["id"] for j in jobs if json.loads(j["payload"])["index"] == 0)
    from pixhaven.services.jobs.queue import run_job

    assert await run_job(env, first) == "done"

    response = await client.post(f"/templates/batch/{started['id']}/cancel", headers=admin)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert (cancelled["completed"], cancelled["cancelled"], cancelled["pending"]) == (1, 3, 0)
    assert cancelled["batchId"] == started["id"] and cancelled["message"]
    assert (cancelled["totalCount"], cancelled["completedCount"]) == (4, 1)
    assert (cancelled["cancelledCount"], cancelled["progress"]) == (3, 100)
    await env.JOBS.drain()  # the cancelled items' jobs find nothing to do
    done = await results(client, admin, started["id"])
    assert [r["status"] for r in done["results"]] == ["completed"] + ["cancelled"] * 3
    assert done["status"] == "cancelled" and done["finishedAt"] is not None
    assert "url" in done["results"][0] and "url" not in done["results"][1]
    # Cancelling again changes nothing; with an Idempotency-Key the first answer is replayed.
    again = await client.post(f"/templates/batch/{started['id']}/cancel", headers=admin)
    assert again.json()["cancelled"] == 3
    keyed = {**admin, "Idempotency-Key": "cancel-1"}
    first = await client.post(f"/templates/batch/{started['id']}/cancel", headers=keyed)
    replay = await client.post(f"/templates/batch/{started['id']}/cancel", headers=keyed)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()


async def test_owner_isolation_and_scopes(client, admin, env, make_key):
    uid = await create_template(client, admin)
    started = await start(client, admin, uid, {"variables": [{"bg": "#ffffff"}]})
    key, _ = await make_key(["render", "templates:read"], owner="someone-else")
    other = bearer(key)
    assert_error_envelope(
        await client.get(f"/templates/batch/{started['id']}/results", headers=other), 404
    )
    assert_error_envelope(
        await client.post(f"/templates/batch/{started['id']}/cancel", headers=other), 404
    )
    assert_error_envelope(
        await client.post(
            f"/templates/{uid}/batch-render", json={"variables": [{"bg": "#fff"}]}, headers=other
        ),
        404,
    )
    read_only, _ = await make_key(["templates:read"])
    assert_error_envelope(
        await client.post(
            f"/templates/{uid}/batch-render",
            json={"variables": [{"bg": "#fff"}]},
            headers=bearer(read_only),
        ),
        403,
    )
    assert_error_envelope(
        await client.get("/templates/batch/batch_nope/results", headers=admin), 404
    )
    await env.JOBS.drain()


async def test_a_failing_item_fails_alone(client, admin, env):
    uid = await create_template(client, admin)
    started = await start(client, admin, uid, {"variables": [{"bg": "#ffffff"}] * 2})
    # The template is deleted before the jobs run: every item fails (a 404, not retried).
    await client.delete(f"/templates/{uid}", headers=admin)
    await env.JOBS.drain()
    done = await results(client, admin, started["id"])
    assert done["status"] == "failed" and done["failed"] == 2
    assert (done["failedItems"], done["completedItems"], done["progress"]) == (2, 0, 100)
    assert all(
        r["status"] == "failed" and r["error"] == "Template not found" and r["success"] is False
        for r in done["results"]
    )
    assert done["errors"] == done["results"]


async def test_idempotency_key_replays_the_batch(client, admin, env):
    uid = await create_template(client, admin)
    headers = {**admin, "Idempotency-Key": "batch-1"}
    body = {"variables": [{"bg": "#ffffff"}]}
    first = await client.post(f"/templates/{uid}/batch-render", json=body, headers=headers)
    second = await client.post(f"/templates/{uid}/batch-render", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    await env.JOBS.drain()


async def test_batch_completed_webhook(client, admin, env, monkeypatch):
    network = FakeNetwork()
    transport = httpx.MockTransport(network.handle)
    monkeypatch.setattr(remote_fetch, "default_transport", lambda: transport)
    monkeypatch.setattr(remote_fetch, "default_resolver", network.resolve)
    created = (
        await client.post(
            "/webhook-subscriptions",
            headers=admin,
            json={"url": "https://hooks.example.com/batches", "events": ["batch.completed"]},
        )
    ).json()
    uid = await create_template(client, admin)
    started = await start(client, admin, uid, {"variables": [{"bg": "#ff0000"}, {"bg": "#00ff00"}]})
    await env.JOBS.drain()
    [request] = network.requests  # one event for the batch; render.completed not subscribed
    payload = verify(request, created["secret"])
    assert payload["event"] == "batch.completed"
    assert request.headers["x-pictify-event"] == "batch.completed"
    data = payload["data"]
    assert data["id"] == started["id"] and data["status"] == "completed"
    assert data["completed"] == 2 and [r["index"] for r in data["results"]] == [0, 1]
    assert (
        data["results"][0]["url"]
        == (await results(client, admin, started["id"]))["results"][0]["url"]
    )


# -- Pictify's SDK against a real server -------------------------------------------------

FINISHED = {"completed", "partial", "failed", "cancelled"}
WAIT_FOR_BATCH = 120.0  # seconds before giving up on the server's queue (not a measurement)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from run_dev_server(tmp_path_factory.mktemp("sdk_batch"))


def test_sdk_render_batch_then_get_batch_results(server):
    from pictify import Pictify

    created = httpx.post(
        f"{server}/templates",
        json=TEMPLATE,
        headers=bearer(ADMIN_TOKEN),
        trust_env=False,
        timeout=30,
    )
    assert created.status_code == 200, created.text
    uid = created.json()["template"]["uid"]
    colours = ["#ff0000", "#00ff00", "#0000ff"]
    with Pictify(api_key=ADMIN_TOKEN, base_url=server, max_retries=0) as sdk:
        started = sdk.render_batch(uid, variable_sets=[{"bg": c} for c in colours])
        assert started.batch_id.startswith("batch_") and started.total_items == 3
        assert started.status in {"pending", "processing", "completed"}
        # The server's own queue consumer renders the items; poll as a client would.
        deadline = time.monotonic() + WAIT_FOR_BATCH
        done = sdk.get_batch_results(started.batch_id)
        while done.status not in FINISHED:
            assert time.monotonic() < deadline, done
            time.sleep(0.2)
            done = sdk.get_batch_results(started.batch_id)
    assert done.batch_id == started.batch_id and done.status == "completed"
    assert (done.total_items, done.completed_items, done.failed_items) == (3, 3, 0)
    assert done.progress == 100 and done.errors == [] and done.completed_at
    assert [r.index for r in done.results] == [0, 1, 2]
    assert all(r.success and r.variables == ["bg"] for r in done.results)
    got = []
    for result in done.results:
        image = httpx.get(result.url, trust_env=False, timeout=30)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        got.append(Image.open(io.BytesIO(image.content)).convert("RGB").getpixel((0, 0)))
    assert got == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


async def test_html_template_batch(client, admin, env):
    from tests.browser_support import require_browser

    require_browser()
    html = '<body style="margin:0;background:{{ bg }}"></body>'
    response = await client.post(
        "/templates", json={"name": "Html", "html": html, "width": 40, "height": 20}, headers=admin
    )
    assert response.status_code == 200, response.text
    uid = response.json()["template"]["uid"]
    # Expressions and the format are checked up front, like a component template's rules.
    assert_error_envelope(
        await client.post(
            f"/templates/{uid}/batch-render",
            json={"variableSets": [{"bg": "#ff0000"}], "format": "svg"},
            headers=admin,
        ),
        400,
    )
    body = {"variableSets": [{"bg": "#ff0000"}, {"bg": "#0000ff"}], "format": "jpeg"}
    started = await start(client, admin, uid, body)
    await env.JOBS.drain()
    done = await results(client, admin, started["batchId"])
    assert (done["status"], done["completedItems"], done["progress"]) == ("completed", 2, 100)
    assert all(r["success"] and r["url"].endswith(".jpg") for r in done["results"])
    got = [await pixel(client, r["url"]) for r in done["results"]]
    assert all(abs(a - b) < 16 for a, b in zip(got[0], (255, 0, 0), strict=True))
    assert all(abs(a - b) < 16 for a, b in zip(got[1], (0, 0, 255), strict=True))


PHOTO_TEMPLATE = {
    "name": "Photo",
    "document": {
        "width": 40,
        "height": 20,
        "background": "#ffffff",
        "components": [
            {"type": "image", "src": "{{photo}}", "width": 20, "height": 20, "x": 0, "y": 0}
        ],
    },
    "variables": [{"name": "photo", "type": "image", "required": True}],
}


def png_data_url(colour: str) -> str:
    import base64

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


async def test_a_partial_batch_and_the_shared_options(client, admin, env, monkeypatch):
    network = FakeNetwork()
    transport = httpx.MockTransport(network.handle)
    monkeypatch.setattr(remote_fetch, "default_transport", lambda: transport)
    monkeypatch.setattr(remote_fetch, "default_resolver", network.resolve)
    created = (
        await client.post(
            "/webhook-subscriptions",
            headers=admin,
            json={"url": "https://hooks.example.com/b", "events": ["batch.completed"]},
        )
    ).json()
    uid = await create_template(client, admin, PHOTO_TEMPLATE)
    # The second item's photo is on a loopback address: its render is refused (a 4xx, not
    # retried), the others render: Pictify's `partial`.
    sets = [
        {"photo": png_data_url("red")},
        {"photo": "http://127.0.0.1/secret.png"},
        {"photo": png_data_url("blue")},
    ]
    body = {"variableSets": sets, "format": "webp", "quality": 0.8, "concurrency": 2}
    started = await start(client, admin, uid, {**body, "layouts": ["default", "instagram-post"]})
    assert (started["quality"], started["concurrency"]) == (0.8, 2)
    assert started["layouts"] == ["default", "instagram-post"] and "startedAt" not in started
    await env.JOBS.drain()
    done = await results(client, admin, started["id"])
    assert done["status"] == "partial" and (done["completed"], done["failed"]) == (2, 1)
    assert done["message"] == "Batch finished with some failed items"
    assert done["startedAt"] and done["startedAt"] <= done["completedAt"]
    assert [r["success"] for r in done["results"]] == [True, False, True]
    assert [e["index"] for e in done["errors"]] == [1]
    first = done["results"][0]
    assert [(r["layout"], r["width"], r["height"]) for r in first["results"]] == [
        ("default", 40, 20),
        ("instagram-post", 1080, 1080),
    ]
    for rendered in first["results"]:
        path = "/" + rendered["url"].split("://", 1)[1].split("/", 1)[1]
        assert Image.open(io.BytesIO((await client.get(path)).content)).format == "WEBP"
    # A partial batch is a completion with failures: batch.completed, status partial.
    [request] = [r for r in network.requests if r.url.host == "hooks.example.com"]
    payload = verify(request, created["secret"])
    assert payload["event"] == "batch.completed" and payload["data"]["status"] == "partial"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quality": 0}, "quality"),
        ({"concurrency": 11}, "concurrency"),
        ({"layouts": []}, "layouts"),
        ({"webhookUrl": "https://example.com/hook"}, "webhookUrl"),
    ],
)
async def test_batch_options_are_checked(client, admin, env, change, field):
    uid = await create_template(client, admin)
    body = {"variableSets": [{"bg": "#ffffff"}], **change}
    refused = assert_error_envelope(
        await client.post(f"/templates/{uid}/batch-render", json=body, headers=admin), 400
    )
    assert refused["details"]["errors"][0]["field"] == field
