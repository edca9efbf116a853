"""Images: recording an upload (objects first, then one D1 batch), object keys, and the
shapes each dialect answers with.

Object keys are derived here from the image's id, orientation and format, never from user
input: `images/{orientation}/{id}.{ext}` (CattoPic's layout) plus `.webp` / `.avif` versions
and `variants/{id}/{variant}.{ext}` for on-demand variants.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.db import images as table
from pixhaven.db import tags as tag_table
from pixhaven.services.images.keys import (
    CONTENT_TYPES,
    IMMUTABLE,
    new_short_id,
    object_keys,
    safe_filename,
)
from pixhaven.services.jobs.queue import enqueue
from pixhaven.services.jobs.registry import job_handler
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database
    from pixhaven.bindings.env import Env


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


async def record_upload(env: Env, processed, new: NewImage) -> tuple[dict, bool]:
    """Store a processed upload: objects first, then the row and its tags in one D1 batch.

    Returns (row, created). The same owner uploading the same bytes gets the existing image
    back (its tags merged with the new ones) and nothing new is stored. If the batch fails,
    the objects just written are deleted — or, should that fail too, handed to a durable
    deletion job — so no object is left without its row.
    """
    db = env.DB
    existing = await table.find_by_hash(db, new.owner, processed.content_hash)
    if existing is not None:
        return await _merge_duplicate(env, existing, new), False

    now_moment = utcnow()
    now = iso(now_moment)
    image_id = str(uuid.uuid4())
    short_id = new_short_id()
    extension = processed.extension
    row = {
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
        "content_type": processed.content_type,
        "format": extension,
        "width": processed.width,
        "height": processed.height,
        "orientation": processed.orientation,
        "animated": int(processed.animated),
        "size": len(processed.original),
        "webp_size": len(processed.webp) if processed.webp is not None else None,
        "avif_size": len(processed.avif) if processed.avif is not None else None,
        "content_hash": processed.content_hash,
        "placeholder": processed.placeholder,
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
            iso(now_moment + timedelta(minutes=new.expiry_minutes)) if new.expiry_minutes else None
        ),
    }
    bodies = {"original": processed.original, "webp": processed.webp, "avif": processed.avif}
    written = []
    try:
        for version, key in object_keys(row).items():
            await env.BUCKET.put(
                key,
                bodies[version],
                httpMetadata={
                    "contentType": CONTENT_TYPES[
                        row["format"] if version == "original" else version
                    ],
                    "cacheControl": IMMUTABLE,
                },
                customMetadata={"image_id": image_id},
            )
            written.append(key)
        await db.batch(
            [
                table.insert_statement(db, row),
                *tag_statements(db, new.owner, image_id, new.tags, now),
            ]
        )
    except Exception as exc:
        await delete_objects_or_defer(env, written, new.owner)
        duplicate = await table.find_by_hash(db, new.owner, processed.content_hash)
        if duplicate is not None and "UNIQUE" in str(exc).upper():
            # Lost a race with an identical upload: answer with the winner.
            return await _merge_duplicate(env, duplicate, new), False
        raise
    return row, True


async def _merge_duplicate(env: Env, existing: dict, new: NewImage) -> dict:
    if new.tags:
        now = iso(utcnow())
        await env.DB.batch(tag_statements(env.DB, existing["owner"], existing["id"], new.tags, now))
    return existing


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
