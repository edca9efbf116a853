"""Changing images after upload: metadata edits, soft delete and restore, and the purge
that finally removes rows and objects.

Purging is idempotent. An image's stored objects may be shared with other images of the
owner (identical uploads, services/images/store.py): the row is deleted first, and the
objects only when no row refers to them any more — checked after the row is gone, so a
write that starts sharing them meanwhile either commits before (and is seen) or cannot
commit at all (db/images.objects_kept_statements). Its cached variants are its own and go
before the row. A crash between deleting the row and deleting the objects leaves objects
that no row refers to, which the cron's sweep deletes (services/images/reconcile.py).
Purges that fail are handed to a durable `image.purge` job and retried with backoff.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.db import albums as album_table
from pixhaven.db import images as table
from pixhaven.db import tags as tag_table
from pixhaven.errors import ApiError
from pixhaven.interop import given
from pixhaven.services.images.keys import storage_id, stored_keys
from pixhaven.services.images.store import delete_objects_or_defer, tag_statements
from pixhaven.services.jobs.queue import enqueue
from pixhaven.services.jobs.registry import job_handler
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

log = logging.getLogger("pixhaven.images")

_UNSET = object()

# The longest expiry CattoPic's `expiryMinutes` may ask for, on upload and on update: 100 years
# (0 means never). Far enough for any client, and the expiry time stays a date.
MAX_EXPIRY_MINUTES = 100 * 365 * 24 * 60


async def update_image(
    env: Env,
    row: dict,
    *,
    tags: list[str] | None = None,
    expiry_minutes=_UNSET,
    fields: dict | None = None,
) -> dict:
    """Replace tags, set or clear the expiry (0 clears it), and update plain columns —
    all in one D1 batch. Returns the fresh row."""
    db = env.DB
    moment = utcnow()
    now = iso(moment)
    columns = dict(fields or {})
    if expiry_minutes is not _UNSET:
        columns["expires_at"] = (
            iso(moment + timedelta(minutes=expiry_minutes)) if expiry_minutes else None
        )
    statements = []
    assignments = ", ".join(f"{name} = ?" for name in columns)
    statements.append(
        db.prepare(
            f"UPDATE images SET {assignments + ', ' if assignments else ''}updated_at = ? "
            "WHERE id = ?"
        ).bind(*columns.values(), now, row["id"])
    )
    if tags is not None:
        statements.append(tag_table.clear_statement(db, row["id"]))
        statements += tag_statements(db, row["owner"], row["id"], tags, now)
    await db.batch(statements)
    updated = await table.get(db, row["id"])
    assert updated is not None  # the row just updated
    return updated


async def soft_delete(env: Env, row: dict) -> None:
    """Hidden at once from lists, random and serving; restorable until retention ends."""
    await table.soft_delete(env.DB, row["id"], iso(utcnow()))


async def restore(env: Env, row: dict, retention_days: int) -> dict:
    if row["deleted_at"] is None:
        return row
    deadline = utcnow() - timedelta(days=retention_days)
    if row["deleted_at"] <= iso(deadline):
        raise ApiError(
            410,
            "Image can no longer be restored",
            code="GONE",
            details={"image_id": row["id"], "deleted_at": row["deleted_at"]},
        )
    # An album image's CDN path may have been taken while it was deleted (its name was
    # free for a new upload or a rename): restoring it would make the path ambiguous.
    path_unique = row["album_id"] is not None
    restored_rows = await table.restore(env.DB, row["id"], iso(utcnow()), path_unique=path_unique)
    if not restored_rows and path_unique:
        await _refuse_taken_path(env, row)
    restored = await table.get(env.DB, row["id"])
    assert restored is not None  # the row just restored
    return restored


async def _refuse_taken_path(env: Env, row: dict) -> None:
    if await table.path_taken(
        env.DB, row["owner"], row["album_id"], row["filename"], row["id"], ready_only=True
    ):
        album = await album_table.get(env.DB, row["album_id"])
        slug = album["slug"] if album else None
        raise ApiError(
            409,
            f"Another image in album {slug} now has the filename {row['filename']}: rename "
            "(PATCH) or delete it before restoring this one",
            code="CONFLICT",
            details={"image_id": row["id"], "filename": row["filename"], "album": slug},
        )


async def _variant_keys(env: Env, row: dict) -> list[str]:
    """The image's cached variants (`variants/{id}/`: never shared)."""
    keys: list[str] = []
    cursor = None
    while True:
        # No `cursor` on the first page: workerd refuses `cursor: null`.
        listing = await env.BUCKET.list(**given(prefix=f"variants/{row['id']}/", cursor=cursor))
        keys += [obj.key for obj in listing["objects"]]
        if not listing["truncated"]:
            return keys
        cursor = listing["cursor"]


async def purge_image(env: Env, image_id: str) -> bool:
    """Delete an image's variants, its row, then its stored objects unless another row
    still refers to them. Safe to repeat; False if already gone."""
    row = await table.get(env.DB, image_id)
    if row is None:
        return False
    variant_keys = await _variant_keys(env, row)
    if variant_keys:
        await env.BUCKET.delete(variant_keys)
    await env.DB.batch([table.delete_statement(env.DB, image_id)])
    if not await table.referring(env.DB, storage_id(row), limit=1):
        # The last reference is gone: no write can start sharing these objects any more.
        await delete_objects_or_defer(env, list(stored_keys(row).values()), row["owner"])
    return True


@job_handler("image.purge")
async def purge_image_job(env: Env, payload: dict) -> None:
    await purge_image(env, payload["image_id"])


async def purge_due(
    env: Env, retention_days: int, batch_size: int = 100, *, owner: str | None = None
) -> int:
    """Purge expired images and soft-deleted ones past retention (only `owner`'s when given:
    POST /api/cleanup by anyone but the admin). Returns how many were removed now; any that
    fail are left to a durable retrying job."""
    now = utcnow()
    purged = 0
    deferred: set[str] = set()
    while True:
        rows = await table.purgeable(
            env.DB,
            iso(now),
            iso(now - timedelta(days=retention_days)),
            batch_size + len(deferred),
            owner=owner,
        )
        rows = [row for row in rows if row["id"] not in deferred]
        if not rows:
            return purged
        for row in rows:
            try:
                if await purge_image(env, row["id"]):
                    purged += 1
            except Exception as exc:
                log.warning(
                    json.dumps(
                        {"event": "purge_deferred", "image_id": row["id"], "error": str(exc)}
                    )
                )
                deferred.add(row["id"])
                await enqueue(env, "image.purge", {"image_id": row["id"]}, owner=row["owner"])
