"""PixelFlare's documented limits: "Upload: 10 requests/minute burst, 1000/day" per owner
(429 RATE_LIMITED with Retry-After on POST /v1/images) and "FILE_TOO_LARGE - File exceeds
100MB limit" where the bytes go straight to R2."""

from datetime import timedelta

import pytest

from pixhaven.timeutil import iso, utcnow

from .conftest import assert_error_envelope, bearer
from .imagegen import unique_jpeg
from .test_pixelflare_images import R2_SETTINGS


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


# -- FILE_TOO_LARGE where the bytes go straight to R2 ------------------------------------------


def r2_settings(**more: str) -> dict[str, str]:
    return {**R2_SETTINGS, **more}


async def put_into_r2(client, admin, env, data: bytes) -> str:
    """POST /v1/images, then the client's presigned PUT (simulated: the object appears)."""
    created = await create(client, admin)
    assert created.status_code == 201, created.text
    image_id = created.json()["id"]
    assert "r2.cloudflarestorage.com" in created.json()["upload_url"]
    await env.BUCKET.put(f"uploads/{image_id}", data)
    return image_id


@pytest.mark.parametrize("settings_overrides", [r2_settings(MAX_UPLOAD_BYTES="500")])
async def test_presigned_upload_is_not_held_to_the_workers_limit(client, admin, env):
    """The default 100 MB applies to bytes that never passed through the Worker: a file
    past MAX_UPLOAD_BYTES completes."""
    data = unique_jpeg(61)
    assert len(data) > 500
    image_id = await put_into_r2(client, admin, env, data)
    response = await client.get(f"/v1/images/{image_id}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


@pytest.mark.parametrize("settings_overrides", [r2_settings(DIRECT_UPLOAD_MAX_BYTES="500")])
async def test_presigned_upload_past_its_limit_is_file_too_large(client, admin, env):
    data = unique_jpeg(61)
    assert len(data) > 500
    image_id = await put_into_r2(client, admin, env, data)
    body = assert_error_envelope(
        await client.get(f"/v1/images/{image_id}", headers=admin), 413, "FILE_TOO_LARGE"
    )
    assert body["details"]["max_bytes"] == 500
    assert f"uploads/{image_id}" not in [o.key for o in (await env.BUCKET.list())["objects"]]
    # The image stays unfinished (not listed), as with any rejected bytes.
    assert (await client.get("/v1/images", headers=admin)).json()["data"] == []


def test_the_documented_100_mb_is_the_default():
    from pixhaven.settings import Settings

    assert Settings().direct_upload_max_bytes == 100 * 1024 * 1024
    assert Settings().max_upload_bytes == 15 * 1024 * 1024  # what a Worker isolate processes
