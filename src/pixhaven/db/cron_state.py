"""Queries for the `cron_state` table: where a housekeeping task of the cron resumes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db.d1 import execute, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database


async def get(db: D1Database, name: str) -> str | None:
    row = await fetch_one(db, "SELECT value FROM cron_state WHERE name = ?", name)
    return None if row is None else str(row["value"])


async def put(db: D1Database, name: str, value: str, now: str) -> None:
    await execute(
        db,
        "INSERT INTO cron_state (name, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
        " updated_at = excluded.updated_at",
        name,
        value,
        now,
    )
