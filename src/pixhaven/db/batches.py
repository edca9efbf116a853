"""Queries for `batch_jobs` and `batch_items` (Pictify batch rendering).

Progress is never incremented by hand: settling an item and recounting its batch from the
items happen in one D1 batch (a transaction), so counts stay right whatever order items
finish in and however often a job is retried. `finish` sets `finished_at` once, guarded by
`finished_at IS NULL`: exactly one caller sees it change and emits the batch's event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pixhaven.db.d1 import execute, fetch_all, fetch_one, statement
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement

BATCH_COLUMNS = (
    "id, owner, template_uid, key_id, format, base, status, total, completed,"
    " failed, cancelled, created_at, updated_at, finished_at, started_at, options"
)
RECOUNT = (
    "UPDATE batch_jobs SET"
    " completed = (SELECT COUNT(*) FROM batch_items WHERE batch_id = ? AND status = 'completed'),"
    " failed = (SELECT COUNT(*) FROM batch_items WHERE batch_id = ? AND status = 'failed'),"
    " cancelled = (SELECT COUNT(*) FROM batch_items WHERE batch_id = ? AND status = 'cancelled'),"
    " updated_at = ? WHERE id = ?"
)


def recount(db: D1Database, batch_id: str, now: str) -> D1PreparedStatement:
    return statement(db, RECOUNT, batch_id, batch_id, batch_id, now, batch_id)


def _decode_item(row: dict) -> dict:
    row["variables"] = json.loads(row["variables"])
    row["result"] = json.loads(row["result"]) if row["result"] else None
    row["error"] = json.loads(row["error"]) if row["error"] else None
    return row


async def insert(
    db: D1Database,
    batch: dict,
    variable_sets: list[dict],
    extra: Sequence[D1PreparedStatement] = (),
) -> None:
    """The batch and all its items (and `extra` statements: their jobs), in one
    transaction."""
    now = batch["created_at"]
    statements = [
        statement(
            db,
            f"INSERT INTO batch_jobs ({BATCH_COLUMNS}) VALUES"
            " (?, ?, ?, ?, ?, ?, 'queued', ?, 0, 0, 0, ?, ?, NULL, NULL, ?)",
            batch["id"],
            batch["owner"],
            batch["template_uid"],
            batch["key_id"],
            batch["format"],
            batch["base"],
            batch["total"],
            now,
            now,
            json.dumps(batch.get("options") or {}),
        )
    ]
    statements += [
        statement(
            db,
            "INSERT INTO batch_items (batch_id, idx, variables, status, attempts, updated_at)"
            " VALUES (?, ?, ?, 'queued', 0, ?)",
            batch["id"],
            index,
            json.dumps(values),
            now,
        )
        for index, values in enumerate(variable_sets)
    ]
    await db.batch(statements + list(extra))


def _decode_batch(row: dict | None) -> dict | None:
    if row is not None:
        row["options"] = json.loads(row["options"] or "{}")
    return row


async def get(db: D1Database, batch_id: str, owner: str | None = None) -> dict | None:
    if owner is None:
        return _decode_batch(
            await fetch_one(db, f"SELECT {BATCH_COLUMNS} FROM batch_jobs WHERE id = ?", batch_id)
        )
    return _decode_batch(
        await fetch_one(
            db,
            f"SELECT {BATCH_COLUMNS} FROM batch_jobs WHERE id = ? AND owner = ?",
            batch_id,
            owner,
        )
    )


async def items(db: D1Database, batch_id: str) -> list[dict]:
    rows = await fetch_all(
        db, "SELECT * FROM batch_items WHERE batch_id = ? ORDER BY idx", batch_id
    )
    return [_decode_item(row) for row in rows]


async def claim_item(db: D1Database, batch_id: str, index: int) -> dict | None:
    """Mark an item running (again, after a retry); None when it is settled or cancelled."""
    now = now_iso()
    changed = await execute(
        db,
        "UPDATE batch_items SET status = 'running', attempts = attempts + 1, updated_at = ?"
        " WHERE batch_id = ? AND idx = ? AND status IN ('queued', 'running')",
        now,
        batch_id,
        index,
    )
    if changed != 1:
        return None
    await execute(
        db,
        "UPDATE batch_jobs SET status = 'running', updated_at = ?, started_at = ?"
        " WHERE id = ? AND status = 'queued'",
        now,
        now,
        batch_id,
    )
    row = await fetch_one(
        db, "SELECT * FROM batch_items WHERE batch_id = ? AND idx = ?", batch_id, index
    )
    assert row is not None  # the item just marked running
    return _decode_item(row)


async def settle_item(
    db: D1Database,
    batch_id: str,
    index: int,
    *,
    result: dict | None = None,
    error: dict | None = None,
) -> None:
    """A running item becomes completed (with `result`) or failed (with `error`)."""
    now = now_iso()
    await db.batch(
        [
            statement(
                db,
                "UPDATE batch_items SET status = ?, result = ?, error = ?, updated_at = ?"
                " WHERE batch_id = ? AND idx = ? AND status = 'running'",
                "failed" if error is not None else "completed",
                None if result is None else json.dumps(result),
                None if error is None else json.dumps(error),
                now,
                batch_id,
                index,
            ),
            recount(db, batch_id, now),
        ]
    )


async def cancel(db: D1Database, batch_id: str) -> None:
    """Queued items become cancelled; running ones are left to finish."""
    now = now_iso()
    await db.batch(
        [
            statement(
                db,
                "UPDATE batch_items SET status = 'cancelled', updated_at = ?"
                " WHERE batch_id = ? AND status = 'queued'",
                now,
                batch_id,
            ),
            recount(db, batch_id, now),
            statement(
                db,
                "UPDATE batch_jobs SET status = 'cancelled', updated_at = ?"
                " WHERE id = ? AND status IN ('queued', 'running')",
                now,
                batch_id,
            ),
        ]
    )


async def finish(db: D1Database, batch_id: str) -> bool:
    """Settle the batch once every item is; True only for the caller that did it."""
    now = now_iso()
    changed = await execute(
        db,
        "UPDATE batch_jobs SET status = CASE WHEN status = 'cancelled' THEN 'cancelled'"
        " WHEN completed = 0 AND failed > 0 THEN 'failed' ELSE 'completed' END,"
        " finished_at = ?, updated_at = ? WHERE id = ? AND finished_at IS NULL"
        " AND completed + failed + cancelled = total",
        now,
        now,
        batch_id,
    )
    return changed == 1
