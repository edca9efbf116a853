"""Queries for `usage_events`: what was generated, rendered or uploaded, by which key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import execute, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

COLUMNS = "id, owner, key_id, kind, model, cost, detail, created_at"


async def insert(db: D1Database, row: dict) -> None:
    await execute(
        db,
        f"INSERT INTO usage_events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        row["id"],
        row["owner"],
        row.get("key_id"),
        row["kind"],
        row.get("model"),
        float(row.get("cost") or 0),
        json.dumps(row.get("detail") or {}),
        row["created_at"],
    )


async def list_for_owner(
    db: D1Database, owner: str, kind: str | None = None, limit: int = 100
) -> list[dict]:
    sql = f"SELECT {COLUMNS} FROM usage_events WHERE owner = ?"
    params: list = [owner]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    rows = await fetch_all(db, sql + " ORDER BY created_at DESC, id DESC LIMIT ?", *params, limit)
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows


async def count_api_since(db: D1Database, owner: str, kind: str, api: str, since: str) -> int:
    """Events of one kind recorded for one API (`detail.api`) since a moment."""
    row = await fetch_one(
        db,
        "SELECT COUNT(*) AS n FROM usage_events WHERE owner = ? AND created_at >= ?"
        " AND kind = ? AND json_extract(detail, '$.api') = ?",
        owner,
        since,
        kind,
        api,
    )
    assert row is not None  # COUNT(*) answers one row
    return int(row["n"])


async def count_and_oldest_since(
    db: D1Database, owner: str, kind: str, since: str
) -> tuple[int, str | None]:
    """Events of one kind since a moment, and the time of the oldest of them."""
    row = await fetch_one(
        db,
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM usage_events"
        " WHERE owner = ? AND created_at >= ? AND kind = ?",
        owner,
        since,
        kind,
    )
    assert row is not None  # an aggregate answers one row
    return int(row["n"]), row["oldest"]


async def totals_by_day(db: D1Database, owner: str, start: str, end: str) -> list[dict]:
    """`{day, kind, n, cost}` per UTC day and kind for events in [start, end)."""
    return await fetch_all(
        db,
        "SELECT substr(created_at, 1, 10) AS day, kind, COUNT(*) AS n,"
        " COALESCE(SUM(cost), 0) AS cost FROM usage_events"
        " WHERE owner = ? AND created_at >= ? AND created_at < ?"
        " GROUP BY day, kind ORDER BY day, kind",
        owner,
        start,
        end,
    )


async def totals_by_model(db: D1Database, owner: str, start: str, end: str) -> list[dict]:
    """`{model, kind, n, cost}` per model (events without one left out) in [start, end)."""
    return await fetch_all(
        db,
        "SELECT model, kind, COUNT(*) AS n, COALESCE(SUM(cost), 0) AS cost"
        " FROM usage_events WHERE owner = ? AND created_at >= ? AND created_at < ?"
        " AND model IS NOT NULL GROUP BY model, kind ORDER BY cost DESC, n DESC, model",
        owner,
        start,
        end,
    )
