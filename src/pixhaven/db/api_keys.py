"""Queries for the `api_keys` table."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import MaybeRow, execute, fetch_all, fetch_one
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

COLUMNS = "id, owner, name, key_prefix, scopes, created_at, last_used_at, revoked_at"


def _decode(row: MaybeRow) -> MaybeRow:
    if row is not None:
        row["scopes"] = json.loads(row["scopes"])
    return row


async def insert(
    db: D1Database,
    *,
    key_id: str,
    owner: str,
    name: str,
    key_hash: str,
    key_prefix: str,
    scopes: list[str],
    created_at: str,
) -> None:
    await execute(
        db,
        "INSERT INTO api_keys (id, owner, name, key_hash, key_prefix, scopes, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        key_id,
        owner,
        name,
        key_hash,
        key_prefix,
        json.dumps(scopes),
        created_at,
    )


async def find_active_by_hash(db: D1Database, key_hash: str) -> dict | None:
    row = await fetch_one(
        db,
        f"SELECT {COLUMNS}, key_hash FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
        key_hash,
    )
    return _decode(row)


async def list_for_owner(db: D1Database, owner: str) -> list[dict]:
    rows = await fetch_all(
        db, f"SELECT {COLUMNS} FROM api_keys WHERE owner = ? ORDER BY created_at, id", owner
    )
    return [_decode(row) for row in rows]


async def list_all(db: D1Database) -> list[dict]:
    rows = await fetch_all(db, f"SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id")
    return [_decode(row) for row in rows]


async def get_for_owner(db: D1Database, key_id: str, owner: str | None) -> dict | None:
    """`owner=None` (the admin) sees every key."""
    if owner is None:
        return _decode(await fetch_one(db, f"SELECT {COLUMNS} FROM api_keys WHERE id = ?", key_id))
    return _decode(
        await fetch_one(
            db, f"SELECT {COLUMNS} FROM api_keys WHERE id = ? AND owner = ?", key_id, owner
        )
    )


async def revoke(db: D1Database, key_id: str) -> bool:
    changed = await execute(
        db,
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        now_iso(),
        key_id,
    )
    return changed > 0


async def touch(db: D1Database, key_id: str, when: str) -> None:
    await execute(db, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", when, key_id)
