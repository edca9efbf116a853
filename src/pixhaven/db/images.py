"""Queries for the `images` table, owner-scoped (tags live in db/tags.py, albums in
db/albums.py; the unauthenticated lookups — random, public serving — in db/public_images.py,
where each query spells out the public-visibility rule itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixhaven.db import visibility
from pixhaven.db.d1 import execute, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement

# Columns written when an image is recorded; the row dict handed to `insert_statement`
# must carry exactly these keys.
INSERT_COLUMNS = (
    "id",
    "short_id",
    "owner",
    "album_id",
    "filename",
    "original_name",
    "content_type",
    "format",
    "width",
    "height",
    "orientation",
    "animated",
    "size",
    "webp_size",
    "avif_size",
    "content_hash",
    "objects_digest",
    "object_id",
    "placeholder",
    "alt",
    "is_private",
    "source",
    "prompt",
    "model",
    "template",
    "status",
    "rand",
    "created_at",
    "updated_at",
    "expires_at",
)


def insert_statement(db: D1Database, row: dict) -> D1PreparedStatement:
    placeholders = ", ".join("?" for _ in INSERT_COLUMNS)
    return db.prepare(
        f"INSERT INTO images ({', '.join(INSERT_COLUMNS)}) VALUES ({placeholders})"
    ).bind(*(row[column] for column in INSERT_COLUMNS))


async def get(db: D1Database, image_id: str) -> dict | None:
    return await fetch_one(db, "SELECT * FROM images WHERE id = ?", image_id)


async def get_for_owner(db: D1Database, image_id: str, owner: str) -> dict | None:
    return await fetch_one(db, "SELECT * FROM images WHERE id = ? AND owner = ?", image_id, owner)


async def get_by_short_id(db: D1Database, short_id: str) -> dict | None:
    return await fetch_one(db, "SELECT * FROM images WHERE short_id = ?", short_id)


async def find_shareable(db: D1Database, owner: str, objects_digest: str) -> dict | None:
    """The owner's earliest completed image whose objects were made from the same bytes with
    the same options (migration 0010), whatever its visibility: while its row exists, so do
    its objects. The write that shares them re-checks that in its commit
    (`objects_kept_statements`)."""
    return await fetch_one(
        db,
        "SELECT * FROM images WHERE owner = ? AND objects_digest = ? AND status = 'ready'"
        " ORDER BY created_at LIMIT 1",
        owner,
        objects_digest,
    )


# The rows whose bytes are stored under the keys of `?` (a storage id; a NULL object_id
# means the row's own id), whatever their state: each is a reference to those objects.
_REFERS_TO = "(object_id = ? OR (id = ? AND object_id IS NULL))"


async def referring(db: D1Database, storage_id: str, limit: int = 10) -> list[dict]:
    """Rows whose objects are stored under `storage_id`'s keys (some of them)."""
    return await fetch_all(
        db, f"SELECT * FROM images WHERE {_REFERS_TO} LIMIT ?", storage_id, storage_id, limit
    )


def objects_kept_statements(
    db: D1Database, marker_id: str, storage_id: str, image_id: str
) -> list[D1PreparedStatement]:
    """For the batch that makes `image_id` share the objects under `storage_id`: the first
    statement fails — and so aborts the batch — unless another completed row still refers
    to them. It copies that row's owner into a marker row of `pending_writes` (the pattern
    of db/pending_writes.commit_statements), and no such row means a NULL owner, which NOT
    NULL refuses. A purge deletes the row before the objects and looks for references
    after (services/images/updates.py), so either it sees the new row or the new row never
    commits. The second statement deletes the marker."""
    return [
        db.prepare(
            "INSERT INTO pending_writes (id, image_id, owner, keys, created_at)"
            f" VALUES (?, '', (SELECT owner FROM images WHERE {_REFERS_TO}"
            " AND status = 'ready' AND id != ? LIMIT 1), '[]', '')"
        ).bind(marker_id, storage_id, storage_id, image_id),
        db.prepare("DELETE FROM pending_writes WHERE id = ?").bind(marker_id),
    ]


async def storage_ids_among(db: D1Database, ids_json: str) -> set[str]:
    """Which of the ids (one JSON array) some row, whatever its state, stores its bytes
    under (the cron's sweep of objects that no row owns)."""
    rows = await fetch_all(
        db,
        "SELECT object_id AS sid FROM images WHERE object_id IN (SELECT value FROM json_each(?))"
        " UNION SELECT id FROM images WHERE object_id IS NULL"
        " AND id IN (SELECT value FROM json_each(?))",
        ids_json,
        ids_json,
    )
    return {row["sid"] for row in rows}


async def update_fields(db: D1Database, image_id: str, fields: dict, updated_at: str) -> int:
    """Update the named columns (names come from code, never from requests)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    return await execute(
        db,
        f"UPDATE images SET {assignments}, updated_at = ? WHERE id = ?",
        *fields.values(),
        updated_at,
        image_id,
    )


async def soft_delete(db: D1Database, image_id: str, when: str) -> int:
    return await execute(
        db,
        "UPDATE images SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
        when,
        when,
        image_id,
    )


async def restore(db: D1Database, image_id: str, when: str, *, path_unique: bool = False) -> int:
    """Undelete; with `path_unique`, only if no other ready, live image of the owner has the
    row's album + filename (in the same statement, so nothing takes it in between)."""
    guard = (
        " AND NOT EXISTS (SELECT 1 FROM images AS other WHERE other.owner = images.owner"
        " AND other.album_id IS images.album_id AND other.filename = images.filename"
        " AND other.status = 'ready' AND other.deleted_at IS NULL AND other.id != images.id)"
        if path_unique
        else ""
    )
    return await execute(
        db,
        "UPDATE images SET deleted_at = NULL, updated_at = ? WHERE id = ?"
        " AND deleted_at IS NOT NULL" + guard,
        when,
        image_id,
    )


def delete_statement(db: D1Database, image_id: str) -> D1PreparedStatement:
    return db.prepare("DELETE FROM images WHERE id = ?").bind(image_id)


async def purgeable(
    db: D1Database, now: str, deleted_before: str, limit: int = 100, *, owner: str | None = None
) -> list[dict]:
    """Expired images, and soft-deleted ones past retention; only `owner`'s when given."""
    of_owner = " AND owner = ?" if owner is not None else ""
    return await fetch_all(
        db,
        f"SELECT * FROM images WHERE (({visibility.expired()})"
        f" OR (deleted_at IS NOT NULL AND deleted_at <= ?)){of_owner} LIMIT ?",
        now,
        deleted_before,
        *([owner] if owner is not None else []),
        limit,
    )


async def tags_for(db: D1Database, image_ids: list[str]) -> dict[str, list[str]]:
    """image id → sorted tag names, in as few queries as D1's 100-parameter limit allows."""
    result: dict[str, list[str]] = {image_id: [] for image_id in image_ids}
    for start in range(0, len(image_ids), 90):
        chunk = image_ids[start : start + 90]
        marks = ", ".join("?" for _ in chunk)
        rows = await fetch_all(
            db,
            f"SELECT image_id, tag FROM image_tags WHERE image_id IN ({marks}) ORDER BY tag",
            *chunk,
        )
        for row in rows:
            result[row["image_id"]].append(row["tag"])
    return result


# `version`: which stored versions an image has (CattoPic's `format` filter). An original that
# is itself a WebP (AVIF) counts as that version; "none" is an image with neither.
VERSION_CLAUSES = {
    "webp": "(i.format = 'webp' OR i.webp_size IS NOT NULL)",
    "avif": "(i.format = 'avif' OR i.avif_size IS NOT NULL)",
    "none": ("(i.webp_size IS NULL AND i.avif_size IS NULL AND i.format NOT IN ('webp', 'avif'))"),
}


def _filters(
    owner: str,
    now: str,
    *,
    tag: str | None = None,
    orientation: str | None = None,
    formats: tuple[str, ...] | None = None,
    version: str | None = None,
    album_id: str | None = None,
    include_deleted: bool = False,
    deleted_only: bool = False,
    walk_tag: bool = False,
) -> tuple[str, list]:
    """WHERE clause and parameters for the list endpoints' filters. A tag is matched either
    from the tag's set of images (cheap for rare tags) or, with `walk_tag`, by probing each
    image met while walking newest-first (cheap for common tags); see `_walk_tag`.
    `deleted_only`: the soft-deleted images (the trash), expired or not."""
    clauses, params = ["i.owner = ?"], [owner]
    if deleted_only:
        clauses.append("i.status = 'ready' AND i.deleted_at IS NOT NULL")
    elif include_deleted:
        clauses.append("i.status = 'ready'")
    else:
        clauses.append(visibility.visible("i"))
        params.append(now)
    if tag is not None and walk_tag:
        clauses.append("EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag = ?)")
        params.append(tag)
    elif tag is not None:
        clauses.append("i.id IN (SELECT image_id FROM image_tags WHERE owner = ? AND tag = ?)")
        params.extend([owner, tag])
    if orientation is not None:
        clauses.append("i.orientation = ?")
        params.append(orientation)
    if formats:
        clauses.append(f"i.format IN ({', '.join('?' for _ in formats)})")
        params.extend(formats)
    if version is not None:
        clauses.append(VERSION_CLAUSES[version])
    if album_id is not None:
        clauses.append("i.album_id = ?")
        params.append(album_id)
    return " AND ".join(clauses), params


async def _walk_tag(db: D1Database, owner: str, wanted: int, filters: dict) -> bool:
    """Whether to find a tag's images by walking the owner's images newest-first (about
    wanted × live / tagged rows visited) rather than collecting the tag's whole set (tagged
    rows). Both counts come from the image_counts counters, so deciding costs the same at
    any size."""
    if filters.get("tag") is None:
        return False
    rows = await fetch_all(
        db,
        "SELECT dim, n FROM image_counts WHERE owner = ? AND ((dim = 'all' AND value = '')"
        " OR (dim = 'tag' AND value = ?))",
        owner,
        filters["tag"],
    )
    counts = {row["dim"]: int(row["n"]) for row in rows}
    live, tagged = counts.get("all", 0), counts.get("tag", 0)
    return tagged > 0 and wanted * live < tagged * tagged


async def list_page(
    db: D1Database, owner: str, now: str, *, limit: int, offset: int, **filters: Any
) -> list[dict]:
    """Newest first, offset pagination (CattoPic pages, Splinterpic offsets)."""
    walk = await _walk_tag(db, owner, offset + limit, filters)
    where, params = _filters(owner, now, walk_tag=walk, **filters)
    return await fetch_all(
        db,
        f"SELECT i.* FROM images i WHERE {where} ORDER BY i.created_at DESC, i.id DESC"
        " LIMIT ? OFFSET ?",
        *params,
        limit,
        offset,
    )


# Live images whose expiry has passed but which the cron has not purged yet: a small set,
# found through the (owner, expires_at, …) index images_visible_by_owner.
LIVE_EXPIRED = f"{visibility.live('i')} AND {visibility.expired('i')}"


def _counted_dimension(owner: str, filters: dict) -> tuple[str, list, str, list] | None:
    """For a list with at most one filter: (counter dimension, counter values, extra clause
    on the live expired images, its parameters). None when the counters cannot answer
    (several filters at once, or deleted images included): count the rows then."""
    if filters.get("include_deleted") or filters.get("version") is not None:
        return None  # no counter per stored version: count the rows
    active = [name for name in ("tag", "orientation", "album_id") if filters.get(name) is not None]
    if filters.get("formats"):
        active.append("formats")
    if len(active) > 1:
        return None
    if not active:
        return "all", [""], "", []
    name = active[0]
    value = filters[name]
    if name == "orientation":
        return "orientation", [value], " AND i.orientation = ?", [value]
    if name == "album_id":
        return "album", [value], " AND i.album_id = ?", [value]
    if name == "tag":
        return (
            "tag",
            [value],
            (
                " AND EXISTS (SELECT 1 FROM image_tags it WHERE"
                " it.image_id = i.id AND it.tag = ? AND it.owner = ?)"
            ),
            [value, owner],
        )
    formats = list(dict.fromkeys(value))
    marks = ", ".join("?" for _ in formats)
    return "format", formats, f" AND i.format IN ({marks})", formats


async def count(db: D1Database, owner: str, now: str, **filters: Any) -> int:
    """How many images `list_page` would list in all. With at most one filter this reads
    the image_counts counters (migration 0006: live images, kept by triggers) and takes
    off the live ones already expired, so it costs the same at 1k or 100k images; filters
    combined count the matching rows."""
    counted = _counted_dimension(owner, filters)
    if counted is None:
        return await count_rows(db, owner, now, **filters)
    dimension, values, extra, extra_params = counted
    marks = ", ".join("?" for _ in values)
    row = await fetch_one(
        db,
        "SELECT COALESCE((SELECT SUM(n) FROM image_counts WHERE owner = ? AND dim = ?"
        f" AND value IN ({marks})), 0) - (SELECT COUNT(*) FROM images i WHERE i.owner = ?"
        f" AND {LIVE_EXPIRED}{extra}) AS n",
        owner,
        dimension,
        *values,
        owner,
        now,
        *extra_params,
    )
    assert row is not None  # a SELECT without FROM answers one row
    return int(row["n"])


async def count_rows(db: D1Database, owner: str, now: str, **filters: Any) -> int:
    """The exact count from the rows themselves (what the counters must always agree with)."""
    where, params = _filters(owner, now, **filters)
    row = await fetch_one(db, f"SELECT COUNT(*) AS n FROM images i WHERE {where}", *params)
    assert row is not None  # COUNT(*) answers one row
    return int(row["n"])


def list_after_sql(
    owner: str,
    now: str,
    *,
    limit: int,
    cursor: tuple[str, str] | None,
    walk_tag: bool = False,
    **filters: Any,
) -> tuple[str, list]:
    where, params = _filters(owner, now, walk_tag=walk_tag, **filters)
    if cursor is not None:
        # A row value, not `created_at < ? OR (created_at = ? AND id < ?)`: SQLite seeks
        # images_by_owner straight to the cursor with it, while with the OR it walks the
        # owner's whole index from the newest row (deep pages grew with the table).
        where += " AND (i.created_at, i.id) < (?, ?)"
        params += [cursor[0], cursor[1]]
    sql = f"SELECT i.* FROM images i WHERE {where} ORDER BY i.created_at DESC, i.id DESC LIMIT ?"
    return sql, [*params, limit]


async def list_after(
    db: D1Database,
    owner: str,
    now: str,
    *,
    limit: int,
    cursor: tuple[str, str] | None,
    **filters: Any,
) -> list[dict]:
    """Newest first, keyset pagination on (created_at, id): rows inserted while a client
    pages are either before its cursor (not shown) or after it (shown once), never twice."""
    walk = await _walk_tag(db, owner, limit, filters)
    sql, params = list_after_sql(owner, now, limit=limit, cursor=cursor, walk_tag=walk, **filters)
    return await fetch_all(db, sql, *params)


# -- sets of images, given as one JSON array of ids (expanded with json_each: one bound
# parameter whatever the number of ids, within D1's 100-parameter limit) --------------------


async def live_ids_among(db: D1Database, owner: str, ids_json: str) -> set[str]:
    """Which of the ids are this owner's live (not deleted, upload complete) images."""
    rows = await fetch_all(
        db,
        f"SELECT id FROM images WHERE owner = ? AND {visibility.live()}"
        " AND id IN (SELECT value FROM json_each(?))",
        owner,
        ids_json,
    )
    return {row["id"] for row in rows}


async def statuses_among(db: D1Database, ids_json: str) -> dict[str, str]:
    """id → status of those of the ids that have a row, whoever owns it and whatever its
    state (the cron's sweep of objects that no row owns)."""
    rows = await fetch_all(
        db,
        "SELECT id, status FROM images WHERE id IN (SELECT value FROM json_each(?))",
        ids_json,
    )
    return {row["id"]: row["status"] for row in rows}


def touch_many_statement(
    db: D1Database, owner: str, ids_json: str, now: str
) -> D1PreparedStatement:
    return db.prepare(
        "UPDATE images SET updated_at = ? WHERE owner = ? AND deleted_at IS NULL"
        " AND id IN (SELECT value FROM json_each(?))"
    ).bind(now, owner, ids_json)


def detach_album_statement(db: D1Database, album_id: str, now: str) -> D1PreparedStatement:
    """Images leave a deleted album and stay, in no album."""
    return db.prepare("UPDATE images SET album_id = NULL, updated_at = ? WHERE album_id = ?").bind(
        now, album_id
    )


# -- PixelFlare two-step uploads (rows with status 'pending' / 'uploading') -------------------


async def claim_upload(db: D1Database, image_id: str, now: str, stale_before: str) -> int:
    """Take a pending row for one upload attempt ('uploading'); an attempt that has been
    'uploading' since before `stale_before` is presumed dead and may be taken over."""
    return await execute(
        db,
        "UPDATE images SET status = 'uploading', updated_at = ? WHERE id = ?"
        " AND (status = 'pending' OR (status = 'uploading' AND updated_at < ?))",
        now,
        image_id,
        stale_before,
    )


async def release_upload(db: D1Database, image_id: str, now: str) -> int:
    """Give a claimed row back (the attempt failed): pending again, retryable."""
    return await execute(
        db,
        "UPDATE images SET status = 'pending', updated_at = ? WHERE id = ?"
        " AND status = 'uploading'",
        now,
        image_id,
    )


def complete_upload_statement(
    db: D1Database, image_id: str, fields: dict, *, path_unique: bool = False
) -> D1PreparedStatement:
    """Turn a claimed row into a ready image (names come from code, never from requests).
    With `path_unique`, only if no other ready, live image of the owner has the row's album
    and `fields["filename"]` by then (checked in the same statement: two completions racing
    for one name cannot both win)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    guard = (
        " AND NOT EXISTS (SELECT 1 FROM images AS other WHERE other.owner = images.owner"
        " AND other.album_id IS images.album_id AND other.filename = ?"
        " AND other.status = 'ready' AND other.deleted_at IS NULL AND other.id != images.id)"
        if path_unique
        else ""
    )
    params = [*fields.values(), image_id] + ([fields["filename"]] if path_unique else [])
    return db.prepare(
        f"UPDATE images SET {assignments}, status = 'ready'"
        f" WHERE id = ? AND status = 'uploading'{guard}"
    ).bind(*params)


def delete_unfinished_statement(db: D1Database, image_id: str) -> D1PreparedStatement:
    return db.prepare(
        "DELETE FROM images WHERE id = ? AND status IN ('pending', 'uploading')"
    ).bind(image_id)


async def stale_unfinished(db: D1Database, updated_before: str, limit: int = 100) -> list[dict]:
    """Two-step uploads whose bytes never arrived (or whose attempt died)."""
    return await fetch_all(
        db,
        "SELECT * FROM images WHERE status IN ('pending', 'uploading') AND updated_at < ? LIMIT ?",
        updated_before,
        limit,
    )


async def path_taken(
    db: D1Database,
    owner: str,
    album_id: str | None,
    filename: str,
    except_id: str,
    *,
    ready_only: bool = False,
) -> bool:
    """Whether another live (or, unless `ready_only`, pending) image of the owner has this
    album + filename."""
    row = await fetch_one(
        db,
        "SELECT id FROM images WHERE owner = ? AND album_id IS ? AND filename = ?"
        " AND deleted_at IS NULL AND id != ?"
        + (" AND status = 'ready'" if ready_only else "")
        + " LIMIT 1",
        owner,
        album_id,
        filename,
        except_id,
    )
    return row is not None
