"""PixelFlare's two-step upload: a pending row first, the bytes later.

1. `create_pending` (POST /v1/images) validates everything, then writes one row with status
   'pending' plus its tags in one D1 batch. Pending rows are invisible everywhere (lists,
   random, serving, tag counts), except to the upload itself.
2. `complete_upload` runs when the bytes arrive — by the Worker's signed PUT route, or, with
   R2 presigned uploads, from the object `uploads/{id}` (queue event or first read):
   pipeline first (no side effects), then the row is claimed ('uploading': a second,
   concurrent or later PUT gets 409), the objects are written, and one D1 statement makes
   the row ready. Any failure deletes the objects written and gives the row back as
   pending (the same URL may be retried until it expires). `created_at` is set to the
   completion time, so an image enters the newest-first keyset order when it becomes
   visible and a client paging through GET /v1/images never misses it.
3. Bytes the owner has stored before complete the row like any others (its album,
   filename, tags stay its own): the row then shares the earlier image's objects
   (services/images/store.py, write_image).
4. `purge_unfinished` (cron) removes rows whose bytes never arrived, with any objects.
5. `cancel_upload` (DELETE /v1/images/{id} on a pending image) removes the row at once: its
   upload URL then answers 410 like any URL whose image no longer exists.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.db import albums as album_table
from pixhaven.db import images as table
from pixhaven.db import tags as tag_table
from pixhaven.errors import ApiError
from pixhaven.interop import body_bytes
from pixhaven.services.images.keys import (
    CONTENT_TYPES,
    client_extension,
    new_short_id,
    safe_filename,
)
from pixhaven.services.images.pipeline import ProcessedImage, UploadOptions, process_upload
from pixhaven.services.images.store import (
    PROCESSED_COLUMNS,
    processed_columns,
    tag_statements,
    unique_filename,
    write_image,
)
from pixhaven.services.images.streamed_upload import process_stored_upload
from pixhaven.services.images.upload_urls import image_id_of_incoming, incoming_key
from pixhaven.services.jobs.queue import enqueue
from pixhaven.services.jobs.registry import job_handler, message_handler
from pixhaven.settings import Settings
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement
    from pixhaven.bindings.env import Env


log = logging.getLogger("pixhaven.uploads")

# An attempt still 'uploading' after this long is presumed dead and may be retried.
STALE_ATTEMPT = timedelta(minutes=5)
# Unfinished rows are purged this long after their upload URL expired.
UNFINISHED_GRACE = timedelta(hours=1)
FORMATS = ("jpg", "png", "gif", "webp", "avif")
EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg"}
# What completing a pending row sets: its final name, what its bytes decide, and the
# completion time.
COMPLETED_COLUMNS = (
    "filename",
    *PROCESSED_COLUMNS,
    "created_at",
    "updated_at",
)


def _guessed_extension(filename: str | None) -> str:
    """The format a pending row shows until the bytes tell the real one."""
    suffix = client_extension(filename) or "jpg"
    return EXTENSION_ALIASES.get(suffix, suffix)


def _pending_filename(filename: str | None, default_stem: str) -> str:
    """The stored filename of a two-step upload: the client's name (sanitised) keeps the
    client's image extension, whatever the bytes turn out to be, because PixelFlare clients
    build the CDN URL `/{owner}/{album}/{filename}` from the name they sent. A name without
    an image extension shows `.jpg` until completion gives it the real format's."""
    return safe_filename(filename, default_stem, client_extension(filename) or "jpg")


def _named_by_client(row: dict) -> bool:
    """Whether the client gave the filename (else `create_pending` made `{id}.{ext}`)."""
    return row["original_name"].rpartition(".")[0] != row["id"]


def filename_taken_error(filename: str, album: str | None) -> ApiError:
    return ApiError(
        409,
        f"An image named {filename} already exists in album {album}: choose another "
        "filename, or delete or rename (PATCH) that image first",
        code="CONFLICT",
        details={"field": "filename", "filename": filename, "album": album},
    )


async def refuse_taken_filename(
    db: D1Database, owner: str, filename: str | None, album_slug: str | None
) -> None:
    """POST /v1/images into an album: a filename a ready image there already has is a 409,
    never a silently renamed file (its CDN URL would keep serving the other image). Runs
    before anything is written or counted; completion checks again (`complete_upload`)."""
    if filename is None or album_slug is None:
        return
    album = await album_table.get_by_slug(db, owner, album_slug)
    name = _pending_filename(filename, "")
    if album is None or name.startswith("."):  # no album yet, or a stem made up later
        return
    if await table.path_taken(db, owner, album["id"], name, "", ready_only=True):
        raise filename_taken_error(name, album_slug)


async def create_pending(
    env: Env,
    *,
    owner: str,
    filename: str | None,
    album_id: str | None,
    tags: list[str],
    alt: str | None,
    is_private: bool,
) -> dict:
    """Write the pending row and its tags (one batch). Everything must be validated before."""
    db = env.DB
    now = iso(utcnow())
    image_id = str(uuid.uuid4())
    short_id = new_short_id()
    extension = _guessed_extension(filename)
    row = {
        "id": image_id,
        "short_id": short_id,
        "owner": owner,
        "album_id": album_id,
        # Into an album (PixelFlare's CDN path) the client's name is kept exactly
        # (`refuse_taken_filename` ran before); elsewhere a taken name gets a suffix.
        "filename": (
            _pending_filename(filename, image_id[:8])
            if album_id is not None and filename is not None
            else await unique_filename(
                db,
                owner,
                album_id,
                _pending_filename(filename, image_id[:8]),
                short_id,
                except_id=image_id,
            )
        ),
        "original_name": filename or f"{image_id}.{extension}",
        "content_type": CONTENT_TYPES[extension],
        "format": extension,
        "width": 0,
        "height": 0,
        "orientation": "landscape",
        "animated": 0,
        "size": 0,
        "webp_size": None,
        "avif_size": None,
        "content_hash": None,
        "objects_digest": None,
        "object_id": None,
        "placeholder": None,
        "alt": alt,
        "is_private": int(is_private),
        "source": "upload",
        "prompt": None,
        "model": None,
        "template": None,
        "status": "pending",
        "rand": secrets.randbits(31),
        "created_at": now,
        "updated_at": now,
        "expires_at": None,
    }
    await db.batch(
        [table.insert_statement(db, row), *tag_statements(db, owner, image_id, tags, now)]
    )
    pending = await table.get(db, image_id)
    assert pending is not None  # written by the batch above
    return pending


def not_pending_error(row: dict | None, image_id: str) -> ApiError:
    if row is None:
        return ApiError(
            410, "This upload URL is no longer valid", code="GONE", details={"image_id": image_id}
        )
    if row["status"] == "uploading":
        return ApiError(
            409, "An upload for this image is in progress", details={"image_id": image_id}
        )
    return ApiError(
        409,
        "This upload URL has already been used",
        code="CONFLICT",
        details={"image_id": image_id},
    )


async def waiting_upload(db: D1Database, image_id: str) -> dict:
    """The row a signed upload URL names, while it still waits for its bytes; otherwise
    the error saying why the URL cannot be used (`not_pending_error`)."""
    row = await table.get(db, image_id)
    if row is None or row["status"] not in ("pending", "uploading"):
        raise not_pending_error(row, image_id)
    return row


async def complete_upload(env: Env, settings: Settings, row: dict, data: bytes) -> dict:
    """Process `data` and complete the pending `row`. Returns the completed row."""
    processed = await process_upload(env, data, settings, UploadOptions())
    del data
    return await complete_processed(env, row, processed)


async def complete_processed(env: Env, row: dict, processed: ProcessedImage) -> dict:
    """Complete the pending `row` with its processed upload. Returns the completed row."""
    db = env.DB
    image_id = row["id"]
    moment = utcnow()
    now = iso(moment)
    if not await table.claim_upload(db, image_id, now, iso(moment - STALE_ATTEMPT)):
        raise not_pending_error(await table.get(db, image_id), image_id)

    async def completed_row() -> dict:
        filename = row["filename"]
        named = _named_by_client(row)
        if not (named and client_extension(row["original_name"])):
            stem = filename.rpartition(".")[0] or image_id[:8]
            filename = f"{stem}.{processed.extension}"
        if row["album_id"] is not None and named:
            # Another upload into the album may have completed with this name meanwhile
            # (checked again, atomically, by the UPDATE that makes the row ready).
            if await table.path_taken(
                db, row["owner"], row["album_id"], filename, image_id, ready_only=True
            ):
                raise await taken_meanwhile(filename)
        else:
            filename = await unique_filename(
                db, row["owner"], row["album_id"], filename, row["short_id"], except_id=image_id
            )
        # Completion time, not creation time: see the module's docstring.
        return {
            **row,
            "filename": filename,
            **processed_columns(processed),
            "created_at": now,
            "updated_at": now,
            "status": "ready",
        }

    async def taken_meanwhile(filename: str) -> ApiError:
        album = await album_table.get(db, row["album_id"])
        return filename_taken_error(filename, album["slug"] if album else None)

    async def make_ready(completed: dict, ending: list[D1PreparedStatement]) -> None:
        # The columns completion sets (write_image decides the ones describing objects).
        fields = {name: completed[name] for name in COMPLETED_COLUMNS}
        path_unique = row["album_id"] is not None and _named_by_client(row)
        changed, *_ = await db.batch(
            [
                table.complete_upload_statement(db, image_id, fields, path_unique=path_unique),
                *ending,
            ]
        )
        if not int(changed["meta"]["changes"]):
            if path_unique and await table.path_taken(
                db, row["owner"], row["album_id"], fields["filename"], image_id, ready_only=True
            ):
                raise await taken_meanwhile(fields["filename"])
            raise ApiError(
                409, "This upload URL has already been used", details={"image_id": image_id}
            )

    async def release() -> None:
        await table.release_upload(db, image_id, iso(utcnow()))

    await write_image(
        env, processed, row["owner"], build_row=completed_row, commit=make_ready, release=release
    )
    completed = await table.get(db, image_id)
    assert completed is not None  # made ready by the write above
    return completed


# -- R2 presigned uploads: completing from the bucket -----------------------------------------


async def complete_from_bucket(env: Env, settings: Settings, row: dict) -> dict | None:
    """Complete a pending row from `uploads/{id}` if the client has put it there.
    Returns the image row, None if not uploaded yet."""
    key = incoming_key(row["id"])
    head = await env.BUCKET.head(key)
    if head is None:
        return None
    # Bytes that went straight to R2 have PixelFlare's documented limit (100 MB,
    # DIRECT_UPLOAD_MAX_BYTES), not MAX_UPLOAD_BYTES, which is for bytes the Worker receives.
    limit = settings.direct_upload_max_bytes
    if head.size > limit:
        await env.BUCKET.delete(key)
        raise ApiError(
            413,
            f"File exceeds the {limit} byte limit",
            code="FILE_TOO_LARGE",
            details={"image_id": row["id"], "max_bytes": limit},
        )
    try:
        if head.size > settings.max_upload_bytes:
            # Too large to hold in the Worker: processed where it lies, through streams.
            processed = await process_stored_upload(env, key, settings)
            completed = await complete_processed(env, row, processed)
        else:
            obj = await env.BUCKET.get(key)
            if obj is None:
                return None
            completed = await complete_upload(env, settings, row, await body_bytes(obj))
    except ApiError as exc:
        if exc.status < 500 and exc.status != 409:
            await env.BUCKET.delete(key)  # rejected bytes: the URL may be used again
        raise
    await env.BUCKET.delete(key)
    return completed


R2_CREATE_ACTIONS = {"PutObject", "CopyObject", "CompleteMultipartUpload"}


def is_r2_event(body) -> bool:
    """An R2 event notification (as queued by `wrangler r2 bucket notification create`)."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("object"), dict)
        and isinstance(body.get("action"), str)
    )


@message_handler(is_r2_event)
async def enqueue_r2_event(env: Env, body: dict) -> None:
    """Turn an R2 event notification into a durable job (retried with backoff)."""
    key = body["object"].get("key") or ""
    if body["action"] in R2_CREATE_ACTIONS and image_id_of_incoming(key):
        await enqueue(env, "upload.complete", {"image_id": image_id_of_incoming(key)})


@job_handler("upload.complete")
async def complete_upload_job(env: Env, payload: dict) -> None:
    row = await table.get(env.DB, payload["image_id"])
    if row is None or row["status"] not in ("pending", "uploading"):
        await env.BUCKET.delete(incoming_key(payload["image_id"]))  # nothing waits for it
        return
    try:
        await complete_from_bucket(env, Settings.from_env(env), row)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        log.warning(
            json.dumps(
                {
                    "event": "upload_rejected",
                    "image_id": row["id"],
                    "status": exc.status,
                    "error": exc.error,
                }
            )
        )


# -- cleanup -------------------------------------------------------------------------------------


def _possible_keys(row: dict) -> list[str]:
    """Every object an unfinished upload may have left (its format was not known yet)."""
    keys = [incoming_key(row["id"])]
    for orientation in ("landscape", "portrait"):
        keys += [f"images/{orientation}/{row['id']}.{ext}" for ext in FORMATS]
    return keys


async def purge_unfinished(env: Env, settings: Settings, batch_size: int = 100) -> int:
    """Cron: delete two-step uploads whose URL expired without bytes, objects first."""
    cutoff = utcnow() - timedelta(seconds=settings.upload_url_ttl_seconds) - UNFINISHED_GRACE
    purged = 0
    for row in await table.stale_unfinished(env.DB, iso(cutoff), batch_size):
        await env.BUCKET.delete(_possible_keys(row))
        await env.DB.batch(
            [
                tag_table.clear_statement(env.DB, row["id"]),
                table.delete_unfinished_statement(env.DB, row["id"]),
            ]
        )
        purged += 1
    return purged


async def cancel_upload(env: Env, row: dict) -> str | None:
    """Cancel a two-step upload that has not completed: the row goes at once (there is
    nothing to restore; its tags go with it, schema.sql's delete trigger), then any object
    an attempt or an R2 presigned PUT left. Its URL then answers 410 (`not_pending_error`),
    an attempt still running fails to commit and removes what it wrote, and a queued
    completion finds nothing to complete. Returns when it was cancelled, or None when the
    upload completed meanwhile (the image is then ready, to be deleted like any other)."""
    deleted = await table.delete_unfinished_statement(env.DB, row["id"]).run()
    if not int(deleted["meta"]["changes"]):
        return None
    await env.BUCKET.delete(_possible_keys(row))
    return iso(utcnow())
