"""Finding the caller's image by id: one lookup for every dialect that addresses an image of
its own (CattoPic and Splinterpic at `/api/images/{id}`, PixelFlare at `/v1/images/{id}`).

The dialects differ only in what they may see and in how they refuse a malformed id, so
those are parameters; the lookup, its order of checks and its 404 are shared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pixhaven.db import albums as album_table
from pixhaven.db import images as table
from pixhaven.db.visibility import is_expired
from pixhaven.errors import ApiError, invalid
from pixhaven.services.images.keys import (
    not_found_error,
    splinterpic_image_id,
    valid_image_id,
)
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database


async def owned_image(
    db: D1Database,
    owner: str,
    image_id: str,
    *,
    malformed_id_error: Callable[[str], ApiError] | None = None,
    include_deleted: bool = False,
    include_expired: bool = False,
    include_unfinished: bool = False,
    finish_upload: Callable[[dict], Awaitable[dict | None]] | None = None,
) -> dict:
    """The owner's image `image_id`, or the ApiError to answer with.

    With the defaults this is what lists show (`db/visibility.is_visible`: complete, not deleted,
    not expired), and a malformed id is CattoPic's 400 "Invalid image ID" — except an id of
    Splinterpic's shape (`img_…`), which is Splinterpic's 404 "Image not found" with the id,
    as its document answers `GET /api/images/img_invalid` (its clients branch on the 404).
    An image whose upload is not complete is a 404 unless `finish_upload(row)` completes it
    (PixelFlare's R2 presigned uploads, on first read), or answered as it is with
    `include_unfinished` (to cancel it). Someone else's image is a 404, exactly like a
    missing one.
    """
    if not valid_image_id(image_id):
        if malformed_id_error is not None:
            raise malformed_id_error(image_id)
        if splinterpic_image_id(image_id):
            raise not_found_error(image_id)
        raise invalid("Invalid image ID", image_id=image_id)
    row = await table.get_for_owner(db, image_id.lower(), owner)
    if row is None:
        raise not_found_error(image_id)
    if row["status"] != "ready" and not include_unfinished:
        completed = await finish_upload(row) if finish_upload is not None else None
        if completed is None:
            raise not_found_error(image_id)
        row = completed
    if row["deleted_at"] is not None and not include_deleted:
        raise not_found_error(image_id)
    if not include_expired and is_expired(row, now_iso()):
        raise not_found_error(image_id)
    return row


async def tags_and_album_slugs(
    db: D1Database, rows: list[dict]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """What every image answer shows besides the rows: the images' tags by image id and
    their albums' slugs by album id (one query each, whatever the number of rows)."""
    tags = await table.tags_for(db, [row["id"] for row in rows])
    slugs = await album_table.slugs_for(db, {row["album_id"] for row in rows if row["album_id"]})
    return tags, slugs
