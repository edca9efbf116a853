"""Queries for `templates` (Pictify): a document (HTML or components) with typed variables,
its default output format and its descriptive fields and layouts (`meta`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import MaybeRow, execute, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

COLUMNS = (
    "uid, owner, name, description, document, variables, created_at, updated_at,"
    " output_format, meta"
)


def _decode(row: MaybeRow) -> MaybeRow:
    if row is not None:
        row["document"] = json.loads(row["document"])
        row["variables"] = json.loads(row["variables"])
        row["meta"] = json.loads(row["meta"])
    return row


async def insert(db: D1Database, row: dict) -> None:
    await execute(
        db,
        f"INSERT INTO templates ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row["uid"],
        row["owner"],
        row["name"],
        row["description"],
        json.dumps(row["document"]),
        json.dumps(row["variables"]),
        row["created_at"],
        row["updated_at"],
        row.get("output_format", "image"),
        json.dumps(row.get("meta") or {}),
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


def _output_filter(output_format: str) -> tuple[str, tuple]:
    """Pictify's `outputFormat` list filter: `all`, or templates whose output is that."""
    if output_format == "all":
        return "", ()
    return " AND output_format = ?", (output_format,)


async def page(
    db: D1Database,
    owner: str,
    limit: int,
    offset: int,
    sort: str = "newest",
    output_format: str = "all",
) -> list[dict]:
    where, args = _output_filter(output_format)
    rows = await fetch_all(
        db,
        f"SELECT {COLUMNS} FROM templates WHERE owner = ?{where}"
        f" ORDER BY {ORDER[sort]} LIMIT ? OFFSET ?",
        owner,
        *args,
        limit,
        offset,
    )
    return [_decode(row) for row in rows]


async def count(db: D1Database, owner: str, output_format: str = "all") -> int:
    where, args = _output_filter(output_format)
    row = await fetch_one(
        db, f"SELECT COUNT(*) AS n FROM templates WHERE owner = ?{where}", owner, *args
    )
    return int(row["n"]) if row else 0


async def update(db: D1Database, owner: str, uid: str, row: dict) -> int:
    return await execute(
        db,
        "UPDATE templates SET name = ?, description = ?, document = ?, variables = ?,"
        " updated_at = ?, output_format = ?, meta = ? WHERE owner = ? AND uid = ?",
        row["name"],
        row["description"],
        json.dumps(row["document"]),
        json.dumps(row["variables"]),
        row["updated_at"],
        row.get("output_format", "image"),
        json.dumps(row.get("meta") or {}),
        owner,
        uid,
    )


async def delete(db: D1Database, owner: str, uid: str) -> int:
    return await execute(db, "DELETE FROM templates WHERE owner = ? AND uid = ?", owner, uid)
