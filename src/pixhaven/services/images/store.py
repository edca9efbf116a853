"""Writing images: the one writer both upload paths store through (`write_image`), the
one-step upload on top of it (`record_upload`), and the helpers their rows share.

Objects are written first and the row last, so a reader never meets a row without its
objects; whatever fails in between is undone here, once for both paths. Object keys come
from the row (services/images/keys.py), never from user input.

Identical uploads (migration 0010): an upload whose bytes and options the owner has stored
before is a new image like any other — own id, tags, album, filename, expiry, visibility —
whose row points at the earlier image's objects (`object_id`) instead of storing them
again. Every row pointing at objects is a reference to them; the last one purged deletes
them (services/images/updates.py, purge_image).

A write the process cannot undo itself (killed, or D1 unreachable) is not forgotten: before
its first object is put, the keys are recorded in the `pending_writes` journal
(db/pending_writes.py), and the batch that makes the row real also ends the entry. An entry
that outlives the grace period is an interrupted write, which the cron gives up and removes
(services/images/reconcile.py). A write that shares objects puts none: it has no entry,
and nothing of it is left to remove.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.db import images as table
from pixhaven.db import pending_writes as journal
from pixhaven.db import tags as tag_table
from pixhaven.services.images.keys import (
    CONTENT_TYPES,
    IMMUTABLE,
    new_short_id,
    safe_filename,
    storage_id,
    stored_keys,
)
from pixhaven.services.images.pipeline import ProcessedImage
from pixhaven.services.images.streamed_upload import ObjectSplice
from pixhaven.services.jobs.queue import enqueue
from pixhaven.services.jobs.registry import job_handler
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement
    from pixhaven.bindings.env import Env
    from pixhaven.bindings.r2 import R2HTTPMetadata

log = logging.getLogger("pixhaven.images")


@dataclass
class NewImage:
    """What the caller knows about an upload besides its processed bytes."""

    owner: str
    original_name: str
    tags: list[str] = field(default_factory=list)
    expiry_minutes: int | None = None
    album_id: str | None = None
    alt: str | None = None
    is_private: bool = False
    source: str = "upload"
    prompt: str | None = None
    model: str | None = None
    template: str | None = None


async def unique_filename(
    db: D1Database,
    owner: str,
    album_id: str | None,
    filename: str,
    short_id: str,
    except_id: str = "",
) -> str:
    """`filename`, or `{stem}-{short_id}.{ext}` if another live image of the owner's album
    (other than `except_id`) already has it: CDN paths must stay unambiguous."""
    if not await table.path_taken(db, owner, album_id, filename, except_id):
        return filename
    stem, _, extension = filename.rpartition(".")
    return f"{stem}-{short_id}.{extension}"


def tag_statements(db: D1Database, owner: str, image_id: str, tags: list[str], now: str) -> list:
    statements = []
    for name in tags:
        statements.append(tag_table.ensure_statement(db, owner, name, now))
        statements.append(tag_table.attach_statement(db, owner, image_id, name))
    return statements


def processed_columns(processed: ProcessedImage) -> dict:
    """The `images` columns that an upload's processed bytes decide (both upload paths).
    `object_id` is decided by `write_image`."""
    return {
        "content_type": processed.content_type,
        "format": processed.extension,
        "width": processed.width,
        "height": processed.height,
        "orientation": processed.orientation,
        "animated": int(processed.animated),
        "size": len(processed.original),
        "webp_size": len(processed.webp) if processed.webp is not None else None,
        "avif_size": len(processed.avif) if processed.avif is not None else None,
        "content_hash": processed.content_hash,
        "objects_digest": processed.objects_digest,
        "object_id": None,
        "placeholder": processed.placeholder,
    }


# The columns `processed_columns` sets.
PROCESSED_COLUMNS = (
    "content_type",
    "format",
    "width",
    "height",
    "orientation",
    "animated",
    "size",
    "webp_size",
    "avif_size",
    "content_hash",
    "objects_digest",
    "object_id",
    "placeholder",
)


# The columns that describe stored objects: an image sharing another's objects takes them
# from that image's row, so that it describes exactly the bytes it serves.
OBJECT_COLUMNS = (
    "content_type",
    "format",
    "width",
    "height",
    "orientation",
    "animated",
    "size",
    "webp_size",
    "avif_size",
    "placeholder",
    "object_id",
)


async def write_image(
    env: Env,
    processed: ProcessedImage,
    owner: str,
    *,
    build_row: Callable[[], Awaitable[dict]],
    commit: Callable[[dict, list[D1PreparedStatement]], Awaitable[None]],
    release: Callable[[], Awaitable[None]] | None = None,
) -> dict:
    """Store one processed image of `owner`: the one writer behind both upload paths
    (`record_upload`, and PixelFlare's `direct_uploads.complete_upload`), so sharing,
    object metadata, undoing and the journal are decided in one place. Returns the row.

    `build_row()` gives the row (with `processed_columns`). If the owner has an image whose
    objects were made from the same bytes with the same options, the row shares them:
    `commit(row, guard)` runs the caller's D1 statement(s) that make the row real in one
    batch with `guard`, which fails unless a row still refers to those objects. Should it
    fail that way (the other image was purged meanwhile), or if there is nothing to share,
    the bytes are stored: the keys of the row's objects are recorded in the journal, the
    objects are put, and `commit(row, ending)` runs with `ending`, the statements that end
    the journal entry (that batch fails if the cron has given the write up). If any step
    fails, the objects written are deleted (or handed to a durable deletion job) and the
    entry ended, so no object is left without its row; should the process die instead, the
    entry tells the cron what to delete. Then `release()` gives back whatever the caller
    holds, and the error is raised.
    """
    written: list[str] = []
    write_id: str | None = None
    try:
        row = await build_row()
        shared = await table.find_shareable(env.DB, owner, processed.objects_digest)
        if shared is not None:
            sharing = {**row, **{column: shared[column] for column in OBJECT_COLUMNS}}
            sharing["object_id"] = storage_id(shared)
            guard = table.objects_kept_statements(
                env.DB, "pw_" + secrets.token_hex(12) + ".share", sharing["object_id"], row["id"]
            )
            try:
                await commit(sharing, guard)
                return sharing
            except Exception:
                referring = await table.referring(env.DB, sharing["object_id"])
                if any(other["status"] == "ready" for other in referring):
                    raise  # not the guard: the objects are still there
                # The image shared with was purged meanwhile: store the bytes after all.
        row = {**row, "object_id": row["id"]}
        write_id = "pw_" + secrets.token_hex(12)
        await journal.insert(
            env.DB, write_id, row["id"], owner, list(stored_keys(row).values()), iso(utcnow())
        )
        await _put_objects(env, processed, row, written)
        await commit(row, journal.commit_statements(env.DB, write_id))
    except Exception:
        await delete_objects_or_defer(env, written, owner)
        if write_id is not None:
            await _end_journal_entry(env, write_id)
        if release is not None:
            await release()
        raise
    return row


async def _end_journal_entry(env: Env, write_id: str) -> None:
    """A failed write whose objects are gone (or left to a deletion job) is over; if even
    this fails, the cron ends the entry later."""
    try:
        await journal.delete(env.DB, write_id)
    except Exception as exc:
        log.warning(
            json.dumps({"event": "journal_entry_left", "write_id": write_id, "error": str(exc)})
        )


async def _put_objects(env: Env, processed: ProcessedImage, row: dict, written: list[str]) -> None:
    """Put the row's versions, each key appended to `written` as soon as it is stored."""
    bodies = {"original": processed.original, "webp": processed.webp, "avif": processed.avif}
    for version, key in stored_keys(row).items():
        body = bodies[version]
        http_metadata: R2HTTPMetadata = {
            "contentType": CONTENT_TYPES[row["format"] if version == "original" else version],
            "cacheControl": IMMUTABLE,
        }
        custom_metadata = {"image_id": row["id"]}
        if isinstance(body, ObjectSplice):
            await body.put(
                env.BUCKET, key, http_metadata=http_metadata, custom_metadata=custom_metadata
            )
        else:
            await env.BUCKET.put(
                key, body, httpMetadata=http_metadata, customMetadata=custom_metadata
            )
        written.append(key)


async def record_upload(env: Env, processed: ProcessedImage, new: NewImage) -> dict:
    """Store a processed upload: objects first (unless it shares an identical upload's),
    then the row and its tags in one D1 batch. Returns the row.

    If the batch fails, the objects just written are deleted — or, should that fail too,
    handed to a durable deletion job — so no object is left without its row.
    """
    db = env.DB

    async def build_row() -> dict:
        now_moment = utcnow()
        now = iso(now_moment)
        image_id = str(uuid.uuid4())
        short_id = new_short_id()
        extension = processed.extension
        return {
            "id": image_id,
            "short_id": short_id,
            "owner": new.owner,
            "album_id": new.album_id,
            "filename": await unique_filename(
                db,
                new.owner,
                new.album_id,
                safe_filename(new.original_name, image_id[:8], extension),
                short_id,
            ),
            "original_name": new.original_name or f"{image_id}.{extension}",
            **processed_columns(processed),
            "alt": new.alt,
            "is_private": int(new.is_private),
            "source": new.source,
            "prompt": new.prompt,
            "model": new.model,
            "template": new.template,
            "status": "ready",
            "rand": secrets.randbits(31),
            "created_at": now,
            "updated_at": now,
            "expires_at": (
                iso(now_moment + timedelta(minutes=new.expiry_minutes))
                if new.expiry_minutes
                else None
            ),
        }

    async def insert_with_tags(row: dict, ending: list[D1PreparedStatement]) -> None:
        await db.batch(
            [
                table.insert_statement(db, row),
                *tag_statements(db, new.owner, row["id"], new.tags, row["created_at"]),
                *ending,
            ]
        )

    return await write_image(
        env, processed, new.owner, build_row=build_row, commit=insert_with_tags
    )


async def delete_objects_or_defer(env: Env, keys: list[str], owner: str | None = None) -> None:
    """Delete objects now; if R2 fails, leave a durable job that retries until done."""
    if not keys:
        return
    try:
        await env.BUCKET.delete(keys)
    except Exception:
        await enqueue(env, "objects.delete", {"keys": keys}, owner=owner)


@job_handler("objects.delete")
async def delete_objects_job(env: Env, payload: dict) -> None:
    await env.BUCKET.delete(list(payload["keys"]))
