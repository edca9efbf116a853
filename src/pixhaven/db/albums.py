"""Queries for `albums` (PixelFlare albums = Splinterpic collections)."""

from .d1 import execute, fetch_all, fetch_one

COLUMNS = "id, owner, slug, title, description, created_at, updated_at"


async def insert(db, row: dict) -> None:
    await execute(db, f"INSERT INTO albums ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  row["id"], row["owner"], row["slug"], row["title"], row["description"],
                  row["created_at"], row["updated_at"])


async def get_by_slug(db, owner: str, slug: str) -> dict | None:
    return await fetch_one(db, f"SELECT {COLUMNS} FROM albums WHERE owner = ? AND slug = ?",
                           owner, slug)


async def get_by_id_or_slug(db, owner: str, key: str) -> dict | None:
    return await fetch_one(
        db, f"SELECT {COLUMNS} FROM albums WHERE owner = ? AND (id = ? OR slug = ?)"
            " ORDER BY id = ? DESC LIMIT 1", owner, key, key, key)


async def get(db, album_id: str) -> dict | None:
    return await fetch_one(db, f"SELECT {COLUMNS} FROM albums WHERE id = ?", album_id)


async def list_for_owner(db, owner: str) -> list[dict]:
    return await fetch_all(db, f"SELECT {COLUMNS} FROM albums WHERE owner = ?"
                               " ORDER BY created_at, id", owner)


async def update_fields(db, album_id: str, fields: dict, updated_at: str) -> int:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    return await execute(db, f"UPDATE albums SET {assignments}, updated_at = ? WHERE id = ?",
                         *fields.values(), updated_at, album_id)


async def delete(db, album_id: str) -> int:
    return await execute(db, "DELETE FROM albums WHERE id = ?", album_id)


async def slugs_for(db, album_ids: set[str]) -> dict[str, str]:
    """album id → slug for a page of images."""
    ids = sorted(album_ids)
    slugs: dict[str, str] = {}
    for start in range(0, len(ids), 90):
        chunk = ids[start:start + 90]
        marks = ", ".join("?" for _ in chunk)
        for row in await fetch_all(db, f"SELECT id, slug FROM albums WHERE id IN ({marks})", *chunk):
            slugs[row["id"]] = row["slug"]
    return slugs


async def insert_if_missing(db, row: dict) -> None:
    """Create the album unless the owner already has one with this slug."""
    await execute(db, f"INSERT INTO albums ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                      " ON CONFLICT (owner, slug) DO NOTHING",
                  row["id"], row["owner"], row["slug"], row["title"], row["description"],
                  row["created_at"], row["updated_at"])
