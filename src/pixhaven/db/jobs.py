"""Queries for the `jobs` table."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import MaybeRow, execute, fetch_all, fetch_one
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement


def _decode(row: MaybeRow) -> MaybeRow:
    if row is not None:
        row["payload"] = json.loads(row["payload"])
    return row


def insert_statement(
    db: D1Database,
    *,
    job_id: str,
    kind: str,
    payload: dict,
    owner: str | None,
    max_attempts: int,
    run_after: str,
) -> D1PreparedStatement:
    """A prepared INSERT, so callers can put it in the same D1 batch as their own writes."""
    now = now_iso()
    return db.prepare(
        "INSERT INTO jobs (id, kind, payload, owner, status, attempts, max_attempts, run_after,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)"
    ).bind(job_id, kind, json.dumps(payload), owner, max_attempts, run_after, now, now)


async def get(db: D1Database, job_id: str) -> dict | None:
    return _decode(await fetch_one(db, "SELECT * FROM jobs WHERE id = ?", job_id))


async def claim(db: D1Database, job_id: str) -> bool:
    """Mark a queued job running; False if another consumer got it first or it is done."""
    changed = await execute(
        db,
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = ?"
        " WHERE id = ? AND status = 'queued'",
        now_iso(),
        job_id,
    )
    return changed == 1


async def finish(db: D1Database, job_id: str) -> None:
    await execute(
        db,
        "UPDATE jobs SET status = 'done', last_error = NULL, updated_at = ? WHERE id = ?",
        now_iso(),
        job_id,
    )


async def fail(db: D1Database, job_id: str, error: str, *, retry_at: str | None) -> None:
    """Back to `queued` (to run after `retry_at`) or, with no retry left, `failed`."""
    if retry_at is None:
        await execute(
            db,
            "UPDATE jobs SET status = 'failed', last_error = ?, updated_at = ? WHERE id = ?",
            error[:2000],
            now_iso(),
            job_id,
        )
    else:
        await execute(
            db,
            "UPDATE jobs SET status = 'queued', last_error = ?, run_after = ?,"
            " updated_at = ? WHERE id = ?",
            error[:2000],
            retry_at,
            now_iso(),
            job_id,
        )


async def due(db: D1Database, now: str, stale_before: str, limit: int = 50) -> list[dict]:
    """Queued jobs whose time has come, and running jobs whose worker evidently died."""
    rows = await fetch_all(
        db,
        "SELECT * FROM jobs WHERE (status = 'queued' AND run_after <= ?)"
        " OR (status = 'running' AND updated_at < ?) ORDER BY run_after LIMIT ?",
        now,
        stale_before,
        limit,
    )
    return [_decode(row) for row in rows]


async def requeue_stale(db: D1Database, job_id: str, stale_before: str) -> None:
    await execute(
        db,
        "UPDATE jobs SET status = 'queued', updated_at = ? WHERE id = ?"
        " AND status = 'running' AND updated_at < ?",
        now_iso(),
        job_id,
        stale_before,
    )
