"""Queries for `tags` and `image_tags`. Counts only include visible images."""

from .d1 import execute, fetch_all, fetch_one
from .images import VISIBLE

_VISIBLE_I = VISIBLE.replace("deleted_at", "i.deleted_at").replace("status", "i.status").replace(
    "expires_at", "i.expires_at")


def ensure_statement(db, owner: str, name: str, now: str):
    return db.prepare("INSERT OR IGNORE INTO tags (owner, name, created_at) VALUES (?, ?, ?)"
                      ).bind(owner, name, now)


def attach_statement(db, owner: str, image_id: str, name: str):
    return db.prepare("INSERT OR IGNORE INTO image_tags (image_id, owner, tag) VALUES (?, ?, ?)"
                      ).bind(image_id, owner, name)


def detach_statement(db, image_id: str, name: str):
    return db.prepare("DELETE FROM image_tags WHERE image_id = ? AND tag = ?").bind(image_id, name)


def clear_statement(db, image_id: str):
    return db.prepare("DELETE FROM image_tags WHERE image_id = ?").bind(image_id)


async def list_with_counts(db, owner: str, now: str) -> list[dict]:
    return await fetch_all(
        db, "SELECT t.name AS name, COUNT(i.id) AS count FROM tags t"
            " LEFT JOIN image_tags it ON it.owner = t.owner AND it.tag = t.name"
            f" LEFT JOIN images i ON i.id = it.image_id AND {_VISIBLE_I}"
            " WHERE t.owner = ? GROUP BY t.name ORDER BY count DESC, t.name", now, owner)


async def get_with_count(db, owner: str, name: str, now: str) -> dict | None:
    return await fetch_one(
        db, "SELECT t.name AS name, COUNT(i.id) AS count FROM tags t"
            " LEFT JOIN image_tags it ON it.owner = t.owner AND it.tag = t.name"
            f" LEFT JOIN images i ON i.id = it.image_id AND {_VISIBLE_I}"
            " WHERE t.owner = ? AND t.name = ? GROUP BY t.name", now, owner, name)


async def image_ids_with_tag(db, owner: str, name: str) -> list[str]:
    rows = await fetch_all(db, "SELECT image_id FROM image_tags WHERE owner = ? AND tag = ?",
                           owner, name)
    return [row["image_id"] for row in rows]


async def delete(db, owner: str, name: str) -> int:
    await execute(db, "DELETE FROM image_tags WHERE owner = ? AND tag = ?", owner, name)
    return await execute(db, "DELETE FROM tags WHERE owner = ? AND name = ?", owner, name)
