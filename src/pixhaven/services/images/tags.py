"""Managing tags as a whole (CattoPic `/api/tags*`, PixelFlare `/v1/tags`): list with
counts, create, rename (merging), delete with the images carrying the tag, and batch
add/remove over many images.

Every write is one D1 batch, so it happens completely or not at all; everything is scoped
by owner. Counts include only visible images (not deleted, not expired, upload complete).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db import images as image_table
from pixhaven.db import tags as table
from pixhaven.errors import ApiError, invalid
from pixhaven.services.images.keys import valid_image_id
from pixhaven.services.images.tag_names import clean_tag, clean_tag_list, fold_tag_name
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

# One request may touch at most this many images (one D1 batch, bounded work).
MAX_BATCH_IMAGES = 1000


def tag_not_found(name: str) -> ApiError:
    return ApiError(404, "Tag not found", details={"tag": name})


async def stored_name(db: D1Database, owner: str, raw: str) -> str | None:
    """The owner's tag a path names, or None. The name is folded as names are stored
    (services/images/tag_names.py); a name that could never have been stored simply matches
    nothing (404), it is not a 400. A tag stored before names were folded (`straße`, `ａｂｃ`:
    lowercased only) is still found by the name it was stored under, so it can be renamed
    into its folded name or deleted."""
    name = fold_tag_name(raw)
    if await table.exists(db, owner, name):
        return name
    legacy = raw.strip().lower()
    if legacy != name and await table.exists(db, owner, legacy):
        return legacy
    return None


async def list_tags(db: D1Database, owner: str) -> list[dict]:
    return [
        {"name": row["name"], "count": int(row["count"])}
        for row in await table.list_with_counts(db, owner, now_iso())
    ]


async def _counted(db: D1Database, owner: str, name: str) -> dict:
    row = await table.get_with_count(db, owner, name, now_iso())
    if row is None:  # deleted by a concurrent request meanwhile
        raise tag_not_found(name)
    return {"name": row["name"], "count": int(row["count"])}


async def create_tag(db: D1Database, owner: str, raw_name) -> dict:
    """Create a tag; creating one that exists answers it as it is."""
    name = clean_tag(raw_name)
    await table.ensure_statement(db, owner, name, now_iso()).run()
    return await _counted(db, owner, name)


async def rename_tag(db: D1Database, owner: str, old_raw: str, new_raw) -> dict:
    new = clean_tag(new_raw, field="newName")
    old = await stored_name(db, owner, old_raw)
    if new == (old or fold_tag_name(old_raw)):
        raise invalid("New name must be different from old name", field="newName", tag=new)
    if old is None:
        raise tag_not_found(fold_tag_name(old_raw))
    await db.batch(table.rename_statements(db, owner, old, new, now_iso()))
    return await _counted(db, owner, new)


async def delete_tag(db: D1Database, owner: str, raw_name: str) -> int:
    """Delete the tag and soft-delete its images (restorable like any deleted image).
    Returns how many visible images were deleted: 0 for a tag the owner does not have, as
    CattoPic's server answers (deleting is idempotent: a second click, another tab)."""
    name = await stored_name(db, owner, raw_name)
    if name is None:
        return 0
    results = await db.batch(
        [
            *table.soft_delete_tagged_statements(db, owner, name, now_iso()),
            *table.delete_statements(db, owner, name),
        ]
    )
    return int(results[0]["results"][0]["n"])


def _tag_array(body: dict, field: str) -> list[str]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, (list, str)):
        raise invalid(f"{field} must be an array of tag names", field=field)
    return clean_tag_list(value, field=field)


def _image_ids(body: dict) -> list[str]:
    ids = body.get("imageIds")
    if not isinstance(ids, list) or not ids:
        raise invalid("imageIds must be a non-empty array of image IDs", field="imageIds")
    if len(ids) > MAX_BATCH_IMAGES:
        raise invalid(
            f"imageIds may name at most {MAX_BATCH_IMAGES} images",
            field="imageIds",
            max=MAX_BATCH_IMAGES,
        )
    malformed = [item for item in ids if not isinstance(item, str) or not valid_image_id(item)]
    if malformed:
        raise invalid("Invalid image ID", field="imageIds", invalid_ids=malformed)
    return list(dict.fromkeys(item.lower() for item in ids))


async def batch_update(db: D1Database, owner: str, body: dict) -> int:
    """Add and remove tags on many of the owner's images at once; returns how many images
    were updated. Every id must be one of the caller's live images, else nothing changes:
    malformed ids → 400, ids that are not the caller's (or are deleted) → 404, both naming
    the ids."""
    ids = _image_ids(body)
    add = _tag_array(body, "addTags")
    remove = _tag_array(body, "removeTags")
    both = sorted(set(add) & set(remove))
    if both:
        raise invalid("A tag cannot be both added and removed", field="addTags", tags=both)
    ids_json = json.dumps(ids)
    found = await image_table.live_ids_among(db, owner, ids_json)
    missing = [image_id for image_id in ids if image_id not in found]
    if missing:
        raise ApiError(404, "Image not found", details={"image_ids": missing})
    if not add and not remove:
        return 0
    now = now_iso()
    statements = []
    if remove:
        statements.append(table.detach_many_statement(db, owner, ids_json, json.dumps(remove)))
    if add:
        names_json = json.dumps(add)
        statements.append(table.ensure_many_statement(db, owner, names_json, now))
        statements.append(table.attach_many_statement(db, owner, ids_json, names_json))
    statements.append(image_table.touch_many_statement(db, owner, ids_json, now))
    results = await db.batch(statements)
    return int(results[-1]["meta"]["changes"])
