"""Queries for `tags` and `image_tags`. Counts only include visible images."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db import visibility
from pixhaven.db.d1 import execute, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement


def ensure_statement(db: D1Database, owner: str, name: str, now: str) -> D1PreparedStatement:
    return db.prepare("INSERT OR IGNORE INTO tags (owner, name, created_at) VALUES (?, ?, ?)").bind(
        owner, name, now
    )


def attach_statement(db: D1Database, owner: str, image_id: str, name: str) -> D1PreparedStatement:
    return db.prepare(
        "INSERT OR IGNORE INTO image_tags (image_id, owner, tag) VALUES (?, ?, ?)"
    ).bind(image_id, owner, name)


def detach_statement(db: D1Database, image_id: str, name: str) -> D1PreparedStatement:
    return db.prepare("DELETE FROM image_tags WHERE image_id = ? AND tag = ?").bind(image_id, name)


def clear_statement(db: D1Database, image_id: str) -> D1PreparedStatement:
    return db.prepare("DELETE FROM image_tags WHERE image_id = ?").bind(image_id)


# A tag's count = its image_counts counter (live images carrying it, kept by triggers,
# migration 0006) minus the live images carrying it whose expiry has passed: a small set,
# found through the images_expiring index, then joined to their tags (CROSS JOIN keeps
# that order, and the unary + keeps SQLite from walking all of the owner's tag links
# through image_tags_by_tag instead of each image's own). Cost independent of how many
# images there are.
_COUNTED = (
    "SELECT t.name AS name, COALESCE(c.n, 0) - COALESCE(x.n, 0) AS count FROM tags t"
    " LEFT JOIN image_counts c ON c.owner = t.owner AND c.dim = 'tag' AND c.value = t.name"
    " LEFT JOIN (SELECT it.tag AS tag, COUNT(*) AS n FROM images i"
    "  CROSS JOIN image_tags it ON it.image_id = i.id"  # CROSS: images first, never all tags
    f"  WHERE {visibility.expired('i')} AND {visibility.live('i')}"
    "  AND +it.owner = ? GROUP BY it.tag) x ON x.tag = t.name"
)


async def list_with_counts(db: D1Database, owner: str, now: str) -> list[dict]:
    return await fetch_all(
        db, f"{_COUNTED} WHERE t.owner = ? ORDER BY count DESC, t.name", now, owner, owner
    )


async def get_with_count(db: D1Database, owner: str, name: str, now: str) -> dict | None:
    return await fetch_one(
        db, f"{_COUNTED} WHERE t.owner = ? AND t.name = ?", now, owner, owner, name
    )


async def list_with_counted_rows(db: D1Database, owner: str, now: str) -> list[dict]:
    """The same list counted from the rows themselves (what the counters must agree with)."""
    return await fetch_all(
        db,
        "SELECT t.name AS name, COUNT(i.id) AS count FROM tags t"
        " LEFT JOIN image_tags it ON it.owner = t.owner AND it.tag = t.name"
        f" LEFT JOIN images i ON i.id = it.image_id AND {visibility.visible('i')}"
        " WHERE t.owner = ? GROUP BY t.name ORDER BY count DESC, t.name",
        now,
        owner,
    )


async def image_ids_with_tag(db: D1Database, owner: str, name: str) -> list[str]:
    rows = await fetch_all(
        db, "SELECT image_id FROM image_tags WHERE owner = ? AND tag = ?", owner, name
    )
    return [row["image_id"] for row in rows]


async def delete(db: D1Database, owner: str, name: str) -> int:
    await execute(db, "DELETE FROM image_tags WHERE owner = ? AND tag = ?", owner, name)
    return await execute(db, "DELETE FROM tags WHERE owner = ? AND name = ?", owner, name)


# -- whole-tag operations (CattoPic tag management) -----------------------------------------
# Lists of image ids travel as one JSON array bound to one parameter and are expanded with
# `json_each`, so any number of ids stays within D1's 100-bound-parameter limit.


async def exists(db: D1Database, owner: str, name: str) -> bool:
    return (
        await fetch_one(db, "SELECT 1 AS found FROM tags WHERE owner = ? AND name = ?", owner, name)
        is not None
    )


def rename_statements(db: D1Database, owner: str, old: str, new: str, now: str) -> list:
    """Rename `old` to `new`, merging into `new` when it already exists (its images gain
    the tag once, the older creation time of the two is kept)."""
    return [
        db.prepare(
            "INSERT OR IGNORE INTO tags (owner, name, created_at)"
            " SELECT owner, ?, created_at FROM tags WHERE owner = ? AND name = ?"
        ).bind(new, owner, old),
        db.prepare(
            "UPDATE images SET updated_at = ? WHERE id IN"
            " (SELECT image_id FROM image_tags WHERE owner = ? AND tag = ?)"
        ).bind(now, owner, old),
        db.prepare(
            "INSERT OR IGNORE INTO image_tags (image_id, owner, tag)"
            " SELECT image_id, owner, ? FROM image_tags WHERE owner = ? AND tag = ?"
        ).bind(new, owner, old),
        db.prepare("DELETE FROM image_tags WHERE owner = ? AND tag = ?").bind(owner, old),
        db.prepare("DELETE FROM tags WHERE owner = ? AND name = ?").bind(owner, old),
    ]


def soft_delete_tagged_statements(db: D1Database, owner: str, name: str, now: str) -> list:
    """Soft-delete every live image carrying the tag. The first statement counts the
    *visible* images about to be deleted (what the tag's count showed; `meta.changes` of
    the updates cannot tell, D1 adds the counter rows the triggers write); the updates
    hide them, then the invisible rest (expired, or two-step uploads still waiting for
    their bytes). In one batch, the count is exactly what the first update deletes."""
    tagged = "id IN (SELECT image_id FROM image_tags WHERE owner = ? AND tag = ?)"
    visible = visibility.visible()
    return [
        db.prepare(
            f"SELECT COUNT(*) AS n FROM images WHERE owner = ? AND {tagged} AND {visible}"
        ).bind(owner, owner, name, now),
        db.prepare(
            f"UPDATE images SET deleted_at = ?, updated_at = ? WHERE owner = ?"
            f" AND {tagged} AND {visible}"
        ).bind(now, now, owner, owner, name, now),
        db.prepare(
            f"UPDATE images SET deleted_at = ?, updated_at = ? WHERE owner = ?"
            f" AND {tagged} AND deleted_at IS NULL"
        ).bind(now, now, owner, owner, name),
    ]


def delete_statements(db: D1Database, owner: str, name: str) -> list:
    return [
        db.prepare("DELETE FROM image_tags WHERE owner = ? AND tag = ?").bind(owner, name),
        db.prepare("DELETE FROM tags WHERE owner = ? AND name = ?").bind(owner, name),
    ]


def ensure_many_statement(
    db: D1Database, owner: str, names_json: str, now: str
) -> D1PreparedStatement:
    """Create the tags named in a JSON array (existing ones are left alone)."""
    return db.prepare(
        "INSERT OR IGNORE INTO tags (owner, name, created_at) SELECT ?, value, ? FROM json_each(?)"
    ).bind(owner, now, names_json)


def attach_many_statement(
    db: D1Database, owner: str, ids_json: str, names_json: str
) -> D1PreparedStatement:
    """Every tag of one JSON array on every image of another (the owner's images only)."""
    return db.prepare(
        "INSERT OR IGNORE INTO image_tags (image_id, owner, tag)"
        " SELECT i.id, i.owner, t.value FROM images i, json_each(?) t"
        " WHERE i.owner = ? AND i.id IN (SELECT value FROM json_each(?))"
    ).bind(names_json, owner, ids_json)


def detach_many_statement(
    db: D1Database, owner: str, ids_json: str, names_json: str
) -> D1PreparedStatement:
    return db.prepare(
        "DELETE FROM image_tags WHERE owner = ?"
        " AND image_id IN (SELECT value FROM json_each(?))"
        " AND tag IN (SELECT value FROM json_each(?))"
    ).bind(owner, ids_json, names_json)
