"""PixelFlare images over HTTP: the two-step upload, cursor lists, edits, soft delete."""

import asyncio
import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from pixhaven.net.sigv4 import presign_url
from pixhaven.timeutil import iso, utcnow

from .conftest import assert_error_envelope, bearer
from .imagegen import image_bytes, unique_jpeg

# For tests that create more images than PixelFlare's 10-a-minute upload burst.
NO_UPLOAD_LIMITS = {"UPLOAD_RATE_PER_MINUTE": "0", "UPLOAD_DAILY_LIMIT": "0"}


async def create(client, headers, **body):
    body.setdefault("filename", "photo.jpg")
    response = await client.post("/v1/images", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def put_bytes(client, created, data, content_type="image/jpeg"):
    return await client.put(
        local_path(created["upload_url"]), content=data, headers={"Content-Type": content_type}
    )


async def upload(client, headers, data, **body):
    created = await create(client, headers, **body)
    response = await put_bytes(client, created, data)
    assert response.status_code == 200, response.text
    return response.json()


async def count_rows(env, sql="SELECT COUNT(*) AS n FROM images", *params):
    return (await env.DB.prepare(sql).bind(*params).first())["n"]


async def bucket_keys(env) -> list[str]:
    return [obj.key for obj in (await env.BUCKET.list())["objects"]]


# -- the documented upload workflow ----------------------------------------------------------


async def test_upload_workflow_as_documented(client, admin, env):
    response = await client.post(
        "/v1/images", headers=admin, json={"filename": "photo.jpg", "album": "photos"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "pending" and created["album"] == "photos"
    assert created["upload_url"].startswith("http://testserver/v1/uploads/" + created["id"])
    assert created["upload_expires_at"].endswith("Z")
    # Pending: invisible until its bytes arrive.
    assert (await client.get("/v1/images", headers=admin)).json()["data"] == []
    assert_error_envelope(await client.get(f"/v1/images/{created['id']}", headers=admin), 404)

    data = image_bytes(80, 60)
    put = await client.put(
        local_path(created["upload_url"]), content=data, headers={"Content-Type": "image/jpeg"}
    )  # no bearer token
    assert put.status_code == 200, put.text
    image = put.json()
    assert image["id"] == created["id"] and image["status"] == "ready"
    assert (image["width"], image["height"]) == (80, 60)
    assert image["cdn_url"] == "http://testserver/default_user/photos/photo.jpg"

    listed = (await client.get("/v1/images", headers=admin)).json()
    assert listed["next_cursor"] is None
    assert [item["id"] for item in listed["data"]] == [created["id"]]
    item = listed["data"][0]
    for field in (
        "id",
        "filename",
        "album",
        "owner",
        "content_type",
        "size",
        "tags",
        "is_private",
        "created_at",
        "cdn_url",
    ):
        assert field in item
    assert item["content_type"] == "image/jpeg" and item["size"] > 0
    assert (await client.get(f"/v1/images/{created['id']}", headers=admin)).json()["id"] == created[
        "id"
    ]
    assert any(
        key.startswith(f"images/landscape/{created['id']}.") for key in await bucket_keys(env)
    )


async def test_create_stores_metadata_and_detects_real_format(client, admin):
    created = await create(
        client,
        admin,
        filename="Beach Day.JPG",
        album="vacation",
        tags=["Beach", "summer"],
        alt="Sunset",
        is_private=True,
        turnstile_token="ignored",
    )
    assert created["tags"] == ["beach", "summer"] and created["alt"] == "Sunset"
    assert created["is_private"] is True and created["filename"] == "beach-day.jpg"
    response = await put_bytes(client, created, image_bytes(fmt="PNG"))
    image = response.json()
    # The name keeps the client's extension (its CDN URL is built from it); the
    # content type is the real format's.
    assert image["filename"] == "beach-day.jpg" and image["content_type"] == "image/png"
    assert image["tags"] == ["beach", "summer"] and image["album"] == "vacation"
    albums = await client.get("/v1/albums/vacation", headers=admin)
    assert albums.status_code in (200, 404)  # albums router may not be mounted yet


# -- the signed URL -----------------------------------------------------------------------------


async def test_tampered_signature_expiry_and_reuse(client, admin, env, app):
    created = await create(client, admin)
    path, _, query = local_path(created["upload_url"]).partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    data = unique_jpeg(1)

    bad_sig = params["signature"][:-1] + ("0" if params["signature"][-1] != "0" else "1")
    for tampered in (
        f"{path}?expires={params['expires']}&signature={bad_sig}",
        f"{path}?expires={int(params['expires']) + 60}&signature={params['signature']}",
        f"{path}?expires={params['expires']}",
        f"{path}?signature={params['signature']}",
        # Digits to str.isdigit(), not to a URL: "²" (which int() refuses) and "٣".
        f"{path}?expires=%C2%B2&signature={params['signature']}",
        f"{path}?expires=%D9%A3&signature={params['signature']}",
        path,
        f"/v1/uploads/{'0' * 8}-0000-4000-8000-{'0' * 12}?{query}",
    ):
        response = await client.put(tampered, content=data)
        assert_error_envelope(response, 403, "FORBIDDEN")
    assert await count_rows(env, "SELECT COUNT(*) AS n FROM images WHERE status = 'pending'") == 1
    assert await bucket_keys(env) == []

    # Expired: a correctly signed URL whose time has passed.
    from pixhaven.services.images.upload_urls import signature
    from pixhaven.settings import Settings

    settings = Settings.from_env(env)
    past = int((utcnow() - timedelta(seconds=1)).timestamp())
    expired = f"{path}?expires={past}&signature={signature(settings, created['id'], past)}"
    body = assert_error_envelope(await client.put(expired, content=data), 403, "FORBIDDEN")
    assert body["details"]["expired"] is True

    # Works once.
    assert (await put_bytes(client, created, data)).status_code == 200
    again = await put_bytes(client, created, unique_jpeg(2))
    assert_error_envelope(again, 409, "CONFLICT")
    assert (await client.get(f"/v1/images/{created['id']}", headers=admin)).json()["size"] > 0


async def test_invalid_bytes_leave_row_pending_and_no_objects(client, admin, env):
    created = await create(client, admin)
    for junk in (b"not an image at all", image_bytes()[:200], b"<svg></svg>"):
        response = await put_bytes(client, created, junk)
        assert 400 <= response.status_code < 500, response.text
        assert_error_envelope(response, response.status_code)
    row = await env.DB.prepare("SELECT status FROM images WHERE id = ?").bind(created["id"]).first()
    assert row["status"] == "pending"
    assert await bucket_keys(env) == []
    # The same URL still works with good bytes.
    assert (await put_bytes(client, created, unique_jpeg(3))).status_code == 200


async def test_same_bytes_complete_their_own_image(client, admin, env):
    data = unique_jpeg(4)
    first = await upload(client, admin, data, tags=["one"])
    created = await create(client, admin, filename="copy.jpg", tags=["two"])
    response = await put_bytes(client, created, data)
    assert response.status_code == 200
    second = response.json()
    assert second["id"] == created["id"] != first["id"]
    assert second["filename"] == "copy.jpg" and second["tags"] == ["two"]
    assert await count_rows(env) == 2
    listed = (await client.get("/v1/images", headers=admin)).json()["data"]
    assert [item["id"] for item in listed] == [second["id"], first["id"]]
    assert len([key for key in await bucket_keys(env) if key.startswith("images/")]) == 3
    # The upload URL was used like any other.
    assert_error_envelope(await put_bytes(client, created, unique_jpeg(5)), 409)


async def test_upload_route_needs_signature_not_bearer(client, admin):
    created = await create(client, admin)
    response = await client.put(
        f"/v1/uploads/{created['id']}", content=unique_jpeg(6), headers=admin
    )
    assert_error_envelope(response, 403)


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"filename": "a.jpg", "tags": ["bad tag!"]},
        {"filename": "a.jpg", "tags": 5},
        {"filename": "a.jpg", "album": "Not A Slug!"},
        {"filename": "a.jpg", "is_private": "yes"},
        {"filename": ""},
        {"filename": 12},
        {"filename": "a.jpg", "alt": "x" * 1001},
        {"filename": "a.jpg", "album": "new-album", "tags": ["ok", "not ok"]},
    ],
)
async def test_create_validation_errors_write_nothing(client, admin, env, body):
    response = await client.post("/v1/images", json=body, headers=admin)
    assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert await count_rows(env) == 0
    assert await count_rows(env, "SELECT COUNT(*) AS n FROM albums") == 0
    assert await count_rows(env, "SELECT COUNT(*) AS n FROM tags") == 0


async def test_create_rejects_non_json(client, admin):
    response = await client.post(
        "/v1/images", content=b"nope", headers={**admin, "Content-Type": "application/json"}
    )
    assert_error_envelope(response, 400, "INVALID_REQUEST")


async def test_scopes(client, make_key):
    reader, _ = await make_key(["images:read"])
    assert_error_envelope(
        await client.post("/v1/images", json={"filename": "a.jpg"}, headers=bearer(reader)), 403
    )
    assert_error_envelope(await client.get("/v1/images"), 401)


# -- listing -------------------------------------------------------------------------------------


async def test_filter_by_album_and_tag(client, admin):
    beach = await upload(
        client, admin, unique_jpeg(10), filename="beach.jpg", album="vacation", tags=["beach"]
    )
    city = await upload(
        client, admin, unique_jpeg(11), filename="city.jpg", album="vacation", tags=["city"]
    )
    other = await upload(client, admin, unique_jpeg(12), album="photos", tags=["beach"])

    async def ids(query):
        response = await client.get(f"/v1/images?{query}", headers=admin)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    assert await ids("album=vacation") == [city["id"], beach["id"]]
    assert await ids("tag=beach") == [other["id"], beach["id"]]
    assert await ids("tag=BEACH&album=vacation") == [beach["id"]]
    assert await ids("album=nope") == []
    assert await ids("tag=nothing") == []


async def test_list_validation(client, admin):
    bad = ("limit=0", "limit=abc", "cursor=%%%", "cursor=bm9wZQ", "include_deleted=maybe")
    # Integers as a URL writes them: int() would read "٣" as 3 and "1_0" as 10.
    for query in (*bad, "limit=%D9%A3", "limit=1_0", "limit=%2B10"):
        assert_error_envelope(
            await client.get(f"/v1/images?{query}", headers=admin), 400, "INVALID_REQUEST"
        )
    response = await client.get("/v1/images?limit=1000", headers=admin)
    assert response.status_code == 200


@pytest.mark.parametrize("settings_overrides", [NO_UPLOAD_LIMITS])  # more than the burst
async def test_cursor_pagination_under_concurrent_inserts(client, admin):
    originals = [(await upload(client, admin, unique_jpeg(100 + n)))["id"] for n in range(7)]
    seen, cursor, inserted = [], None, []
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/v1/images?{query}", headers=admin)).json()
        seen += [item["id"] for item in page["data"]]
        # Someone uploads while we page (and a pending one completes).
        inserted.append((await upload(client, admin, unique_jpeg(200 + len(inserted))))["id"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    full = (await client.get("/v1/images?limit=100", headers=admin)).json()
    assert len(full["data"]) == len(originals) + len(inserted) and full["next_cursor"] is None
    # Exactly the images that existed when paging began, once each, in list order.
    assert seen == [item["id"] for item in full["data"] if item["id"] in set(originals)]
    assert sorted(seen) == sorted(originals)


async def test_pending_upload_completed_while_paging_is_not_skipped(client, admin):
    early = await create(client, admin, filename="early.jpg")  # created before the others
    others = [(await upload(client, admin, unique_jpeg(300 + n)))["id"] for n in range(4)]
    first = (await client.get("/v1/images?limit=2", headers=admin)).json()
    assert (await put_bytes(client, early, unique_jpeg(399))).status_code == 200
    # It became visible after paging began: it is the newest now, not hidden behind the
    # cursor, so a fresh first page shows it and the ongoing walk neither skips nor repeats.
    rest = (
        await client.get(f"/v1/images?limit=10&cursor={first['next_cursor']}", headers=admin)
    ).json()
    walked = [i["id"] for i in first["data"] + rest["data"]]
    assert walked == list(reversed(others))
    fresh = (await client.get("/v1/images?limit=1", headers=admin)).json()
    assert fresh["data"][0]["id"] == early["id"]


@pytest.mark.parametrize("settings_overrides", [NO_UPLOAD_LIMITS])  # more than the burst
async def test_parallel_inserts_while_paging(client, admin):
    originals = {(await upload(client, admin, unique_jpeg(500 + n)))["id"] for n in range(9)}
    seen, cursor = [], None

    async def insert(n):
        return (await upload(client, admin, unique_jpeg(600 + n)))["id"]

    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page, *_ = await asyncio.gather(
            client.get(f"/v1/images?{query}", headers=admin),
            *(insert(len(seen) * 3 + k) for k in range(3)),
        )
        body = page.json()
        seen += [item["id"] for item in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert originals <= set(seen)


# -- single image, edits, delete, restore -----------------------------------------------------


async def test_get_unknown_malformed_and_foreign(client, admin, make_key):
    mine = await upload(client, admin, unique_jpeg(20))
    other_key, _ = await make_key(["images:read", "images:write"], owner="bob")
    other = bearer(other_key)
    for image_id in ("abc123", "00000000-0000-4000-8000-000000000000"):
        assert_error_envelope(
            await client.get(f"/v1/images/{image_id}", headers=admin), 404, "NOT_FOUND"
        )
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/restore")):
        response = await client.request(
            method,
            f"/v1/images/{mine['id']}{suffix}",
            headers=other,
            json={"alt": "x"} if method == "PATCH" else None,
        )
        assert_error_envelope(response, 404, "NOT_FOUND")
    assert (await client.get("/v1/images", headers=other)).json()["data"] == []
    bobs = await upload(client, other, unique_jpeg(20))  # same bytes, other owner: not a dup
    assert bobs["id"] != mine["id"] and bobs["owner"] == "bob"
    assert [i["id"] for i in (await client.get("/v1/images", headers=admin)).json()["data"]] == [
        mine["id"]
    ]


async def test_patch_fields(client, admin):
    image = await upload(
        client, admin, unique_jpeg(30), filename="beach.jpg", album="vacation", tags=["beach"]
    )
    response = await client.patch(
        f"/v1/images/{image['id']}",
        headers=admin,
        json={
            "filename": "Beach Sunset.png",
            "album": "photos",
            "tags": ["beach", "Sunset"],
            "alt": "Beautiful sunset",
        },
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    # Sanitised; the client's image extension is kept (its CDN URL is built from it).
    assert patched["filename"] == "beach-sunset.png" and patched["content_type"] == "image/jpeg"
    assert patched["album"] == "photos" and patched["tags"] == ["beach", "sunset"]
    assert patched["alt"] == "Beautiful sunset"
    assert patched["cdn_url"].endswith("/default_user/photos/beach-sunset.png")

    patched = (
        await client.patch(
            f"/v1/images/{image['id']}", headers=admin, json={"is_private": True, "album": None}
        )
    ).json()
    assert patched["is_private"] is True and patched["album"] is None
    assert patched["tags"] == ["beach", "sunset"] and patched["alt"] == "Beautiful sunset"
    assert (await client.get("/v1/images?tag=sunset", headers=admin)).json()["data"][0][
        "id"
    ] == image["id"]


async def test_patch_validation_and_filename_uniqueness(client, admin, env):
    first = await upload(client, admin, unique_jpeg(31), filename="one.jpg", album="a")
    second = await upload(client, admin, unique_jpeg(32), filename="two.jpg", album="a")
    clash = await client.patch(
        f"/v1/images/{second['id']}", headers=admin, json={"filename": "one.jpg"}
    )
    assert_error_envelope(clash, 409)
    for body in (
        {"filename": ""},
        {"filename": None},
        {"is_private": "no"},
        {"is_private": None},
        {"tags": ["no way"]},
        {"album": "Bad Slug"},
        {"alt": 5},
        {"album": "fresh-album", "tags": ["x y"]},
    ):
        response = await client.patch(f"/v1/images/{second['id']}", headers=admin, json=body)
        assert_error_envelope(response, 400, "INVALID_REQUEST")
    after = (await client.get(f"/v1/images/{second['id']}", headers=admin)).json()
    assert after["filename"] == "two.jpg" and after["album"] == "a"
    assert await count_rows(env, "SELECT COUNT(*) AS n FROM albums WHERE slug = 'fresh-album'") == 0
    # Same filename in another album is fine; renaming to itself too.
    moved = await client.patch(
        f"/v1/images/{second['id']}", headers=admin, json={"filename": "one.jpg", "album": "b"}
    )
    assert moved.status_code == 200 and moved.json()["filename"] == "one.jpg"
    same = await client.patch(
        f"/v1/images/{first['id']}", headers=admin, json={"filename": "one.jpg"}
    )
    assert same.status_code == 200


async def test_delete_and_restore(client, admin, env):
    image = await upload(client, admin, unique_jpeg(40), tags=["t"])
    deleted = await client.delete(f"/v1/images/{image['id']}", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["deleted_at"] is not None
    assert (await client.get("/v1/images", headers=admin)).json()["data"] == []
    assert (await client.get("/v1/images?tag=t", headers=admin)).json()["data"] == []
    assert_error_envelope(await client.get(f"/v1/images/{image['id']}", headers=admin), 404)
    assert_error_envelope(await client.delete(f"/v1/images/{image['id']}", headers=admin), 404)
    shown = await client.get(f"/v1/images/{image['id']}?include_deleted=true", headers=admin)
    assert shown.status_code == 200 and shown.json()["deleted_at"] is not None
    listed = (await client.get("/v1/images?include_deleted=true", headers=admin)).json()["data"]
    assert [item["id"] for item in listed] == [image["id"]]

    restored = await client.post(f"/v1/images/{image['id']}/restore", headers=admin)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    assert [i["id"] for i in (await client.get("/v1/images", headers=admin)).json()["data"]] == [
        image["id"]
    ]

    # Past retention: 410.
    await client.delete(f"/v1/images/{image['id']}", headers=admin)
    long_ago = iso(utcnow() - timedelta(days=31))
    await (
        env.DB.prepare("UPDATE images SET deleted_at = ? WHERE id = ?")
        .bind(long_ago, image["id"])
        .run()
    )
    assert_error_envelope(
        await client.post(f"/v1/images/{image['id']}/restore", headers=admin), 410
    )


async def test_deleting_a_pending_upload_cancels_it(client, admin, env):
    created = await create(client, admin, tags=["waiting"], alt="Soon")
    response = await client.delete(f"/v1/images/{created['id']}", headers=admin)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["id"] == created["id"] and cancelled["status"] == "pending"
    assert cancelled["deleted_at"] is not None and cancelled["tags"] == ["waiting"]
    # Its upload URL now answers what a URL whose image no longer exists answers.
    put = await put_bytes(client, created, unique_jpeg(45))
    body = assert_error_envelope(put, 410, "GONE")
    assert body["error"] == "This upload URL is no longer valid"
    # Gone at once, with its tag link: nothing to show, restore or delete again.
    assert await count_rows(env) == 0
    assert await count_rows(env, "SELECT COUNT(*) AS n FROM image_tags") == 0
    assert await bucket_keys(env) == []
    for response in (
        await client.get(f"/v1/images/{created['id']}?include_deleted=true", headers=admin),
        await client.post(f"/v1/images/{created['id']}/restore", headers=admin),
        await client.delete(f"/v1/images/{created['id']}", headers=admin),
    ):
        assert_error_envelope(response, 404)
    assert (await client.get("/v1/tags", headers=admin)).json()["data"] == [
        {"tag": "waiting", "count": 0}
    ]


async def test_another_owner_cannot_cancel_a_pending_upload(client, admin, make_key):
    created = await create(client, admin)
    key, _ = await make_key(["images:write"], owner="mallory")
    response = await client.delete(f"/v1/images/{created['id']}", headers=bearer(key))
    assert_error_envelope(response, 404)
    assert (await put_bytes(client, created, unique_jpeg(46))).status_code == 200


async def test_unfinished_uploads_are_purged_by_cron(client, admin, env):
    from pixhaven.worker import run_scheduled

    created = await create(client, admin, tags=["pending-tag"])
    assert (await run_scheduled(env))["unfinished_uploads_purged"] == 0
    old = iso(utcnow() - timedelta(hours=3))
    await (
        env.DB.prepare("UPDATE images SET updated_at = ? WHERE id = ?")
        .bind(old, created["id"])
        .run()
    )
    assert (await run_scheduled(env))["unfinished_uploads_purged"] == 1
    assert await count_rows(env) == 0
    assert await count_rows(env, "SELECT COUNT(*) AS n FROM image_tags") == 0


# -- R2 presigned uploads ------------------------------------------------------------------------

R2_SETTINGS = {
    "R2_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "R2_SECRET_ACCESS_KEY": "secretkey",
    "R2_ACCOUNT_ID": "acct123",
    "R2_BUCKET_NAME": "pixhaven",
}


@pytest.mark.parametrize("settings_overrides", [R2_SETTINGS])
async def test_r2_presigned_upload_completed_on_first_read(client, admin, env):
    created = await create(client, admin)
    url = urlsplit(created["upload_url"])
    assert url.netloc == "acct123.r2.cloudflarestorage.com"
    assert url.path == f"/pixhaven/uploads/{created['id']}"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["900"] and query["X-Amz-SignedHeaders"] == ["host"]
    # Not uploaded yet.
    assert_error_envelope(await client.get(f"/v1/images/{created['id']}", headers=admin), 404)
    # The client PUTs to R2 (simulated: the object appears in the bucket).
    await env.BUCKET.put(f"uploads/{created['id']}", image_bytes(40, 90))
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready" and response.json()["height"] == 90
    assert f"uploads/{created['id']}" not in await bucket_keys(env)
    assert [i["id"] for i in (await client.get("/v1/images", headers=admin)).json()["data"]] == [
        created["id"]
    ]


@pytest.mark.parametrize("settings_overrides", [R2_SETTINGS])
async def test_r2_presigned_upload_cancelled_before_it_is_read(client, admin, env):
    """DELETE cancels even when the bytes already sit in the bucket: they go too, and the
    image is never completed from them."""
    from pixhaven.services.jobs.queue import enqueue, run_job

    created = await create(client, admin)
    await env.BUCKET.put(f"uploads/{created['id']}", unique_jpeg(47))
    response = await client.delete(f"/v1/images/{created['id']}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["deleted_at"] is not None
    assert await bucket_keys(env) == []
    assert_error_envelope(await client.get(f"/v1/images/{created['id']}", headers=admin), 404)
    # A completion queued by R2's event finds nothing to complete.
    job_id = await enqueue(env, "upload.complete", {"image_id": created["id"]})
    await run_job(env, job_id)
    assert await count_rows(env) == 0


@pytest.mark.parametrize("settings_overrides", [R2_SETTINGS])
async def test_r2_event_notification_completes_upload(client, admin, env):
    from pixhaven.services.jobs.queue import handle_queue_batch, run_job

    created = await create(client, admin)
    await env.BUCKET.put(f"uploads/{created['id']}", unique_jpeg(50))

    class Message:
        def __init__(self, body):
            self.body, self.acked = body, False

        def ack(self):
            self.acked = True

    class Batch:
        queue = "pixhaven-jobs"

        def __init__(self, messages):
            self.messages = messages

    event = Message(
        {
            "account": "acct123",
            "bucket": "pixhaven",
            "action": "PutObject",
            "eventTime": "2025-01-01T00:00:00Z",
            "object": {"key": f"uploads/{created['id']}", "size": 1, "eTag": "x"},
        }
    )
    await handle_queue_batch(env, Batch([event]))
    assert event.acked
    # The event became a durable job; run it now rather than wait for the queue's batch
    # timeout (whichever runs first claims it, the other skips).
    job = await env.DB.prepare(
        "SELECT id, payload FROM jobs WHERE kind = 'upload.complete'"
    ).first()
    assert created["id"] in job["payload"]
    await run_job(env, job["id"])
    row = await env.DB.prepare("SELECT status FROM images WHERE id = ?").bind(created["id"]).first()
    assert row["status"] == "ready"
    assert (await client.get(f"/v1/images/{created['id']}", headers=admin)).status_code == 200


# -- SigV4 ----------------------------------------------------------------------------------------


def test_sigv4_presign_matches_aws_documented_example():
    """AWS S3 API reference, "Authenticating Requests: Using Query Parameters (AWS Signature
    Version 4)": GET examplebucket/test.txt, 2013-05-24, us-east-1, 86400 s."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    url = presign_url(
        method="GET",
        host="examplebucket.s3.amazonaws.com",
        path="/test.txt",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key=secret,
        region="us-east-1",
        expires_seconds=86400,
        now=datetime(2013, 5, 24, tzinfo=timezone.utc),
    )
    documented = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    assert url == (
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={documented}"
    )

    # The same signature computed here step by step from the documented canonical request.
    canonical_request = (
        "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
        "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
        "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n"
        "\nhost\nUNSIGNED-PAYLOAD"
    )
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    assert digest == "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
    string_to_sign = (
        f"AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{digest}"
    )
    key = ("AWS4" + secret).encode()
    for part in ("20130524", "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    assert hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest() == documented


def test_sigv4_put_encodes_key_and_uses_r2_region():
    url = presign_url(
        method="PUT",
        host="acct.r2.cloudflarestorage.com",
        path="/bucket/uploads/a b+c",
        access_key_id="k",
        secret_access_key="s",
        region="auto",
        expires_seconds=900,
        now=datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc),
    )
    assert url.startswith("https://acct.r2.cloudflarestorage.com/bucket/uploads/a%20b%2Bc?")
    assert "X-Amz-Credential=k%2F20250101%2Fauto%2Fs3%2Faws4_request" in url


def test_cursor_is_opaque_base64url():
    from pixhaven.services.images.pixelflare_resource import decode_cursor, encode_cursor

    row = {"created_at": "2025-01-01T00:00:00.000Z", "id": "12345678-1234-4234-8234-123456789012"}
    cursor = encode_cursor(row)
    assert "=" not in cursor and "|" not in cursor
    assert (
        base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        == f"{row['created_at']}|{row['id']}"
    )
    assert decode_cursor(cursor) == (row["created_at"], row["id"])


async def test_storage_failure_leaves_row_pending_and_no_objects(client, admin, env, monkeypatch):
    created = await create(client, admin)
    real_put, calls = env.BUCKET.put, []

    async def failing_put(key, value, **options):
        calls.append(key)
        if len(calls) == 2:
            raise RuntimeError("R2 is down")
        return await real_put(key, value, **options)

    monkeypatch.setattr(env.BUCKET, "put", failing_put)
    response = await put_bytes(client, created, unique_jpeg(60))
    assert_error_envelope(response, 500)
    monkeypatch.setattr(env.BUCKET, "put", real_put)
    row = await env.DB.prepare("SELECT status FROM images WHERE id = ?").bind(created["id"]).first()
    assert row["status"] == "pending" and await bucket_keys(env) == []
    assert (await put_bytes(client, created, unique_jpeg(60))).status_code == 200


async def test_concurrent_puts_to_one_url_complete_it_once(client, admin, env):
    created = await create(client, admin)
    responses = await asyncio.gather(
        *(put_bytes(client, created, unique_jpeg(70 + n)) for n in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409}, statuses
    winner = next(r.json() for r in responses if r.status_code == 200)
    stored = await env.BUCKET.get(f"images/landscape/{created['id']}.jpg")
    assert bytes(await stored.arrayBuffer()) is not None
    assert len([k for k in await bucket_keys(env) if created["id"] in k]) == 3  # jpg+webp+avif
    assert (await client.get(f"/v1/images/{created['id']}", headers=admin)).json()[
        "size"
    ] == winner["size"]
