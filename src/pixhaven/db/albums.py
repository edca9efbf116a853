"""Queries for `albums` (PixelFlare albums = Splinterpic collections)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db import visibility
from pixhaven.db.d1 import execute, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement

COLUMNS = "id, owner, slug, title, description, created_at, updated_at"
# An album's columns plus how many visible images it holds (walks images_by_album).
_WITH_COUNT = (
    "a.id AS id, a.owner AS owner, a.slug AS slug, a.title AS title,"
    " a.description AS description, a.created_at AS created_at, a.updated_at AS updated_at,"
    f" (SELECT COUNT(*) FROM images i WHERE i.album_id = a.id AND {visibility.visible('i')})"
    " AS image_count"
)


async def get_by_slug(db: D1Database, owner: str, slug: str) -> dict | None:
    return await fetch_one(
        db, f"SELECT {COLUMNS} FROM albums WHERE owner = ? AND slug = ?", owner, slug
    )


async def get_by_id_or_slug(db: D1Database, owner: str, key: str) -> dict | None:
    return await fetch_one(
        db,
        f"SELECT {COLUMNS} FROM albums WHERE owner = ? AND (id = ? OR slug = ?)"
        " ORDER BY id = ? DESC LIMIT 1",
        owner,
        key,
        key,
        key,
    )


async def get(db: D1Database, album_id: str) -> dict | None:
    return await fetch_one(db, f"SELECT {COLUMNS} FROM albums WHERE id = ?", album_id)


async def list_for_owner(db: D1Database, owner: str) -> list[dict]:
    return await fetch_all(
        db, f"SELECT {COLUMNS} FROM albums WHERE owner = ? ORDER BY created_at, id", owner
    )


async def update_fields(db: D1Database, album_id: str, fields: dict, updated_at: str) -> int:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    return await execute(
        db,
        f"UPDATE albums SET {assignments}, updated_at = ? WHERE id = ?",
        *fields.values(),
        updated_at,
        album_id,
    )


async def delete(db: D1Database, album_id: str) -> int:
    return await execute(db, "DELETE FROM albums WHERE id = ?", album_id)


async def slugs_for(db: D1Database, album_ids: set[str]) -> dict[str, str]:
    """album id → slug for a page of images."""
    ids = sorted(album_ids)
    slugs: dict[str, str] = {}
    for start in range(0, len(ids), 90):
        chunk = ids[start : start + 90]
        marks = ", ".join("?" for _ in chunk)
        for row in await fetch_all(
            db, f"SELECT id, slug FROM albums WHERE id IN ({marks})", *chunk
        ):
            slugs[row["id"]] = row["slug"]
    return slugs


# -- with image counts (PixelFlare albums, Splinterpic collections) --------------------------


_INSERT = f"INSERT INTO albums ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _values(row: dict) -> tuple:
    """An album row's values in COLUMNS order."""
    return tuple(row[column] for column in COLUMNS.split(", "))


def insert_statement(db: D1Database, row: dict) -> D1PreparedStatement:
    return db.prepare(_INSERT).bind(*_values(row))


def delete_statement(db: D1Database, album_id: str) -> D1PreparedStatement:
    return db.prepare("DELETE FROM albums WHERE id = ?").bind(album_id)


async def get_counted(db: D1Database, owner: str, album_id: str, now: str) -> dict | None:
    return await fetch_one(
        db,
        f"SELECT {_WITH_COUNT} FROM albums a WHERE a.owner = ? AND a.id = ?",
        now,
        owner,
        album_id,
    )


async def list_counted(
    db: D1Database,
    owner: str,
    now: str,
    *,
    newest_first: bool = False,
    limit: int = -1,
    offset: int = 0,
) -> list[dict]:
    # rowid breaks ties between albums created in the same millisecond: creation order.
    order = "DESC" if newest_first else "ASC"
    return await fetch_all(
        db,
        f"SELECT {_WITH_COUNT} FROM albums a WHERE a.owner = ?"
        f" ORDER BY a.created_at {order}, a.rowid {order} LIMIT ? OFFSET ?",
        now,
        owner,
        limit,
        offset,
    )


async def count_for_owner(db: D1Database, owner: str) -> int:
    row = await fetch_one(db, "SELECT COUNT(*) AS n FROM albums WHERE owner = ?", owner)
    assert row is not None  # COUNT(*) answers one row
    return int(row["n"])


async def slugs_like(db: D1Database, owner: str, base: str) -> set[str]:
    """The owner's slugs equal to `base` or of the form `base-…` (to pick a free one)."""
    rows = await fetch_all(
        db,
        "SELECT slug FROM albums WHERE owner = ? AND (slug = ? OR substr(slug, 1, ?) = ?)",
        owner,
        base,
        len(base) + 1,
        base + "-",
    )
    return {row["slug"] for row in rows}


async def insert_if_missing(db: D1Database, row: dict) -> None:
    """Create the album unless the owner already has one with this slug."""
    await execute(db, _INSERT + " ON CONFLICT (owner, slug) DO NOTHING", *_values(row))
