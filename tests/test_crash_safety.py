"""Crash-safe writes: what an interrupted image write leaves behind, and the cron removing it.

The interrupted states are built directly, the way a crash leaves them (a `pending_writes`
entry, some of the objects, no row), then the cron runs and the bucket must hold exactly
the objects of rows. Also: writes that finish or fail normally leave no entry, a write the
cron has given up can no longer commit, and the sweep of objects that no row owns (bounded
per run, resumable) deletes only those. A real `kill -9` is in test_crash_kill.py.
"""

import asyncio
import json
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from pixhaven.db import cron_state
from pixhaven.services.images.keys import stored_keys
from pixhaven.services.images.reconcile import SWEEP_STATE, sweep_orphans
from pixhaven.timeutil import iso, utcnow
from pixhaven.worker import run_scheduled

from .conftest import assert_error_envelope
from .imagegen import image_bytes, unique_jpeg, upload

LONG_AGO = "2020-01-01T00:00:00.000Z"


async def rows(env) -> list[dict]:
    return [dict(r) for r in (await env.DB.prepare("SELECT * FROM images").all())["results"]]


async def journal(env) -> list[dict]:
    return [
        dict(r) for r in (await env.DB.prepare("SELECT * FROM pending_writes").all())["results"]
    ]


async def keys_under(env, prefix: str = "") -> set[str]:
    found, options = set(), {"prefix": prefix}
    while True:
        listing = await env.BUCKET.list(**options)
        found |= {obj.key for obj in listing["objects"]}
        if not listing["truncated"]:
            return found
        options = {"prefix": prefix, "cursor": listing["cursor"]}


async def owned_keys(env) -> set[str]:
    return {key for row in await rows(env) for key in stored_keys(row).values()}


async def put(env, *keys: str) -> None:
    for key in keys:
        await env.BUCKET.put(key, image_bytes(8, 8))


async def journal_entry(env, image_id: str, keys: list[str], created_at: str = LONG_AGO, **extra):
    entry = {
        "id": "pw_" + uuid.uuid4().hex[:24],
        "image_id": image_id,
        "owner": "default_user",
        "keys": json.dumps(keys),
        "created_at": created_at,
        "abandoned_at": None,
        **extra,
    }
    await (
        env.DB.prepare(
            "INSERT INTO pending_writes (id, image_id, owner, keys, created_at, abandoned_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
        )
        .bind(*entry.values())
        .run()
    )
    return entry


def versions(image_id: str, orientation: str = "landscape", original: str = "jpg") -> list[str]:
    """The keys write_image puts for an image: the original, then WebP and AVIF."""
    return [f"images/{orientation}/{image_id}.{ext}" for ext in (original, "webp", "avif")]


def new_id() -> str:
    return str(uuid.uuid4())


async def create_pending(client, headers) -> dict:
    response = await client.post("/v1/images", json={"filename": "photo.jpg"}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def put_bytes(client, created, data):
    parts = urlsplit(created["upload_url"])
    return await client.put(
        f"{parts.path}?{parts.query}", content=data, headers={"Content-Type": "image/jpeg"}
    )


# -- the journal of a write -----------------------------------------------------------------


async def test_writes_that_end_normally_leave_no_journal_entry(client, admin, env, monkeypatch):
    # Stored; identical bytes again (sharing the objects); identical uploads racing.
    assert (await upload(client, admin, unique_jpeg(1))).status_code == 200
    assert (await upload(client, admin, unique_jpeg(1))).status_code == 200
    racing = await asyncio.gather(*(upload(client, admin, unique_jpeg(2)) for _ in range(4)))
    assert [r.status_code for r in racing] == [200] * 4
    assert len({r.json()["result"]["id"] for r in racing}) == 4
    assert len(await rows(env)) == 6
    # The two-step upload completes through the same writer.
    created = await create_pending(client, admin)
    assert (await put_bytes(client, created, unique_jpeg(3))).status_code == 200
    # A failed write: R2 refuses the second object.
    real_put, calls = env.BUCKET.put, []

    async def failing_put(key, value, **options):
        calls.append(key)
        if len(calls) == 2:
            raise RuntimeError("R2 is down")
        return await real_put(key, value, **options)

    monkeypatch.setattr(env.BUCKET, "put", failing_put)
    assert_error_envelope(await upload(client, admin, unique_jpeg(4)), 500)
    monkeypatch.setattr(env.BUCKET, "put", real_put)

    assert await journal(env) == []
    assert await keys_under(env, "images/") == await owned_keys(env)
    assert len(await rows(env)) == 7


async def test_a_write_the_cron_gave_up_cannot_commit(client, admin, env, monkeypatch):
    """The cron runs (grace 0) right after the first object of a write is put: it gives the
    write up and deletes that object, so the write must not make its row real."""
    real_put, cron_runs = env.BUCKET.put, []

    async def put_then_cron(key, value, **options):
        stored = await real_put(key, value, **options)
        if not cron_runs:
            monkeypatch.setattr(env, "ORPHAN_GRACE_SECONDS", "0")
            cron_runs.append(await run_scheduled(env))
        return stored

    monkeypatch.setattr(env.BUCKET, "put", put_then_cron)
    assert_error_envelope(await upload(client, admin, unique_jpeg(5)), 500)
    assert cron_runs[0]["interrupted_writes_removed"] == 1
    assert await rows(env) == []
    assert await keys_under(env, "images/") == set()
    assert await journal(env) == []


# -- interrupted writes, built as a crash leaves them -----------------------------------------


async def test_the_cron_removes_interrupted_one_step_writes(client, admin, env):
    kept = await upload(client, admin, unique_jpeg(10))
    assert kept.status_code == 200
    all_objects, one_object, no_object, cron_died, in_flight = (new_id() for _ in range(5))
    # Killed before the D1 batch: every object put, no row.
    await journal_entry(env, all_objects, versions(all_objects))
    await put(env, *versions(all_objects))
    # Killed between two puts.
    await journal_entry(env, one_object, versions(one_object, "portrait", "png"))
    await put(env, versions(one_object, "portrait", "png")[0])
    # Killed right after the entry was written.
    await journal_entry(env, no_object, versions(no_object))
    # The cron itself died after giving a write up, before deleting its objects.
    await journal_entry(env, cron_died, versions(cron_died), abandoned_at=LONG_AGO)
    await put(env, *versions(cron_died)[:2])
    # A write still in progress (younger than the grace period): left alone.
    await journal_entry(env, in_flight, versions(in_flight), created_at=iso(utcnow()))
    await put(env, versions(in_flight)[0])

    summary = await run_scheduled(env)
    assert summary["interrupted_writes_removed"] == 4
    assert summary["orphaned_objects_deleted"] == 0
    assert await keys_under(env, "images/") == await owned_keys(env) | {versions(in_flight)[0]}
    assert [entry["image_id"] for entry in await journal(env)] == [in_flight]
    # The acknowledged upload is untouched.
    image = kept.json()["result"]
    assert (await client.get(f"/api/images/{image['id']}", headers=admin)).status_code == 200
    assert await run_scheduled(env) == {**summary, "interrupted_writes_removed": 0}


async def test_an_interrupted_two_step_upload_is_removed_and_can_be_retried(
    client, admin, env, monkeypatch
):
    # A grace period shorter than the life of an upload URL, so that the row is still there
    # (rows whose URL expired an hour ago are purged with all their possible objects).
    monkeypatch.setattr(env, "ORPHAN_GRACE_SECONDS", "600")
    created = await create_pending(client, admin)
    image_id = created["id"]
    # Killed twenty minutes ago while completing: the row claimed ('uploading'), objects
    # put, the row not made ready.
    attempt = iso(utcnow() - timedelta(minutes=20))
    await (
        env.DB.prepare("UPDATE images SET status = 'uploading', updated_at = ? WHERE id = ?")
        .bind(attempt, image_id)
        .run()
    )
    await journal_entry(env, image_id, versions(image_id), created_at=attempt)
    await put(env, *versions(image_id))

    assert (await run_scheduled(env))["interrupted_writes_removed"] == 1
    assert await keys_under(env, "images/") == set()
    assert await journal(env) == []
    # The upload URL still works: the attempt is stale, the row is taken over and completed.
    response = await put_bytes(client, created, unique_jpeg(11))
    assert response.status_code == 200, response.text
    assert await keys_under(env, "images/") == await owned_keys(env) != set()


async def test_a_later_attempt_keeps_the_objects_it_shares_with_an_interrupted_one(
    client, admin, env
):
    """Two attempts at one two-step upload write the same keys: giving up the first must not
    delete what the second (committed, or still in flight) stored."""
    created = await create_pending(client, admin)
    image_id = created["id"]
    assert (await put_bytes(client, created, unique_jpeg(12))).status_code == 200
    (row,) = await rows(env)
    committed = list(stored_keys(row).values())
    # An earlier attempt died with the same keys and an original in another format.
    gif = f"images/{row['orientation']}/{image_id}.gif"
    await journal_entry(env, image_id, [gif, *committed])
    await put(env, gif)
    # And another image: an old attempt and a younger one in flight, sharing a key.
    other = new_id()
    await journal_entry(env, other, versions(other))
    await journal_entry(env, other, versions(other)[:1], created_at=iso(utcnow()))
    await put(env, *versions(other))

    assert (await run_scheduled(env))["interrupted_writes_removed"] == 2
    assert await keys_under(env, "images/") == set(committed) | {versions(other)[0]}
    for key in committed:
        assert (await client.get(f"/r2/{key}")).status_code == 200


# -- the sweep of objects no row owns -------------------------------------------------------


async def test_the_sweep_deletes_old_objects_that_no_row_owns_and_nothing_else(
    client, admin, env, monkeypatch
):
    ready = (await upload(client, admin, unique_jpeg(20))).json()["result"]["id"]
    deleted = (await upload(client, admin, unique_jpeg(21))).json()["result"]["id"]
    assert (await client.delete(f"/api/images/{deleted}", headers=admin)).status_code == 200
    waiting = (await create_pending(client, admin))["id"]
    journaled = new_id()
    await journal_entry(env, journaled, versions(journaled), created_at=iso(utcnow()))
    stray, stray_variant, stray_incoming = new_id(), new_id(), new_id()
    orphans = {
        *versions(stray, "portrait"),  # a write from before the journal existed
        f"variants/{stray_variant}/thumb.webp",  # cached while its image was purged
        f"uploads/{stray_incoming}",  # incoming bytes whose row is gone
        f"uploads/{ready}",  # incoming bytes of an upload already completed
    }
    kept = {
        f"variants/{ready}/thumb.webp",
        f"variants/{deleted}/thumb.webp",  # soft-deleted: restorable, objects kept
        f"uploads/{waiting}",  # the bytes a pending row waits for
        versions(journaled)[0],  # a write in progress: the journal decides
        f"renders/{new_id()}.pdf",  # stored renders have no row by design
        f"renders/{new_id()}.svg",
        "fonts/inter/Inter-Regular.ttf",
        "images/notes.txt",  # not a key the app writes: not ours to judge
    }
    await put(env, *orphans, *kept)
    before = await keys_under(env)

    # Younger than the grace period (an hour by default): nothing is touched.
    assert (await run_scheduled(env))["orphaned_objects_deleted"] == 0
    assert await keys_under(env) == before

    monkeypatch.setattr(env, "ORPHAN_GRACE_SECONDS", "0")
    assert await sweep_orphans(env, timedelta(0)) == len(orphans)
    assert await keys_under(env) == before - orphans
    assert await cron_state.get(env.DB, SWEEP_STATE) == ""  # a whole pass: next run restarts


async def test_the_sweep_is_bounded_per_run_and_resumes_where_it_stopped(env, monkeypatch):
    orphans = sorted(
        [*(f"images/landscape/{new_id()}.jpg" for _ in range(5)), f"uploads/{new_id()}"]
        + [f"variants/{new_id()}/v.png" for _ in range(3)]
    )
    await put(env, *orphans, "renders/keep.svg")
    real_list, calls = env.BUCKET.list, []

    async def recording_list(**options):
        calls.append(options)
        return await real_list(**options)

    monkeypatch.setattr(env.BUCKET, "list", recording_list)

    # Two listings of two keys per run: the first run deletes the first four keys.
    assert await sweep_orphans(env, timedelta(0), page_size=2, pages=2) == 4
    assert await keys_under(env, "images/") == set(orphans[4:5])
    assert await cron_state.get(env.DB, SWEEP_STATE) == orphans[3]
    assert calls[0] == {"prefix": "images/", "limit": 2}
    assert set(calls[1]) == {"prefix", "limit", "cursor"}  # the next page: R2's cursor

    # The next run starts after the last key examined.
    calls.clear()
    await sweep_orphans(env, timedelta(0), page_size=2, pages=2)
    assert calls[0] == {"prefix": "images/", "limit": 2, "startAfter": orphans[3]}
    runs = 2
    while await keys_under(env) != {"renders/keep.svg"}:
        await sweep_orphans(env, timedelta(0), page_size=2, pages=2)
        runs += 1
        assert runs < 10
    # No option is ever sent without a value (workerd refuses a null cursor).
    assert all(value is not None for options in calls for value in options.values())
    # The pass ends: the position is cleared, and the next run starts from the beginning.
    await sweep_orphans(env, timedelta(0), page_size=2, pages=2)
    assert await cron_state.get(env.DB, SWEEP_STATE) == ""
    calls.clear()
    await sweep_orphans(env, timedelta(0), page_size=2, pages=2)
    assert calls[0] == {"prefix": "images/", "limit": 2}


@pytest.mark.parametrize("settings_overrides", [{"ORPHAN_GRACE_SECONDS": "-5"}])
async def test_a_negative_grace_period_counts_as_zero(env):
    from pixhaven.settings import Settings

    assert Settings.from_env(env).orphan_grace_seconds == 0
