"""Queries for `ai_models`: the catalogue of image models (Splinterpic `/api/models`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import MaybeRow, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

COLUMNS = (
    "id, name, description, provider, type, cost_per_image, price_per_tile,"
    " price_per_step, default_params, limits, is_active, user_id, created_at"
)


def _decoded(row: MaybeRow) -> MaybeRow:
    if row is None:
        return row
    for column in ("default_params", "limits"):
        row[column] = json.loads(row[column]) if row[column] else {}
    row["is_active"] = bool(row["is_active"])
    return row


async def list_page(db: D1Database, limit: int, offset: int) -> list[dict]:
    rows = await fetch_all(
        db,
        f"SELECT {COLUMNS} FROM ai_models WHERE is_active = 1"
        " ORDER BY id LIKE '@pixhaven/%', created_at DESC, id"
        " LIMIT ? OFFSET ?",
        limit,
        offset,
    )
    return [_decoded(row) for row in rows]


async def count(db: D1Database) -> int:
    row = await fetch_one(db, "SELECT COUNT(*) AS n FROM ai_models WHERE is_active = 1")
    assert row is not None  # COUNT(*) answers one row
    return int(row["n"])


async def get(db: D1Database, model_id: str) -> dict | None:
    return _decoded(await fetch_one(db, f"SELECT {COLUMNS} FROM ai_models WHERE id = ?", model_id))
