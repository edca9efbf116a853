"""Queries for `templates` (Pictify): a component document with typed variables."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import MaybeRow, execute, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

COLUMNS = "uid, owner, name, description, document, variables, created_at, updated_at"


def _decode(row: MaybeRow) -> MaybeRow:
    if row is not None:
        row["document"] = json.loads(row["document"])
        row["variables"] = json.loads(row["variables"])
    return row


async def insert(db: D1Database, row: dict) -> None:
    await execute(
        db,
        f"INSERT INTO templates ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        row["uid"],
        row["owner"],
        row["name"],
        row["description"],
        json.dumps(row["document"]),
        json.dumps(row["variables"]),
        row["created_at"],
        row["updated_at"],
    )


async def get(db: D1Database, owner: str, uid: str) -> dict | None:
    return _decode(
        await fetch_one(
            db, f"SELECT {COLUMNS} FROM templates WHERE owner = ? AND uid = ?", owner, uid
        )
    )


# Pictify's `sort` values → ORDER BY (uid breaks ties, so pages never overlap).
ORDER = {
    "newest": "created_at DESC, uid DESC",
    "oldest": "created_at ASC, uid ASC",
    "name": "name COLLATE NOCASE ASC, uid ASC",
}


async def page(
    db: D1Database, owner: str, limit: int, offset: int, sort: str = "newest"
) -> list[dict]:
    rows = await fetch_all(
        db,
        f"SELECT {COLUMNS} FROM templates WHERE owner = ? ORDER BY {ORDER[sort]} LIMIT ? OFFSET ?",
        owner,
        limit,
        offset,
    )
    return [_decode(row) for row in rows]


async def count(db: D1Database, owner: str) -> int:
    row = await fetch_one(db, "SELECT COUNT(*) AS n FROM templates WHERE owner = ?", owner)
    return int(row["n"]) if row else 0


async def update(db: D1Database, owner: str, uid: str, row: dict) -> int:
    return await execute(
        db,
        "UPDATE templates SET name = ?, description = ?, document = ?, variables = ?,"
        " updated_at = ? WHERE owner = ? AND uid = ?",
        row["name"],
        row["description"],
        json.dumps(row["document"]),
        json.dumps(row["variables"]),
        row["updated_at"],
        owner,
        uid,
    )


async def delete(db: D1Database, owner: str, uid: str) -> int:
    return await execute(db, "DELETE FROM templates WHERE owner = ? AND uid = ?", owner, uid)
