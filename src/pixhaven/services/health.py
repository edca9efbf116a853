"""What `/health` checks: that D1 answers a query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db.d1 import fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database


async def database_status(db: D1Database) -> str:
    """`ok` when D1 answers, `error` otherwise: reported, never raised, because health
    must answer even when D1 does not."""
    try:
        await fetch_one(db, "SELECT 1 AS ok")
    except Exception:
        return "error"
    return "ok"
