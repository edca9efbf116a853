"""PixelFlare's image resource (`/v1/images`): albums by slug, cursors, edits.

Albums named by slug in `POST /v1/images` and `PATCH /v1/images/{id}` are created on first
use (title = slug), as PixelFlare's upload example (`{"filename": "photo.jpg", "album":
"photos"}`) uploads into an album it never created. An invalid slug is a 400.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import TYPE_CHECKING

from pixhaven.db import albums as album_table
from pixhaven.db import images as table
from pixhaven.errors import ApiError, invalid
from pixhaven.numerals import integer_from_text
from pixhaven.services.images import direct_uploads, lookup
from pixhaven.services.images import updates as image_updates
from pixhaven.services.images.albums import SLUG_PATTERN
from pixhaven.services.images.keys import (
    UUID_PATTERN,
    client_extension,
    not_found_error,
    safe_filename,
)
from pixhaven.services.images.tag_names import fold_tag_name, parse_tag_list
from pixhaven.services.images.upload_urls import r2_direct
from pixhaven.settings import Settings
from pixhaven.timeutil import iso, parse_iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env


if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

MAX_ALT_LENGTH = 1000
MAX_FILENAME_LENGTH = 255
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


# -- validation ----------------------------------------------------------------------------------


def check_slug(slug) -> str:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise invalid(
            "album must be a slug: 1-64 lowercase letters a-z, digits or '-'", field="album"
        )
    return slug


def check_filename(name, field: str = "filename") -> str:
    if not isinstance(name, str) or not name.strip():
        raise invalid("filename must be a non-empty string", field=field)
    if len(name) > MAX_FILENAME_LENGTH or any(ord(ch) < 32 for ch in name):
        raise invalid(
            f"filename must be at most {MAX_FILENAME_LENGTH} printable characters", field=field
        )
    return name.strip()


def check_alt(alt) -> str | None:
    if alt is None:
        return None
    if not isinstance(alt, str) or len(alt) > MAX_ALT_LENGTH:
        raise invalid(f"alt must be a string of at most {MAX_ALT_LENGTH} characters", field="alt")
    return alt


def check_tags(tags) -> list[str]:
    try:
        return parse_tag_list(tags)
    except ApiError as exc:
        exc.code = "INVALID_REQUEST"
        exc.details = {**(exc.details or {}), "field": "tags"}
        raise


async def album_id_for(db: D1Database, owner: str, slug: str | None) -> str | None:
    """The owner's album with this slug, created on first use. Call after validation."""
    if slug is None:
        return None
    found = await album_table.get_by_slug(db, owner, slug)
    if found is None:
        now = iso(utcnow())
        await album_table.insert_if_missing(
            db,
            {
                "id": "col_" + secrets.token_hex(12),
                "owner": owner,
                "slug": slug,
                "title": slug,
                "description": None,
                "created_at": now,
                "updated_at": now,
            },
        )
        found = await album_table.get_by_slug(db, owner, slug)
        assert found is not None  # inserted just now, or by a concurrent request
    return found["id"]


# -- the caller's image ------------------------------------------------------------------------


async def owned_image(
    env: Env,
    settings: Settings,
    owner: str,
    image_id: str,
    *,
    include_deleted: bool = False,
    include_unfinished: bool = False,
    complete_pending: bool = False,
) -> dict:
    """`/v1/images/{id}`'s image: a malformed id is a 404 like an unknown one (README);
    deleted images only with `include_deleted`; expiry is not checked here (it never was:
    an expired image stays addressable until the cron purges it). With `complete_pending`
    and R2 presigned uploads, a pending image whose bytes are in the bucket is completed
    by this read. With `include_unfinished`, a pending upload is answered as it is."""

    async def complete_from_bucket(row: dict) -> dict | None:
        return await direct_uploads.complete_from_bucket(env, settings, row)

    return await lookup.owned_image(
        env.DB,
        owner,
        image_id,
        malformed_id_error=not_found_error,
        include_deleted=include_deleted,
        include_expired=True,
        include_unfinished=include_unfinished,
        finish_upload=complete_from_bucket if complete_pending and r2_direct(settings) else None,
    )


async def soft_delete(env: Env, row: dict) -> dict:
    """`DELETE /v1/images/{id}` answers the resource as it now is (`deleted_at` set)."""
    await image_updates.soft_delete(env, row)
    deleted = await table.get(env.DB, row["id"])
    assert deleted is not None  # soft deletion keeps the row
    return deleted


# -- cursors and listing -------------------------------------------------------------------------


def encode_cursor(row: dict) -> str:
    raw = f"{row['created_at']}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    malformed = invalid("Invalid cursor", field="cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise malformed from None
    created_at, _, image_id = raw.partition("|")
    if not UUID_PATTERN.match(image_id):
        raise malformed
    try:
        parse_iso(created_at)
    except ValueError:
        raise malformed from None
    return created_at, image_id


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = integer_from_text(raw)
    if value is None:
        raise invalid("limit must be an integer", field="limit")
    if value < 1:
        raise invalid("limit must be at least 1", field="limit")
    return min(value, MAX_LIMIT)


def parse_flag(raw: str | None, field: str) -> bool:
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise invalid(f"{field} must be true or false", field=field)


ORIENTATIONS = ("landscape", "portrait")
# `format` filter values → stored formats (`jpeg` is the stored `jpg`).
FORMAT_FILTERS = {
    "jpg": "jpg",
    "jpeg": "jpg",
    "png": "png",
    "gif": "gif",
    "webp": "webp",
    "avif": "avif",
}


def parse_orientation(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in ORIENTATIONS:
        raise invalid("orientation must be landscape or portrait", field="orientation")
    return raw


def parse_formats(raw: str | None) -> tuple[str, ...] | None:
    """`format=png` or several, comma-separated (`format=jpeg,png`): the stored formats."""
    if raw is None or raw == "":
        return None
    names = [name.strip().lower() for name in raw.split(",")]
    unknown = [name for name in names if name not in FORMAT_FILTERS]
    if unknown:
        raise invalid(
            f"format must be one or more of {', '.join(FORMAT_FILTERS)}, comma-separated",
            field="format",
        )
    return tuple(dict.fromkeys(FORMAT_FILTERS[name] for name in names))


async def list_images(
    db: D1Database,
    owner: str,
    *,
    limit: int,
    cursor: str | None,
    album: str | None,
    tag: str | None,
    include_deleted: bool,
    deleted_only: bool = False,
    orientation: str | None = None,
    formats: tuple[str, ...] | None = None,
) -> tuple[list[dict], str | None]:
    """One page, newest first, and the cursor of the next page (None on the last).
    `deleted_only` is the trash: soft-deleted images not purged yet."""
    position = decode_cursor(cursor) if cursor else None
    filters: dict = {
        "include_deleted": include_deleted,
        "deleted_only": deleted_only,
        "orientation": orientation,
        "formats": formats,
    }
    if tag:
        filters["tag"] = fold_tag_name(tag)
    if album:
        found = await album_table.get_by_slug(db, owner, album)
        if found is None:
            return [], None
        filters["album_id"] = found["id"]
    rows = await table.list_after(
        db, owner, iso(utcnow()), limit=limit + 1, cursor=position, **filters
    )
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1])
    return rows, None


# -- edits ----------------------------------------------------------------------------------------


async def plan_update(db: D1Database, row: dict, body: dict, present: set[str]) -> dict:
    """Validate a PATCH body (nothing written) → keyword arguments for update_image."""
    owner = row["owner"]
    fields: dict = {}
    changes: dict = {}
    if "tags" in present:
        changes["tags"] = check_tags(body.get("tags"))
    if "alt" in present:
        fields["alt"] = check_alt(body.get("alt"))
    if "is_private" in present:
        if not isinstance(body.get("is_private"), bool):
            raise invalid("is_private must be true or false", field="is_private")
        fields["is_private"] = int(body["is_private"])
    filename = row["filename"]
    if "filename" in present:
        name = check_filename(body.get("filename"))
        # As at upload: the client's image extension is kept (its CDN URL is built from
        # it), else the stored format's.
        filename = safe_filename(
            name,
            row["filename"].rpartition(".")[0] or row["id"][:8],
            client_extension(name) or row["format"],
        )
    slug = None
    if "album" in present and body.get("album") is not None:
        slug = check_slug(body["album"])
    # Everything is valid: now the album may be created.
    album_id = row["album_id"]
    if "album" in present:
        album_id = await album_id_for(db, owner, slug)
    if filename != row["filename"] or album_id != row["album_id"]:
        if await table.path_taken(db, owner, album_id, filename, row["id"]):
            raise ApiError(
                409,
                "Another image in this album already has this filename",
                details={"field": "filename", "filename": filename},
            )
        fields["filename"] = filename
        fields["album_id"] = album_id
    if fields:
        changes["fields"] = fields
    return changes
