"""Albums (PixelFlare) = collections (Splinterpic): one table, addressable by id and slug.

Both products see the same resource: PixelFlare's `slug`/`title`, Splinterpic's `name`
(the title), with `image_count` counting visible images. Deleting an album keeps its
images: they leave it (album_id NULL) in the same D1 batch that removes the album.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any, Literal, overload

from pixhaven.db import albums as table
from pixhaven.db import images as image_table
from pixhaven.errors import ApiError, invalid
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

SLUG_PATTERN = re.compile(r"^[a-z0-9-]{1,64}$")
MAX_SLUG = 64
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
DERIVED_SLUG_FALLBACK = "collection"


def album_resource(row: dict) -> dict:
    return {
        "id": row["id"],
        "slug": row["slug"],
        "title": row["title"],
        "name": row["title"],
        "description": row["description"],
        "owner": row["owner"],
        "image_count": int(row["image_count"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def album_not_found(slug: str) -> ApiError:
    return ApiError(404, "Album not found", details={"slug": slug})


def collection_not_found(key: str) -> ApiError:
    return ApiError(404, "Collection not found", details={"collection_id": key})


def conflict(slug: str) -> ApiError:
    return ApiError(
        409,
        f"An album with slug '{slug}' already exists",
        code="CONFLICT",
        details={"field": "slug", "slug": slug},
    )


# -- validation ---------------------------------------------------------------------------


# Albums and collections answer a bad field with its problem twice: as the error and,
# beside the field's name, as `details.message`.


def valid_slug(value, field: str = "slug") -> str:
    if not isinstance(value, str) or not value:
        problem = "slug is required"
    elif not SLUG_PATTERN.match(value):
        problem = "slug must be 1-64 characters of lowercase letters a-z, digits and '-'"
    else:
        return value
    raise invalid(problem, field=field, explanation=problem)


@overload
def _text(value: object, field: str, limit: int, *, required: Literal[True]) -> str: ...
@overload
def _text(value: object, field: str, limit: int, *, required: bool) -> str | None: ...
def _text(value, field: str, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        problem = f"{field} is required" if required else f"{field} must be a string"
    elif len(value.strip()) > limit:
        problem = f"{field} must be {limit} characters or less"
    else:
        return value.strip()
    raise invalid(problem, field=field, explanation=problem)


def derive_slug(name: str) -> str:
    """A slug from a collection name: lowercase ASCII letters and digits, runs of anything
    else become '-'. Names with no such characters (e.g. all CJK) get "collection"."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_SLUG].strip("-")
    return slug or DERIVED_SLUG_FALLBACK


def _free_slug(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: MAX_SLUG - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


# -- reading ------------------------------------------------------------------------------


async def find_by_slug(db: D1Database, owner: str, slug: str) -> dict:
    row = await table.get_by_slug(db, owner, slug)
    if row is None:
        raise album_not_found(slug)
    return row


async def find_collection(db: D1Database, owner: str, key: str) -> dict:
    """A collection by id or slug (Splinterpic clients hold ids; slugs are friendlier)."""
    row = await table.get_by_id_or_slug(db, owner, key)
    if row is None:
        raise collection_not_found(key)
    return row


async def resource(db: D1Database, owner: str, row: dict) -> dict:
    counted = await table.get_counted(db, owner, row["id"], now_iso())
    if counted is None:  # deleted by a concurrent request meanwhile
        raise album_not_found(row["slug"])
    return album_resource(counted)


async def list_albums(db: D1Database, owner: str) -> list[dict]:
    return [album_resource(row) for row in await table.list_counted(db, owner, now_iso())]


async def list_collections(
    db: D1Database, owner: str, limit: int, offset: int
) -> tuple[list[dict], int]:
    rows = await table.list_counted(
        db, owner, now_iso(), newest_first=True, limit=limit, offset=offset
    )
    return [album_resource(row) for row in rows], await table.count_for_owner(db, owner)


# -- writing ------------------------------------------------------------------------------


def _is_unique_violation(exc: Exception) -> bool:
    return "UNIQUE" in str(exc).upper()


async def _insert(
    db: D1Database, owner: str, slug: str, title: str, description: str | None
) -> dict:
    now = now_iso()
    row = {
        "id": "col_" + secrets.token_hex(12),
        "owner": owner,
        "slug": slug,
        "title": title,
        "description": description,
        "created_at": now,
        "updated_at": now,
    }
    await db.batch([table.insert_statement(db, row)])
    return row


async def create_album(db: D1Database, owner: str, body: dict) -> dict:
    """PixelFlare: the client chooses the slug; a taken slug is a 409."""
    slug = valid_slug(body.get("slug"))
    title = _text(body.get("title"), "title", MAX_TITLE, required=False) or slug
    description = _text(body.get("description"), "description", MAX_DESCRIPTION, required=False)
    if await table.get_by_slug(db, owner, slug) is not None:
        raise conflict(slug)
    try:
        row = await _insert(db, owner, slug, title, description)
    except Exception as exc:
        if _is_unique_violation(exc):  # lost a race with the same slug
            raise conflict(slug) from None
        raise
    return await resource(db, owner, row)


async def create_collection(db: D1Database, owner: str, body: dict) -> dict:
    """Splinterpic: the slug is derived from the name and made unique for the owner."""
    name = _text(body.get("name"), "name", MAX_TITLE, required=True)
    description = _text(body.get("description"), "description", MAX_DESCRIPTION, required=False)
    base = derive_slug(name)
    for _attempt in range(5):
        slug = _free_slug(base, await table.slugs_like(db, owner, base))
        try:
            row = await _insert(db, owner, slug, name, description)
        except Exception as exc:
            if _is_unique_violation(exc):  # someone took it meanwhile: pick again
                continue
            raise
        return await resource(db, owner, row)
    raise ApiError(
        409,
        "Could not find a free slug for this collection name",
        code="CONFLICT",
        details={"field": "name", "slug": base},
    )


async def update_album(db: D1Database, owner: str, row: dict, body: dict) -> dict:
    """PATCH: any of slug, title, description (null clears the description)."""
    fields: dict[str, Any] = {}  # column → new value
    if "slug" in body:
        slug = valid_slug(body["slug"])
        if slug != row["slug"]:
            if await table.get_by_slug(db, owner, slug) is not None:
                raise conflict(slug)
            fields["slug"] = slug
    if "title" in body:
        fields["title"] = _text(body["title"], "title", MAX_TITLE, required=True)
    if "description" in body:
        fields["description"] = _text(
            body["description"], "description", MAX_DESCRIPTION, required=False
        )
    if fields:
        try:
            await table.update_fields(db, row["id"], fields, now_iso())
        except Exception as exc:
            if _is_unique_violation(exc):
                raise conflict(fields["slug"]) from None
            raise
    return await resource(db, owner, row)


async def delete_album(db: D1Database, owner: str, row: dict) -> dict:
    """Remove the album; its images stay, in no album. Returns the album as it was."""
    gone = await resource(db, owner, row)
    await db.batch(
        [
            image_table.detach_album_statement(db, row["id"], now_iso()),
            table.delete_statement(db, row["id"]),
        ]
    )
    return gone
