"""Queries over the images anyone may see: random selection and public serving lookups.

Kept apart from db/images.py (the owner-scoped queries) because every query here is
*unauthenticated*: each one spells out the full public-visibility rule itself.

Public = not deleted, upload complete, not private, not expired (db/visibility.py). The
first three are the WHERE clause of the partial indexes `images_random (orientation, rand)`
and `images_random_any (rand)` (migrations 0002/0003), term for term, so SQLite can prove
the index applies; expiry is checked per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixhaven.db import visibility
from pixhaven.db.d1 import fetch_one, statement

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement

PUBLIC = visibility.public_live()
NOT_EXPIRED = visibility.not_expired()

# What /api/random needs to pick a version and build the object key.
RANDOM_COLUMNS = "id, rand, orientation, format, animated, webp_size, avif_size"


def random_window_sql(
    now: str,
    low: int,
    high: int,
    limit: int,
    *,
    orientation: str | None,
    tags: tuple[str, ...],
    exclude: tuple[str, ...],
) -> tuple[str, list]:
    """Public images with `low <= rand < high` matching the filters, in `rand` order, at
    most `limit`. Walks images_random (orientation given) or images_random_any from `low`,
    so its cost is the number of index entries in the window, not the size of the table.
    Tag names match whoever owns the tag (random covers every owner's public images)."""
    clauses: list[str] = []
    params: list[str | int] = []
    if orientation is not None:
        clauses.append("orientation = ?")
        params.append(orientation)
    clauses += [PUBLIC, "rand >= ?", "rand < ?", NOT_EXPIRED]
    params += [low, high, now]
    for tag in tags:
        clauses.append(
            "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.tag = ?)"
        )
        params.append(tag)
    if exclude:
        marks = ", ".join("?" for _ in exclude)
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id"
            f" AND t.tag IN ({marks}))"
        )
        params.extend(exclude)
    sql = f"SELECT {RANDOM_COLUMNS} FROM images WHERE {' AND '.join(clauses)} ORDER BY rand LIMIT ?"
    return sql, [*params, limit]


def random_window_statement(
    db: D1Database, now: str, low: int, high: int, limit: int, **filters: Any
) -> D1PreparedStatement:
    sql, params = random_window_sql(now, low, high, limit, **filters)
    return statement(db, sql, *params)


async def random_windows(
    db: D1Database, now: str, windows: list[tuple[int, int]], limit: int, **filters: Any
) -> list[list[dict]]:
    """Several windows in one D1 round trip (`batch`), results in the same order."""
    statements = [
        random_window_statement(db, now, low, high, limit, **filters) for low, high in windows
    ]
    results = await db.batch(statements)
    return [[dict(row) for row in (result["results"] or [])] for result in results]


async def get_public(db: D1Database, image_id: str, now: str) -> dict | None:
    return await fetch_one(
        db, f"SELECT * FROM images WHERE id = ? AND {PUBLIC} AND {NOT_EXPIRED}", image_id, now
    )


async def get_public_by_short_id(db: D1Database, short_id: str, now: str) -> dict | None:
    return await fetch_one(
        db, f"SELECT * FROM images WHERE short_id = ? AND {PUBLIC} AND {NOT_EXPIRED}", short_id, now
    )


async def get_public_by_path(
    db: D1Database, owner: str, album_id: str | None, names: list[str], now: str
) -> dict | None:
    """The public image at a PixelFlare CDN path; `names` are the file names to try (the
    exact one, or a stem with each known extension), the first listed wins."""
    marks = ", ".join("?" for _ in names)
    order = " ".join(f"WHEN ? THEN {i}" for i in range(len(names)))
    return await fetch_one(
        db,
        f"SELECT * FROM images WHERE owner = ? AND album_id IS ? AND filename IN ({marks})"
        f" AND {PUBLIC} AND {NOT_EXPIRED}"
        f" ORDER BY CASE filename {order} END, created_at DESC LIMIT 1",
        owner,
        album_id,
        *names,
        now,
        *names,
    )
