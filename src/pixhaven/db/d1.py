"""Thin helpers over the D1 binding API, so table modules read as SQL and nothing else."""

from typing import Any


def statement(db, sql: str, *params: Any):
    prepared = db.prepare(sql)
    return prepared.bind(*params) if params else prepared


async def fetch_all(db, sql: str, *params: Any) -> list[dict]:
    result = await statement(db, sql, *params).all()
    return [dict(row) for row in (result["results"] or [])]


async def fetch_one(db, sql: str, *params: Any) -> dict | None:
    row = await statement(db, sql, *params).first()
    return None if row is None else dict(row)


async def execute(db, sql: str, *params: Any) -> int:
    """Run a write; returns the number of rows it changed."""
    result = await statement(db, sql, *params).run()
    return int(result["meta"]["changes"])
