"""Thin helpers over the D1 binding API, so table modules read as SQL and nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database, D1PreparedStatement

MaybeRow = TypeVar("MaybeRow", bound=dict | None)
"""A row or None, for decoders that map a row to a row and None (no row) to None."""


def statement(db: D1Database, sql: str, *params: Any) -> D1PreparedStatement:
    prepared = db.prepare(sql)
    return prepared.bind(*params) if params else prepared


async def fetch_all(db: D1Database, sql: str, *params: Any) -> list[dict]:
    result = await statement(db, sql, *params).all()
    return [dict(row) for row in (result["results"] or [])]


async def fetch_one(db: D1Database, sql: str, *params: Any) -> dict | None:
    row = await statement(db, sql, *params).first()
    return None if row is None else dict(row)


async def execute(db: D1Database, sql: str, *params: Any) -> int:
    """Run a write; returns the number of rows it changed."""
    result = await statement(db, sql, *params).run()
    return int(result["meta"]["changes"])
