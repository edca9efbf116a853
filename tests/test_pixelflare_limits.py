"""PixelFlare's documented limits: "Upload: 10 requests/minute burst, 1000/day" per owner
(429 RATE_LIMITED with Retry-After on POST /v1/images) and "FILE_TOO_LARGE - File exceeds
100MB limit" where the bytes go straight to R2."""

from datetime import timedelta

import pytest

from pixhaven.timeutil import iso, utcnow

from .conftest import assert_error_envelope, bearer


async def create(client, headers):
    return await client.post("/v1/images", json={"filename": "photo.jpg"}, headers=headers)


async def test_the_documented_burst_is_10_a_minute_per_owner(client, admin, make_key):
    for _ in range(10):
        response = await create(client, admin)
        assert response.status_code == 201, response.text
    refused = await create(client, admin)
    body = assert_error_envelope(refused, 429, "RATE_LIMITED")
    assert body["details"]["limit"] == 10 and body["details"]["period"] == "minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert int(refused.headers["Retry-After"]) == body["details"]["retry_after"]
    # Refused requests are not counted, and other owners have their own allowance.
    key, _ = await make_key(["images:write"], owner="someone_else")
    assert (await create(client, bearer(key))).status_code == 201
    # Reading is not limited.
    assert (await client.get("/v1/images", headers=admin)).status_code == 200


async def record_uploads(env, count: int, ago: timedelta) -> None:
    """Uploads as the limiter records them (usage events), `ago` in the past."""
    moment = iso(utcnow() - ago)
    for n in range(count):
        await (
            env.DB.prepare(
                "INSERT INTO usage_events (id, owner, kind, cost, detail, created_at)"
                " VALUES (?, 'default_user', 'upload', 0, '{}', ?)"
            )
            .bind(f"use_earlier{n}", moment)
            .run()
        )


async def test_uploads_older_than_a_minute_leave_the_burst_window(client, admin, env):
    await record_uploads(env, 10, timedelta(minutes=2))
    assert (await create(client, admin)).status_code == 201


async def test_uploads_within_the_minute_fill_the_burst_window(client, admin, env):
    await record_uploads(env, 10, timedelta(seconds=30))
    refused = await create(client, admin)
    assert_error_envelope(refused, 429, "RATE_LIMITED")
    # The window frees a place when the oldest of them is a minute old.
    assert 1 <= int(refused.headers["Retry-After"]) <= 31


@pytest.mark.parametrize(
    "settings_overrides", [{"UPLOAD_DAILY_LIMIT": "3", "UPLOAD_RATE_PER_MINUTE": "0"}]
)
async def test_daily_limit_answers_429_until_the_next_utc_day(client, admin):
    for _ in range(3):
        assert (await create(client, admin)).status_code == 201
    refused = await create(client, admin)
    body = assert_error_envelope(refused, 429, "RATE_LIMITED")
    assert body["details"]["limit"] == 3 and body["details"]["period"] == "day"
    assert 1 <= int(refused.headers["Retry-After"]) <= 86_401


@pytest.mark.parametrize(
    "settings_overrides", [{"UPLOAD_DAILY_LIMIT": "0", "UPLOAD_RATE_PER_MINUTE": "0"}]
)
async def test_limits_can_be_turned_off(client, admin):
    for _ in range(12):
        assert (await create(client, admin)).status_code == 201
