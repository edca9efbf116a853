"""`/api/images`, which serves CattoPic and Splinterpic clients at once (SPEC §4): offset
pages with their totals, and the upload that answers with the tags the image ends up with.
The answer's shape is the routers' (routers/api_images.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db import images as table
from pixhaven.services.images.pipeline import ProcessedImage
from pixhaven.services.images.store import NewImage, record_upload
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database
    from pixhaven.bindings.env import Env


async def upload(env: Env, processed: ProcessedImage, new: NewImage) -> tuple[dict, list[str]]:
    """Record the upload; (row, its tags as stored)."""
    row = await record_upload(env, processed, new)
    return row, (await table.tags_for(env.DB, [row["id"]]))[row["id"]]


async def list_page(
    db: D1Database, owner: str, *, limit: int, offset: int, **filters
) -> tuple[list[dict], int]:
    """One newest-first page of the owner's visible images and how many match in all
    (filters: tag, orientation, formats, album_id, as db.images.list_page takes them)."""
    now = now_iso()
    rows = await table.list_page(db, owner, now, limit=limit, offset=offset, **filters)
    total = await table.count(db, owner, now, **filters)
    return rows, total
