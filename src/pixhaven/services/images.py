"""Images: recording an upload (objects first, then one D1 batch), object keys, and the
shapes each dialect answers with.

Object keys are derived here from the image's id, orientation and format, never from user
input: `images/{orientation}/{id}.{ext}` (CattoPic's layout) plus `.webp` / `.avif` versions
and `variants/{id}/{variant}.{ext}` for on-demand variants.
"""

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import Request

from ..db import images as table
from ..db import tags as tag_table
from ..errors import ApiError
from ..settings import Settings
from ..timeutil import iso, utcnow
from .jobs import enqueue, job_handler

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SHORT_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
NO_ALBUM_SLUG = "_"  # the album path component of images in no album
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif",
                 "webp": "image/webp", "avif": "image/avif"}


def is_visible(row: dict, now: str) -> bool:
    """The Python twin of db.images.VISIBLE: not deleted, complete, not expired."""
    return (row["deleted_at"] is None and row["status"] == "ready"
            and (row["expires_at"] is None or row["expires_at"] > now))


def valid_image_id(image_id: str) -> bool:
    return bool(UUID_PATTERN.match(image_id.lower()))


def new_short_id() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(10))


def safe_filename(name: str | None, default_stem: str, extension: str) -> str:
    """A CDN-safe file name: the stem of the uploaded name reduced to [a-z0-9._-], with the
    extension of the *detected* format (a PNG named photo.jpg is served as photo.png)."""
    stem = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")[:100]
    return f"{stem or default_stem}.{extension}"


# -- object keys -----------------------------------------------------------------------------

def original_key(row: dict) -> str:
    return f"images/{row['orientation']}/{row['id']}.{row['format']}"


def version_key(row: dict, version: str) -> str:
    return f"images/{row['orientation']}/{row['id']}.{version}"


def variant_key(row: dict, variant: str, extension: str) -> str:
    return f"variants/{row['id']}/{variant}.{extension}"


def object_keys(row: dict) -> dict[str, str]:
    """The stored versions of an image: original, and webp/avif when they exist."""
    keys = {"original": original_key(row)}
    for version, size_column in (("webp", "webp_size"), ("avif", "avif_size")):
        if row.get(size_column) is not None:
            keys[version] = version_key(row, version)
    return keys


# -- URLs --------------------------------------------------------------------------------------

def base_url(request: Request, settings: Settings) -> str:
    """`PUBLIC_BASE_URL`, else the origin the client used."""
    if settings.public_base_url:
        return settings.public_base_url
    return f"{request.url.scheme}://{request.url.netloc}"


def object_url(base: str, key: str) -> str:
    return f"{base}/r2/{key}"


def cdn_url(base: str, row: dict, album_slug: str | None) -> str:
    return f"{base}/{row['owner']}/{album_slug or NO_ALBUM_SLUG}/{row['filename']}"


# -- shapes --------------------------------------------------------------------------------------

def cattopic_image(row: dict, tags: list[str], base: str) -> dict:
    """CattoPic's ImageMetadata. Missing versions keep the documented keys: the path and URL
    fall back to the original and the size is 0, so clients indexing them never break."""
    keys = object_keys(row)
    paths = {version: keys.get(version, keys["original"]) for version in ("original", "webp", "avif")}
    sizes = {"original": row["size"], "webp": row["webp_size"] or 0, "avif": row["avif_size"] or 0}
    return {
        "id": row["id"],
        "originalName": row["original_name"],
        "uploadTime": row["created_at"],
        "expiryTime": row["expires_at"],
        "orientation": row["orientation"],
        "tags": tags,
        "format": row["format"],
        "width": row["width"],
        "height": row["height"],
        "paths": paths,
        "sizes": sizes,
        "urls": {version: object_url(base, key) for version, key in paths.items()},
    }


def api_image(row: dict, tags: list[str], base: str, album_slug: str | None = None) -> dict:
    """`/api/images` serves CattoPic and Splinterpic clients at once (SPEC §4): CattoPic's
    fields plus Splinterpic's snake_case ones."""
    shaped = cattopic_image(row, tags, base)
    shaped.update({
        "url": shaped["urls"]["original"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "prompt": row["prompt"],
        "model": row["model"],
        "template": row["template"],
        "source": row["source"],
        "collection_id": row["album_id"],
        "content_type": row["content_type"],
        "size": row["size"],
        "alt": row["alt"],
        "is_private": bool(row["is_private"]),
        "placeholder": row["placeholder"],
        "short_id": row["short_id"],
        "cdn_url": cdn_url(base, row, album_slug),
    })
    return shaped


def pixelflare_image(row: dict, tags: list[str], base: str, album_slug: str | None) -> dict:
    """PixelFlare's image resource."""
    return {
        "id": row["id"],
        "short_id": row["short_id"],
        "filename": row["filename"],
        "album": album_slug,
        "owner": row["owner"],
        "content_type": row["content_type"],
        "size": row["size"],
        "width": row["width"],
        "height": row["height"],
        "tags": tags,
        "alt": row["alt"],
        "is_private": bool(row["is_private"]),
        "status": row["status"],
        "placeholder": row["placeholder"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted_at": row["deleted_at"],
        "cdn_url": cdn_url(base, row, album_slug),
        "short_url": f"{base}/{row['short_id']}",
    }


# -- recording an upload -----------------------------------------------------------------------

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


async def unique_filename(db, owner: str, album_id: str | None, filename: str, short_id: str,
                          except_id: str = "") -> str:
    """`filename`, or `{stem}-{short_id}.{ext}` if another live image of the owner's album
    (other than `except_id`) already has it: CDN paths must stay unambiguous."""
    if not await table.path_taken(db, owner, album_id, filename, except_id):
        return filename
    stem, _, extension = filename.rpartition(".")
    return f"{stem}-{short_id}.{extension}"


def tag_statements(db, owner: str, image_id: str, tags: list[str], now: str) -> list:
    statements = []
    for name in tags:
        statements.append(tag_table.ensure_statement(db, owner, name, now))
        statements.append(tag_table.attach_statement(db, owner, image_id, name))
    return statements


async def record_upload(env, processed, new: NewImage) -> tuple[dict, bool]:
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
        "id": image_id, "short_id": short_id, "owner": new.owner, "album_id": new.album_id,
        "filename": await unique_filename(
            db, new.owner, new.album_id,
            safe_filename(new.original_name, image_id[:8], extension), short_id),
        "original_name": new.original_name or f"{image_id}.{extension}",
        "content_type": processed.content_type, "format": extension,
        "width": processed.width, "height": processed.height,
        "orientation": processed.orientation, "animated": int(processed.animated),
        "size": len(processed.original),
        "webp_size": len(processed.webp) if processed.webp is not None else None,
        "avif_size": len(processed.avif) if processed.avif is not None else None,
        "content_hash": processed.content_hash, "placeholder": processed.placeholder,
        "alt": new.alt, "is_private": int(new.is_private), "source": new.source,
        "prompt": new.prompt, "model": new.model, "template": new.template,
        "status": "ready", "rand": secrets.randbits(31),
        "created_at": now, "updated_at": now,
        "expires_at": (iso(now_moment + timedelta(minutes=new.expiry_minutes))
                       if new.expiry_minutes else None),
    }
    bodies = {"original": processed.original, "webp": processed.webp, "avif": processed.avif}
    written = []
    try:
        for version, key in object_keys(row).items():
            await env.BUCKET.put(key, bodies[version], httpMetadata={
                "contentType": CONTENT_TYPES[row["format"] if version == "original" else version],
                "cacheControl": IMMUTABLE}, customMetadata={"image_id": image_id})
            written.append(key)
        await db.batch([table.insert_statement(db, row),
                        *tag_statements(db, new.owner, image_id, new.tags, now)])
    except Exception as exc:
        await delete_objects_or_defer(env, written, new.owner)
        duplicate = await table.find_by_hash(db, new.owner, processed.content_hash)
        if duplicate is not None and "UNIQUE" in str(exc).upper():
            # Lost a race with an identical upload: answer with the winner.
            return await _merge_duplicate(env, duplicate, new), False
        raise
    return row, True


async def _merge_duplicate(env, existing: dict, new: NewImage) -> dict:
    if new.tags:
        now = iso(utcnow())
        await env.DB.batch(tag_statements(env.DB, existing["owner"], existing["id"], new.tags, now))
    return existing


# -- deleting objects --------------------------------------------------------------------------

async def delete_objects_or_defer(env, keys: list[str], owner: str | None = None) -> None:
    """Delete objects now; if R2 fails, leave a durable job that retries until done."""
    if not keys:
        return
    try:
        await env.BUCKET.delete(keys)
    except Exception:
        await enqueue(env, "objects.delete", {"keys": keys}, owner=owner)


@job_handler("objects.delete")
async def delete_objects_job(env, payload: dict) -> None:
    await env.BUCKET.delete(list(payload["keys"]))


def invalid_id_error(image_id: str) -> ApiError:
    return ApiError(400, "Invalid image ID", code="INVALID_REQUEST", details={"image_id": image_id})


def not_found_error(image_id: str) -> ApiError:
    return ApiError(404, "Image not found", details={"image_id": image_id})
