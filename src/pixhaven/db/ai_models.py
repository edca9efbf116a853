"""Queries for `ai_models`: the catalogue of image models (Splinterpic `/api/models`)."""

import json

from pixhaven.db.d1 import fetch_all, fetch_one

COLUMNS = (
    "id, name, description, provider, type, cost_per_image, price_per_tile,"
    " price_per_step, default_params, limits, is_active, user_id, created_at"
)


def _decoded(row: dict | None) -> dict | None:
    if row is None:
        return None
    for column in ("default_params", "limits"):
        row[column] = json.loads(row[column]) if row[column] else {}
    row["is_active"] = bool(row["is_active"])
    return row


async def list_page(db, limit: int, offset: int) -> list[dict]:
    rows = await fetch_all(
        db,
        f"SELECT {COLUMNS} FROM ai_models WHERE is_active = 1"
        " ORDER BY id LIKE '@pixhaven/%', created_at DESC, id"
        " LIMIT ? OFFSET ?",
        limit,
        offset,
    )
    return [_decoded(row) for row in rows]


async def count(db) -> int:
    row = await fetch_one(db, "SELECT COUNT(*) AS n FROM ai_models WHERE is_active = 1")
    return int(row["n"])


async def get(db, model_id: str) -> dict | None:
    return _decoded(await fetch_one(db, f"SELECT {COLUMNS} FROM ai_models WHERE id = ?", model_id))
