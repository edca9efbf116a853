"""Queries over the images anyone may see: random selection and public serving lookups.

Kept apart from db/images.py (the owner-scoped queries) because every query here is
*unauthenticated*: each one spells out the full public-visibility rule itself.

Public = not deleted, upload complete, not private, not expired (db/visibility.py). The
first three are the WHERE clause of the partial indexes `images_random` and
`images_random_any` (migrations 0002/0003/0016), term for term, so SQLite can prove the
index applies; expiry is checked from the index's own expires_at. `random_tags` holds the
same public images once per tag (migration 0016, kept by triggers); whatever it says, the
image finally answered is re-read from `images` with the whole rule (`_matches_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pixhaven.db import visibility
from pixhaven.db.d1 import fetch_one, statement

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement

PUBLIC = visibility.public_live()
NOT_EXPIRED = visibility.not_expired()

# What /api/random needs to pick a version and build the object key.
RANDOM_COLUMNS = "id, rand, orientation, format, animated, webp_size, avif_size"
# What serving an image's objects by their keys needs (`/r2/…`, `/cdn-cgi/image/…`, render
# sources): its keys (services/images/keys.py: id, orientation, format, the versions'
# sizes, object_id) and the variant rules (width, animated). Not `SELECT *`: every column
# read is converted on every object request, and these are 8 of 31.
SERVING_COLUMNS = "id, orientation, format, width, animated, webp_size, avif_size, object_id"
ORIENTATIONS = ("landscape", "portrait")


@dataclass(frozen=True)
class RandomFilters:
    orientation: str | None = None
    tags: tuple[str, ...] = ()  # all must be on the image
    exclude: tuple[str, ...] = ()  # none may be


def _candidates_sql(
    now: str, low: int, high: int, limit: int, filters: RandomFilters
) -> tuple[str, list]:
    """The *candidates* in `low <= rand < high`, in rand order, at most `limit`: public
    images (not deleted, not private, ready, not expired) of the orientation carrying the
    first tag — everything but the other tags and `exclude`. Read from one index alone
    (migration 0016): random_tags_pick with a tag, else images_random(_any); so the cost is
    the number of index entries in the window, whatever the size of the table."""
    if filters.tags:
        table, clauses = "random_tags", ["tag = ?"]
        params: list[str | int] = [filters.tags[0]]
        key = "image_id"
    else:
        table, clauses, params = "images", [PUBLIC], []
        key = "id"
    if filters.orientation is not None:
        clauses.append("orientation = ?")
        params.append(filters.orientation)
    elif filters.tags:  # both orientation ranges of random_tags_pick, merged by rand
        clauses.append(f"orientation IN ({', '.join(repr(o) for o in ORIENTATIONS)})")
    clauses += ["rand >= ?", "rand < ?", NOT_EXPIRED]
    params += [low, high, now]
    sql = (
        f"SELECT {key} AS id, rand FROM {table} WHERE {' AND '.join(clauses)} ORDER BY rand LIMIT ?"
    )
    return sql, [*params, limit]


def _matches_sql(filters: RandomFilters) -> tuple[str, list]:
    """WHERE terms on `images` for what a candidate has still to pass: public, re-read from
    the image's own row (the lookup that reads its columns anyway), every tag after the
    first (the candidates carry the first: random_tags changes in the same statement as
    image_tags), no excluded tag — one primary-key probe of image_tags per term.
    One `?` (now) first."""
    clauses = [PUBLIC, NOT_EXPIRED]
    params: list[str] = []
    for tag in filters.tags[1:]:
        clauses.append(
            "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.tag = ?)"
        )
        params.append(tag)
    if filters.exclude:
        marks = ", ".join("?" for _ in filters.exclude)
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id"
            f" AND t.tag IN ({marks}))"
        )
        params.extend(filters.exclude)
    return " AND ".join(clauses), params


def candidates_statement(
    db: D1Database, now: str, low: int, high: int, limit: int, filters: RandomFilters
) -> D1PreparedStatement:
    return statement(db, *_flat(_candidates_sql(now, low, high, limit, filters)))


def picked_sql(
    now: str, low: int, high: int, limit: int, rank: int, filters: RandomFilters
) -> tuple[str, list]:
    """One round of the draw in one statement: how many candidates the window holds (at
    most `limit`), and the candidate of rank `rank` (0-based) if it matches every filter
    (else NULL columns). Only that one candidate is looked up in `images`."""
    window, window_params = _candidates_sql(now, low, high, limit, filters)
    matches, match_params = _matches_sql(filters)
    sql = (
        f"WITH w AS ({window}) SELECT (SELECT COUNT(*) FROM w) AS candidates,"
        f" {', '.join('images.' + c.strip() for c in RANDOM_COLUMNS.split(','))}"
        " FROM (SELECT 1) LEFT JOIN images"
        f" ON images.id = (SELECT id FROM w ORDER BY rand LIMIT 1 OFFSET ?) AND {matches}"
    )
    return sql, [*window_params, rank, now, *match_params]


async def picked(
    db: D1Database, now: str, rounds: list[tuple[int, int, int]], limit: int, f: RandomFilters
) -> list[tuple[int, dict | None]]:
    """Rounds (low, high, rank) in one D1 round trip (`batch`): (candidates, row or None)."""
    statements = [
        statement(db, *_flat(picked_sql(now, low, high, limit, rank, f)))
        for low, high, rank in rounds
    ]
    answers = []
    for result in await db.batch(statements):
        row = dict((result["results"] or [{}])[0])
        found = {c: row[c] for c in row if c != "candidates"} if row.get("id") else None
        answers.append((int(row.get("candidates") or 0), found))
    return answers


async def candidates(
    db: D1Database, now: str, asks: list[tuple[RandomFilters, int, int, int]]
) -> list[list[dict]]:
    """Several candidate windows (filters, low, high, limit) in one D1 round trip, results
    in the same order."""
    statements = [
        candidates_statement(db, now, low, high, limit, f) for f, low, high, limit in asks
    ]
    return [[dict(r) for r in (res["results"] or [])] for res in await db.batch(statements)]


def matching_window_sql(
    now: str, low: int, high: int, limit: int, filters: RandomFilters
) -> tuple[str, list]:
    """The images matching every filter in `low <= rand < high`, in rand order, at most
    `limit`: the window's candidates, each looked up in `images`."""
    window, window_params = _candidates_sql(now, low, high, 2**31, filters)
    matches, match_params = _matches_sql(filters)
    sql = (
        f"SELECT {RANDOM_COLUMNS} FROM images WHERE id IN (SELECT id FROM ({window}))"
        f" AND {matches} ORDER BY rand LIMIT ?"
    )
    return sql, [*window_params, now, *match_params, limit]


async def matching_windows(
    db: D1Database, now: str, windows: list[tuple[int, int]], limit: int, f: RandomFilters
) -> list[list[dict]]:
    statements = [
        statement(db, *_flat(matching_window_sql(now, low, high, limit, f)))
        for low, high in windows
    ]
    return [[dict(r) for r in (res["results"] or [])] for res in await db.batch(statements)]


def _flat(sql_params: tuple[str, list]) -> tuple:
    sql, params = sql_params
    return (sql, *params)


async def get_public(db: D1Database, image_id: str, now: str) -> dict | None:
    """The public image `image_id`, with the SERVING_COLUMNS its objects are served by."""
    return await fetch_one(
        db,
        f"SELECT {SERVING_COLUMNS} FROM images WHERE id = ? AND {PUBLIC} AND {NOT_EXPIRED}",
        image_id,
        now,
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
