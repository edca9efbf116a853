"""Queries for the `pending_writes` table: the journal of image writes in progress.

`services/images/store.py` (write_image) inserts an entry before putting the first object
and ends it in the batch that makes the image row real (`commit_statements`);
`services/images/reconcile.py` (cron) gives up entries that stayed too long.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import execute, fetch_all

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement

# Suffix of the short-lived marker row `commit_statements` writes (never seen outside the
# batch that writes it: the same batch deletes it).
_COMMIT_MARKER = ".commit"


def _decode(row: dict) -> dict:
    row["keys"] = json.loads(row["keys"])
    return row


async def insert(
    db: D1Database, write_id: str, image_id: str, owner: str, keys: list[str], now: str
) -> None:
    await execute(
        db,
        "INSERT INTO pending_writes (id, image_id, owner, keys, created_at) VALUES (?, ?, ?, ?, ?)",
        write_id,
        image_id,
        owner,
        json.dumps(keys),
        now,
    )


def commit_statements(db: D1Database, write_id: str) -> list[D1PreparedStatement]:
    """The statements that end a write's entry, for the batch that commits the write.

    The first one fails — and so aborts the whole batch — unless the entry is still there
    and not abandoned: it copies the entry's owner into a marker row, and no entry means a
    NULL owner, which NOT NULL refuses. A write the cron has given up on (and whose
    objects it deletes) can therefore never commit a row. The second deletes the entry and
    the marker."""
    marker = write_id + _COMMIT_MARKER
    return [
        db.prepare(
            "INSERT INTO pending_writes (id, image_id, owner, keys, created_at)"
            " VALUES (?, '', (SELECT owner FROM pending_writes"
            " WHERE id = ? AND abandoned_at IS NULL), '[]', '')"
        ).bind(marker, write_id),
        db.prepare("DELETE FROM pending_writes WHERE id IN (?, ?)").bind(write_id, marker),
    ]


async def delete(db: D1Database, write_id: str) -> int:
    return await execute(db, "DELETE FROM pending_writes WHERE id = ?", write_id)


async def stale(db: D1Database, created_by: str, limit: int = 100) -> list[dict]:
    """Entries created at `created_by` or before (abandoned or not), oldest first; `keys`
    decoded."""
    rows = await fetch_all(
        db,
        "SELECT * FROM pending_writes WHERE created_at <= ? ORDER BY created_at LIMIT ?",
        created_by,
        limit,
    )
    return [_decode(row) for row in rows]


async def abandon(db: D1Database, write_id: str, now: str) -> int:
    """Give a write up: from now on its commit fails (see `commit_statements`)."""
    return await execute(
        db,
        "UPDATE pending_writes SET abandoned_at = ? WHERE id = ? AND abandoned_at IS NULL",
        now,
        write_id,
    )


async def keys_of_other_writes(db: D1Database, image_id: str, write_id: str) -> set[str]:
    """The keys other entries of the same image name (a later attempt at the same
    two-step upload writes the same keys)."""
    rows = await fetch_all(
        db,
        "SELECT keys FROM pending_writes WHERE image_id = ? AND id <> ?",
        image_id,
        write_id,
    )
    return {key for row in rows for key in json.loads(row["keys"])}


async def image_ids_among(db: D1Database, ids_json: str) -> set[str]:
    """Which of the image ids (one JSON array) have a write in the journal."""
    rows = await fetch_all(
        db,
        "SELECT DISTINCT image_id FROM pending_writes"
        " WHERE image_id IN (SELECT value FROM json_each(?))",
        ids_json,
    )
    return {row["image_id"] for row in rows}
