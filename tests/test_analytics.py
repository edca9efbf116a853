"""Splinterpic `GET /api/analytics/usage` and `GET /api/analytics/costs`: numbers from the
caller's usage events, by day and by model, over a period; owner isolation; scopes."""

import base64
import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from pixhaven.db import usage_events
from tests.conftest import assert_error_envelope, bearer

FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
OFFLINE = "@pixhaven/offline-preview"
FLUX_COST = 4 * 0.000053 + 4 * 0.00011


class FakeAi:
    """Answers like Workers AI with a distinct small image per call."""

    def __init__(self):
        self.calls = 0

    async def run(self, model, inputs):
        self.calls += 1
        out = io.BytesIO()
        Image.new("RGB", (1024, 1024), (self.calls, 0, 0)).save(out, "PNG")
        return {"image": base64.b64encode(out.getvalue()).decode()}


async def generate(client, headers, **body):
    response = await client.post(
        "/api/generate", headers=headers, json={"prompt": "analytics test", **body}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_usage_and_costs_after_a_few_generations(client, env, make_key):
    key, _ = await make_key(["generate", "analytics:read"], owner="alice")
    alice = bearer(key)
    env.AI = FakeAi()
    for _ in range(3):
        await generate(client, alice)
    offline_env_ai = env.AI
    from pixhaven.local.bindings.ai import OfflineImageModel

    env.AI = OfflineImageModel()
    await generate(client, alice, model=SDXL, width=256, height=256, steps=2)
    env.AI = offline_env_ai
    # A render event (no model, no cost) counts in usage too.
    await usage_events.insert(
        env.DB,
        {
            "id": "use_render1",
            "owner": "alice",
            "kind": "render",
            "cost": 0,
            "detail": {},
            "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        },
    )
    today = datetime.now(timezone.utc).date().isoformat()

    usage = await client.get("/api/analytics/usage", headers=alice)
    assert usage.status_code == 200, usage.text
    body = usage.json()
    assert body["success"] is True
    assert body["totals"] == {"count": 5, "generations": 4, "by_kind": {"generate": 4, "render": 1}}
    assert body["period"]["days"] in (30, 31) and body["period"]["end"].endswith("Z")
    assert len(body["by_day"]) == body["period"]["days"]
    assert body["by_day"][-1] == {
        "date": today,
        "count": 5,
        "generations": 4,
        "by_kind": {"generate": 4, "render": 1},
    }
    assert all(day["count"] == 0 for day in body["by_day"][:-1])
    assert body["by_model"] == [
        {"model": FLUX, "count": 3, "generations": 3},
        {"model": OFFLINE, "count": 1, "generations": 1},
    ]

    costs = (await client.get("/api/analytics/costs", headers=alice)).json()
    assert costs["success"] is True and costs["currency"] == "USD"
    assert costs["total_cost"] == pytest.approx(3 * FLUX_COST) and costs["count"] == 5
    assert costs["by_model"][0]["model"] == FLUX
    assert costs["by_model"][0]["cost"] == pytest.approx(3 * FLUX_COST)
    assert costs["by_model"][0]["average_cost"] == pytest.approx(FLUX_COST)
    assert costs["by_model"][1] == {"model": OFFLINE, "cost": 0, "count": 1, "average_cost": 0}
    assert costs["by_day"][-1]["date"] == today
    assert costs["by_day"][-1]["cost"] == pytest.approx(3 * FLUX_COST)


async def test_owner_isolation(client, env, make_key, admin):
    alice_key, _ = await make_key(["generate", "analytics:read"], owner="alice")
    bob_key, _ = await make_key(["analytics:read"], owner="bob")
    env.AI = FakeAi()
    await generate(client, bearer(alice_key))
    bob = (await client.get("/api/analytics/usage", headers=bearer(bob_key))).json()
    assert bob["totals"]["count"] == 0 and bob["by_model"] == []
    bob_costs = (await client.get("/api/analytics/costs", headers=bearer(bob_key))).json()
    assert bob_costs["total_cost"] == 0 and bob_costs["by_model"] == []
    admin_usage = (await client.get("/api/analytics/usage", headers=admin)).json()
    assert admin_usage["totals"]["count"] == 0  # the admin token is default_user's


async def test_period_parameters(client, env, admin):
    for n, when in enumerate(
        ["2024-01-10T10:00:00.000Z", "2024-01-12T23:59:59.999Z", "2024-01-13T00:00:00.000Z"]
    ):
        await usage_events.insert(
            env.DB,
            {
                "id": f"use_{n}",
                "owner": "default_user",
                "kind": "generate",
                "model": FLUX,
                "cost": 0.5,
                "detail": {},
                "created_at": when,
            },
        )
    usage = (
        await client.get("/api/analytics/usage?start=2024-01-10&end=2024-01-12", headers=admin)
    ).json()
    assert usage["period"] == {
        "start": "2024-01-10T00:00:00.000Z",
        "end": "2024-01-13T00:00:00.000Z",
        "days": 3,
    }
    assert [(d["date"], d["count"]) for d in usage["by_day"]] == [
        ("2024-01-10", 1),
        ("2024-01-11", 0),
        ("2024-01-12", 1),
    ]
    costs = (
        await client.get(
            "/api/analytics/costs?start=2024-01-12T00:00:00Z&end=2024-01-14T00:00:00Z",
            headers=admin,
        )
    ).json()
    assert costs["total_cost"] == 1.0 and costs["period"]["days"] == 2
    recent = (await client.get("/api/analytics/usage?days=7", headers=admin)).json()
    assert recent["totals"]["count"] == 0 and recent["period"]["days"] in (7, 8)
    start = datetime.fromisoformat(recent["period"]["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(recent["period"]["end"].replace("Z", "+00:00"))
    assert end - start == timedelta(days=7)


@pytest.mark.parametrize(
    "query,field",
    [
        ("days=0", "days"),
        ("days=400", "days"),
        ("days=x", "days"),
        ("days=%D9%A3", "days"),  # "٣": a digit to int(), not to a URL
        ("start=yesterday", "start"),
        ("end=2024-13-01", "end"),
        ("start=2024-02-01&end=2024-01-01", "start"),
        ("start=2020-01-01&end=2024-01-01", "start"),
    ],
)
async def test_bad_periods(client, admin, query, field):
    for path in ("usage", "costs"):
        response = await client.get(f"/api/analytics/{path}?{query}", headers=admin)
        error = assert_error_envelope(response, 400)
        assert error["error"] == f"Invalid {field} parameter"
        assert error["details"]["field"] == field


async def test_scope_analytics_read(client, make_key):
    key, _ = await make_key(["generate", "images:read"])
    for path in ("usage", "costs"):
        response = await client.get(f"/api/analytics/{path}", headers=bearer(key))
        assert assert_error_envelope(response, 403)["details"] == {
            "required_scope": "analytics:read"
        }
        assert_error_envelope(await client.get(f"/api/analytics/{path}"), 401)
