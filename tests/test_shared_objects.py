"""Identical re-uploads (issue 9, item 8): each is a new image — own id, tags, album,
filename, expiry, visibility — answered like any new upload, while the bucket holds one copy
of the bytes, shared by reference. Deleting one image (soft delete then purge, expiry,
the cron) keeps the other fully servable; the last one gone takes the objects with it.

Everything goes through the HTTP API with real images; the cron is `run_scheduled`, as the
Worker's scheduled handler calls it. Retention is 0 days, so POST /api/cleanup purges a
deleted image at once, and the orphan grace period is 0, so the cron's sweep and its
removal of interrupted writes look at everything (the most dangerous setting for shared
objects).
"""

import json
import uuid
from urllib.parse import urlsplit

import pytest

from pixhaven.worker import run_scheduled

from .conftest import assert_error_envelope
from .imagegen import unique_jpeg, upload

LONG_AGO = "2020-01-01T00:00:00.000Z"


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return {"SOFT_DELETE_RETENTION_DAYS": "0", "ORPHAN_GRACE_SECONDS": "0"}


async def keys_in(env, prefix: str = "") -> set[str]:
    found, options = set(), {"prefix": prefix}
    while True:
        listing = await env.BUCKET.list(**options)
        found |= {obj.key for obj in listing["objects"]}
        if not listing["truncated"]:
            return found
        options = {"prefix": prefix, "cursor": listing["cursor"]}


async def count(env, sql: str) -> int:
    return (await env.DB.prepare(sql).first())["n"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def served(client, url: str) -> bytes:
    response = await client.get(path_of(url))
    assert response.status_code == 200, (url, response.text[:200])
    return response.content


async def not_served(client, url: str) -> None:
    assert_error_envelope(await client.get(path_of(url)), 404)


async def cattopic_upload(client, headers, data: bytes, **fields) -> dict:
    response = await upload(client, headers, data, **fields)
    assert response.status_code == 200, response.text
    return response.json()["result"]


async def two_step(client, headers, data: bytes, **body) -> dict:
    """PixelFlare's documented upload: POST /v1/images, then PUT the bytes to upload_url."""
    created = await client.post("/v1/images", json=body, headers=headers)
    assert created.status_code == 201, created.text
    response = await client.put(
        path_of(created.json()["upload_url"]), content=data, headers={"Content-Type": "image/jpeg"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == created.json()["id"]
    return response.json()


def urls_of(result: dict) -> list[str]:
    """Every URL a CattoPic upload answer gives (original, WebP, AVIF)."""
    return [url for url in result["urls"].values() if url]


def transformation(url: str) -> str:
    return f"/cdn-cgi/image/width=16,format=webp/{path_of(url)}"


async def cleanup(client, admin) -> int:
    response = await client.post("/api/cleanup", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["deletedCount"]


async def assert_nothing_left(env) -> None:
    assert await keys_in(env, "images/") == set()
    assert await keys_in(env, "variants/") == set()
    assert await count(env, "SELECT COUNT(*) AS n FROM images") == 0
    assert await count(env, "SELECT COUNT(*) AS n FROM image_tags") == 0
    assert await count(env, "SELECT COUNT(*) AS n FROM pending_writes") == 0


# -- CattoPic --------------------------------------------------------------------------------


async def test_cattopic_identical_uploads_are_two_images_sharing_one_copy(client, admin, env):
    data = unique_jpeg(301, 96, 64)
    first = await cattopic_upload(client, admin, data, tags="cats")
    second = await cattopic_upload(client, admin, data, tags="dogs", expiry_minutes=60)
    # Two images, each answered as a new upload with its own id, tags and expiry.
    assert first["id"] != second["id"]
    assert (first["tags"], second["tags"]) == (["cats"], ["dogs"])
    assert first["expiryTime"] is None and second["expiryTime"] is not None
    assert all(second["id"] in url for url in urls_of(second))
    assert first["sizes"] == second["sizes"] and first["placeholder"] == second["placeholder"]
    listing = (await client.get("/api/images", headers=admin)).json()
    assert listing["total"] == 2
    assert {image["id"]: image["tags"] for image in listing["images"]} == {
        first["id"]: ["cats"],
        second["id"]: ["dogs"],
    }
    tagged = (await client.get("/api/images?tag=dogs", headers=admin)).json()
    assert [image["id"] for image in tagged["images"]] == [second["id"]] and tagged["total"] == 1
    # One copy of the bytes: an original, a WebP and an AVIF.
    assert len(await keys_in(env, "images/")) == 3
    for mine, theirs in zip(urls_of(first), urls_of(second), strict=True):
        assert await served(client, mine) == await served(client, theirs)
    before = {url: await served(client, url) for url in urls_of(second)}
    assert (await client.get(transformation(second["urls"]["webp"]))).status_code == 200

    # The first one deleted and purged: the second serves every URL its upload gave.
    assert (await client.delete(f"/api/images/{first['id']}", headers=admin)).status_code == 200
    for url in urls_of(first):
        await not_served(client, url)  # its own URLs stop at once, though the bytes stay
    assert await cleanup(client, admin) == 1
    await run_scheduled(env)
    for url in urls_of(first):
        await not_served(client, url)
    assert len(await keys_in(env, "images/")) == 3
    for url, body in before.items():
        assert await served(client, url) == body
    response = await client.get(transformation(second["urls"]["original"]))
    assert response.status_code == 200 and response.content[8:12] == b"WEBP"
    details = await client.get(f"/api/images/{second['id']}", headers=admin)
    assert details.status_code == 200 and details.json()["image"]["tags"] == ["dogs"]

    # The last one gone: nothing left of either.
    assert (await client.delete(f"/api/images/{second['id']}", headers=admin)).status_code == 200
    assert await cleanup(client, admin) == 1
    await run_scheduled(env)
    await assert_nothing_left(env)


async def test_tags_of_sharing_images_are_renamed_counted_and_deleted_per_image(client, admin, env):
    data = unique_jpeg(314)
    first = await cattopic_upload(client, admin, data, tags="sea")
    second = await cattopic_upload(client, admin, data, tags="sky,sea")
    renamed = await client.put("/api/tags/sky", json={"newName": "clouds"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    tags = (await client.get("/api/tags", headers=admin)).json()["tags"]
    assert {tag["name"]: tag["count"] for tag in tags} == {"clouds": 1, "sea": 2}
    for image, expected in ((first, ["sea"]), (second, ["clouds", "sea"])):
        details = (await client.get(f"/api/images/{image['id']}", headers=admin)).json()
        assert sorted(details["image"]["tags"]) == expected
    # Deleting a tag deletes the images carrying it: here only the second.
    deleted = await client.delete("/api/tags/clouds", headers=admin)
    assert deleted.json()["deletedImages"] == 1
    assert await cleanup(client, admin) == 1
    await run_scheduled(env)
    for url in urls_of(first):
        await served(client, url)
    assert (await client.get("/api/images", headers=admin)).json()["total"] == 1


async def test_the_cron_purges_expired_sharing_images_one_by_one(client, admin, env):
    data = unique_jpeg(302)
    first = await cattopic_upload(client, admin, data, expiry_minutes=5)
    second = await cattopic_upload(client, admin, data, expiry_minutes=5)
    expire = "UPDATE images SET expires_at = ? WHERE id = ?"
    await env.DB.prepare(expire).bind(LONG_AGO, first["id"]).run()  # its time has come
    assert (await run_scheduled(env))["images_purged"] == 1
    assert len(await keys_in(env, "images/")) == 3
    for url in urls_of(second):
        await served(client, url)
    await env.DB.prepare(expire).bind(LONG_AGO, second["id"]).run()
    for url in urls_of(second):
        await not_served(client, url)  # expired: hidden before the cron comes
    summary = await run_scheduled(env)
    assert summary["images_purged"] == 1
    await assert_nothing_left(env)


async def test_visibility_and_expiry_stay_per_image(client, admin, env):
    """A private (or expired) image is not served through the URLs of an image it shares
    bytes with, nor the other way round; the stored key is only ever its first image's
    address, checked against that image."""
    data = unique_jpeg(303)
    public = await cattopic_upload(client, admin, data)
    private = await two_step(client, admin, data, filename="secret.jpg", is_private=True)
    assert private["is_private"] is True and len(await keys_in(env, "images/")) == 3
    await not_served(client, private["cdn_url"])
    await not_served(client, private["short_url"])
    await not_served(client, f"/r2/images/landscape/{private['id']}.jpg")
    for url in urls_of(public):
        await served(client, url)
    # The other way round: the first image private, the re-upload public.
    other = unique_jpeg(304)
    hidden = await two_step(client, admin, other, filename="hidden.jpg", is_private=True)
    shown = await cattopic_upload(client, admin, other)
    assert len(await keys_in(env, "images/")) == 6
    await not_served(client, hidden["cdn_url"])
    await not_served(client, f"/r2/images/landscape/{hidden['id']}.jpg")
    for url in urls_of(shown):
        await served(client, url)
    # Expiry: the re-upload expired, the first still shown.
    await (
        env.DB.prepare("UPDATE images SET expires_at = ? WHERE id = ?")
        .bind(LONG_AGO, shown["id"])
        .run()
    )
    for url in urls_of(shown):
        await not_served(client, url)
    response = await client.get(f"/v1/images/{hidden['id']}", headers=admin)
    assert response.status_code == 200 and response.json()["status"] == "ready"


# -- PixelFlare --------------------------------------------------------------------------------


async def test_pixelflare_two_step_reupload_lands_where_it_was_asked(client, admin, env):
    data = unique_jpeg(305, 200, 120)
    first = await two_step(client, admin, data, filename="cat.jpg", album="one", tags=["a"])
    second = await two_step(client, admin, data, filename="kitty.jpg", album="two", tags=["b"])
    assert second["id"] != first["id"]
    assert (second["album"], second["filename"], second["tags"]) == ("two", "kitty.jpg", ["b"])
    assert (first["album"], first["filename"], first["tags"]) == ("one", "cat.jpg", ["a"])
    assert second["cdn_url"].endswith("/two/kitty.jpg")
    assert len(await keys_in(env, "images/")) == 3
    listed = (await client.get("/v1/images", headers=admin)).json()["data"]
    assert [image["id"] for image in listed] == [second["id"], first["id"]]
    thumb = second["cdn_url"] + "/thumb"
    original = await served(client, second["cdn_url"])
    assert await served(client, first["cdn_url"]) == original
    await served(client, thumb)  # generated from the shared original, cached as its own

    # Edits of one leave the other alone: rename, album move, tags.
    response = await client.patch(
        f"/v1/images/{first['id']}",
        json={"filename": "renamed.jpg", "album": "three", "tags": ["c"]},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert (moved["album"], moved["filename"], moved["tags"]) == ("three", "renamed.jpg", ["c"])
    assert await served(client, moved["cdn_url"]) == original
    assert await served(client, second["cdn_url"]) == original
    again = (await client.get(f"/v1/images/{second['id']}", headers=admin)).json()
    assert (again["album"], again["filename"], again["tags"]) == ("two", "kitty.jpg", ["b"])

    # Deleted and purged: the other keeps its CDN path, short URL and variants.
    assert (await client.delete(f"/v1/images/{first['id']}", headers=admin)).status_code == 200
    assert await cleanup(client, admin) == 1
    await run_scheduled(env)
    await not_served(client, moved["cdn_url"])
    assert await served(client, second["cdn_url"]) == original
    assert await served(client, second["short_url"]) == original
    await served(client, thumb)
    await served(client, second["cdn_url"] + "/og-image")
    assert len(await keys_in(env, "images/")) == 3

    assert (await client.delete(f"/v1/images/{second['id']}", headers=admin)).status_code == 200
    await run_scheduled(env)  # the cron's purge this time
    await assert_nothing_left(env)


@pytest.mark.parametrize("settings_overrides", [{"ORPHAN_GRACE_SECONDS": "0"}])
async def test_a_deleted_image_is_restored_beside_its_identical_reupload(client, admin, env):
    """Restoring used to be refused while an identical image was live (one per content);
    now each is restored like any image, and serves again."""
    data = unique_jpeg(313)
    first = await two_step(client, admin, data, filename="one.jpg", album="pics")
    assert (await client.delete(f"/v1/images/{first['id']}", headers=admin)).status_code == 200
    await not_served(client, first["cdn_url"])
    second = await two_step(client, admin, data, filename="two.jpg", album="pics")
    restored = await client.post(f"/v1/images/{first['id']}/restore", headers=admin)
    assert restored.status_code == 200, restored.text
    assert await served(client, first["cdn_url"]) == await served(client, second["cdn_url"])
    assert len(await keys_in(env, "images/")) == 3
    await run_scheduled(env)
    assert len(await keys_in(env, "images/")) == 3


async def test_a_reupload_completes_into_its_own_name_when_the_first_has_it(client, admin, env):
    """The same bytes under the same name in another album, and under another name in the
    same album: each is where the client asked for it."""
    data = unique_jpeg(306)
    first = await two_step(client, admin, data, filename="same.jpg", album="here")
    elsewhere = await two_step(client, admin, data, filename="same.jpg", album="there")
    beside = await two_step(client, admin, data, filename="other.jpg", album="here")
    assert [(i["album"], i["filename"]) for i in (first, elsewhere, beside)] == [
        ("here", "same.jpg"),
        ("there", "same.jpg"),
        ("here", "other.jpg"),
    ]
    assert len({first["short_id"], elsewhere["short_id"], beside["short_id"]}) == 3
    assert len(await keys_in(env, "images/")) == 3
    # The counters agree with the rows.
    albums = (await client.get("/v1/albums", headers=admin)).json()
    counts = {album["slug"]: album["image_count"] for album in albums["data"]}
    assert counts == {"here": 2, "there": 1}


R2_SETTINGS = {
    "R2_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "R2_SECRET_ACCESS_KEY": "secretkey",
    "R2_ACCOUNT_ID": "acct123",
    "R2_BUCKET_NAME": "pixhaven",
    "SOFT_DELETE_RETENTION_DAYS": "0",
    "ORPHAN_GRACE_SECONDS": "0",
}


@pytest.mark.parametrize("settings_overrides", [R2_SETTINGS])
async def test_an_r2_presigned_reupload_shares_too(client, admin, env):
    data = unique_jpeg(307)
    first = await cattopic_upload(client, admin, data)
    created = await client.post("/v1/images", json={"filename": "r2.jpg"}, headers=admin)
    image_id = created.json()["id"]
    await env.BUCKET.put(f"uploads/{image_id}", data)  # the client's PUT to R2
    response = await client.get(f"/v1/images/{image_id}", headers=admin)
    assert response.status_code == 200 and response.json()["filename"] == "r2.jpg"
    assert await keys_in(env, "images/") == {
        urlsplit(url).path.removeprefix("/r2/") for url in urls_of(first)
    }
    assert await served(client, response.json()["cdn_url"]) == await served(
        client, first["urls"]["original"]
    )


# -- Splinterpic and Pictify: the other ways images are stored ----------------------------


async def test_splinterpic_identical_generations_are_two_images(client, admin, env):
    body = {"prompt": "a lighthouse", "model": "@cf/stabilityai/stable-diffusion-xl-base-1.0"}
    body.update(width=256, height=256, steps=4, seed=42)
    one = await client.post("/api/generate", headers=admin, json=body)
    two = await client.post("/api/generate", headers=admin, json=body)
    assert one.status_code == two.status_code == 201, one.text
    assert one.json()["id"] != two.json()["id"]
    assert len(await keys_in(env, "images/")) == 3  # the offline model is deterministic
    listed = (await client.get("/api/images", headers=admin)).json()
    assert listed["total"] == 2
    assert await served(client, one.json()["url"]) == await served(client, two.json()["url"])
    assert (
        await client.delete(f"/api/images/{one.json()['id']}", headers=admin)
    ).status_code == 200
    assert await cleanup(client, admin) == 1
    await served(client, two.json()["url"])


# -- crash safety -------------------------------------------------------------------------------


async def test_a_failed_sharing_write_leaves_the_shared_objects(client, admin, env, monkeypatch):
    """D1 refusing the re-upload's batch: a 500, nothing written, and nothing of the first
    image's deleted, now or by the cron."""
    data = unique_jpeg(308)
    first = await cattopic_upload(client, admin, data)
    real_batch = env.DB.batch

    async def failing_batch(statements):
        raise RuntimeError("D1 is unreachable")

    monkeypatch.setattr(env.DB, "batch", failing_batch)
    assert_error_envelope(await upload(client, admin, data), 500)
    monkeypatch.setattr(env.DB, "batch", real_batch)
    assert await count(env, "SELECT COUNT(*) AS n FROM images") == 1
    await run_scheduled(env)
    assert len(await keys_in(env, "images/")) == 3
    for url in urls_of(first):
        await served(client, url)


async def test_an_interrupted_write_never_deletes_objects_a_live_image_refers_to(
    client, admin, env
):
    """A two-step upload whose first attempt died after putting its objects (its journal
    entry left, as a crash leaves it), completed by a second attempt under the same keys;
    then a re-upload shares those objects and the first image is purged. The cron, giving
    up the dead attempt, must keep the keys the re-upload refers to."""
    data = unique_jpeg(309)
    created = await client.post("/v1/images", json={"filename": "a.jpg"}, headers=admin)
    image_id = created.json()["id"]
    keys = [f"images/landscape/{image_id}.{ext}" for ext in ("jpg", "webp", "avif")]
    await (
        env.DB.prepare(
            "INSERT INTO pending_writes (id, image_id, owner, keys, created_at)"
            " VALUES (?, ?, 'default_user', ?, ?)"
        )
        .bind("pw_" + uuid.uuid4().hex[:24], image_id, json.dumps(keys), LONG_AGO)
        .run()
    )
    for key in keys:
        await env.BUCKET.put(key, data)  # the dead attempt's objects
    response = await client.put(
        path_of(created.json()["upload_url"]), content=data, headers={"Content-Type": "image/jpeg"}
    )
    assert response.status_code == 200, response.text
    reupload = await cattopic_upload(client, admin, data)
    assert await keys_in(env, "images/") == set(keys)
    assert (await client.delete(f"/v1/images/{image_id}", headers=admin)).status_code == 200
    assert await cleanup(client, admin) == 1

    summary = await run_scheduled(env)
    assert summary["interrupted_writes_removed"] == 1
    assert summary["orphaned_objects_deleted"] == 0
    assert await keys_in(env, "images/") == set(keys)
    for url in urls_of(reupload):
        await served(client, url)


async def test_a_purge_that_died_before_the_objects_is_finished_by_the_sweep(client, admin, env):
    """Purging deletes the row, then the objects no row refers to any more: a process that
    dies in between leaves objects without a row, which the sweep deletes — and only
    those."""
    kept = await cattopic_upload(client, admin, unique_jpeg(310))
    gone = await cattopic_upload(client, admin, unique_jpeg(311))
    await env.DB.prepare("DELETE FROM images WHERE id = ?").bind(gone["id"]).run()
    assert (await run_scheduled(env))["orphaned_objects_deleted"] == 3
    assert await keys_in(env, "images/") == {
        urlsplit(url).path.removeprefix("/r2/") for url in urls_of(kept)
    }


async def test_a_reupload_whose_first_image_is_purged_meanwhile_stores_its_bytes(
    client, admin, env, monkeypatch
):
    """The first image is purged between the re-upload finding it and committing: the
    commit is refused (the objects it would share are going), and the re-upload stores
    the bytes itself instead."""
    from pixhaven.services.images.updates import purge_image

    data = unique_jpeg(312)
    first = await cattopic_upload(client, admin, data)
    real_batch, purged = env.DB.batch, []

    async def purge_then_batch(statements):
        if not purged:  # the first batch is the re-upload's commit
            purged.append(None)  # (the purge's own batch goes straight through)
            purged[0] = await purge_image(env, first["id"])
        return await real_batch(statements)

    monkeypatch.setattr(env.DB, "batch", purge_then_batch)
    second = await cattopic_upload(client, admin, data)
    monkeypatch.setattr(env.DB, "batch", real_batch)
    assert purged == [True]
    assert await keys_in(env, "images/") == {
        urlsplit(url).path.removeprefix("/r2/") for url in urls_of(second)
    }
    for url in urls_of(second):
        await served(client, url)
    await run_scheduled(env)
    assert len(await keys_in(env, "images/")) == 3
    assert await count(env, "SELECT COUNT(*) AS n FROM pending_writes") == 0


async def test_images_stored_before_migration_0010_keep_working(client, admin, env):
    """Rows from before sharing existed have no object_id (their objects are under their own
    id) and no digest: they serve, are not shared with, and are purged as before."""
    data = unique_jpeg(315)
    old = await cattopic_upload(client, admin, data)
    await (
        env.DB.prepare("UPDATE images SET object_id = NULL, objects_digest = NULL WHERE id = ?")
        .bind(old["id"])
        .run()
    )
    for url in urls_of(old):
        await served(client, url)
    new = await cattopic_upload(client, admin, data)
    assert len(await keys_in(env, "images/")) == 6  # the old row's objects are not shared
    await run_scheduled(env)
    assert len(await keys_in(env, "images/")) == 6
    assert (await client.delete(f"/api/images/{old['id']}", headers=admin)).status_code == 200
    assert await cleanup(client, admin) == 1
    assert await keys_in(env, "images/") == {
        urlsplit(url).path.removeprefix("/r2/") for url in urls_of(new)
    }
