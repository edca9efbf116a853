"""Queries for `idempotency_keys`: one row per (owner, Idempotency-Key); `status` is NULL
while the first request is still being answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db.d1 import execute, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

COLUMNS = "owner, idem_key, request_hash, status, response, created_at"


async def get(db: D1Database, owner: str, key: str) -> dict | None:
    return await fetch_one(
        db, f"SELECT {COLUMNS} FROM idempotency_keys WHERE owner = ? AND idem_key = ?", owner, key
    )


async def claim(db: D1Database, owner: str, key: str, request_hash: str, now: str) -> bool:
    """True if this request now owns the key (no row existed)."""
    return (
        await execute(
            db,
            "INSERT INTO idempotency_keys (owner, idem_key, request_hash, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (owner, idem_key) DO NOTHING",
            owner,
            key,
            request_hash,
            now,
        )
        == 1
    )


async def complete(db: D1Database, owner: str, key: str, status: int, response: str) -> None:
    await execute(
        db,
        "UPDATE idempotency_keys SET status = ?, response = ? WHERE owner = ? AND idem_key = ?",
        status,
        response,
        owner,
        key,
    )


async def release(db: D1Database, owner: str, key: str) -> None:
    await execute(db, "DELETE FROM idempotency_keys WHERE owner = ? AND idem_key = ?", owner, key)


async def release_stale(db: D1Database, owner: str, key: str, before: str) -> int:
    """Free a key whose first request never answered (still NULL status) since `before`."""
    return await execute(
        db,
        "DELETE FROM idempotency_keys WHERE owner = ? AND idem_key = ?"
        " AND status IS NULL AND created_at < ?",
        owner,
        key,
        before,
    )


async def delete_older_than(
    db: D1Database, cutoff: str, owner: str | None = None, key: str | None = None
) -> int:
    if owner is not None:
        return await execute(
            db,
            "DELETE FROM idempotency_keys WHERE owner = ? AND idem_key = ? AND created_at < ?",
            owner,
            key,
            cutoff,
        )
    return await execute(db, "DELETE FROM idempotency_keys WHERE created_at < ?", cutoff)
