"""Queries for `rate_windows`: request counters per subject and fixed time window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db.d1 import execute, fetch_all

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database


async def count(
    db: D1Database, subject: str, windows: list[tuple[str, int, str]]
) -> dict[str, int]:
    """Count one request in each of `windows` (`(slot, cap, expires_at)`) with one statement,
    and answer each slot's count afterwards. A window already holding `cap` requests is not
    counted again, and the upsert then returns no row for it: it is missing from the answer
    (the caller reads that as full)."""
    values = ", ".join("(?, ?, 1, ?, ?)" for _ in windows)
    params: list = []
    for slot, cap, expires_at in windows:
        params += [subject, slot, cap, expires_at]
    rows = await fetch_all(
        db,
        f"INSERT INTO rate_windows (subject, slot, hits, cap, expires_at) VALUES {values}"
        " ON CONFLICT (subject, slot) DO UPDATE SET hits = hits + 1, cap = excluded.cap"
        " WHERE rate_windows.hits < excluded.cap RETURNING slot, hits",
        *params,
    )
    return {row["slot"]: int(row["hits"]) for row in rows}


async def delete_expired(db: D1Database, now: str) -> int:
    return await execute(db, "DELETE FROM rate_windows WHERE expires_at <= ?", now)
