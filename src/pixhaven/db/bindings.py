"""Queries for `bindings` (Pictify, migration 0013): a template bound to a data source, and
the state of its latest render."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pixhaven.db.d1 import MaybeRow, execute, fetch_all, fetch_one

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

JSON_COLUMNS = ("source", "mapping", "defaults", "refresh", "output", "data")
DEFINITION = (
    "name",
    "template_uid",
    "source",
    "mapping",
    "defaults",
    "refresh",
    "output",
    "status",
    "base_url",
    "next_run_at",
    "updated_at",
)
COLUMNS = (
    "uid, owner, name, template_uid, source, mapping, defaults, refresh, output, status, "
    "push_secret_hash, base_url, image_id, image_key, rendered_at, data, source_etag, "
    "source_modified, last_refresh, last_error, next_run_at, queued_at, created_at, updated_at"
)


def _decode(row: MaybeRow) -> MaybeRow:
    if row is not None:
        for column in JSON_COLUMNS:
            if row[column] is not None:
                row[column] = json.loads(row[column])
    return row


def _sets(fields: dict[str, Any]) -> str:
    """`SET` assignments; a paused binding stays paused whatever a refresh reports (a
    refresh that was running when it was paused finishes without resuming it)."""
    return ", ".join(
        "status = CASE WHEN status = 'paused' THEN status ELSE ? END"
        if name == "status"
        else f"{name} = ?"
        for name in fields
    )


def _encoded(row: dict, column: str) -> Any:
    value = row.get(column)
    return json.dumps(value) if column in JSON_COLUMNS and value is not None else value


async def insert(db: D1Database, row: dict) -> None:
    names = [name.strip() for name in COLUMNS.split(",")]
    await execute(
        db,
        f"INSERT INTO bindings ({COLUMNS}) VALUES ({', '.join('?' for _ in names)})",
        *(_encoded(row, name) for name in names),
    )


async def get(db: D1Database, uid: str, owner: str | None = None) -> dict | None:
    """The binding `uid` (the owner's, when given: the API; anyone's: the image URL)."""
    if owner is None:
        row = await fetch_one(db, f"SELECT {COLUMNS} FROM bindings WHERE uid = ?", uid)
    else:
        row = await fetch_one(
            db, f"SELECT {COLUMNS} FROM bindings WHERE uid = ? AND owner = ?", uid, owner
        )
    return _decode(row)


def _filters(owner: str, template_uid: str | None, status: str | None) -> tuple[str, list]:
    where, params = ["owner = ?"], [owner]
    if template_uid is not None:
        where.append("template_uid = ?")
        params.append(template_uid)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    return " AND ".join(where), params


async def page(
    db: D1Database,
    owner: str,
    limit: int,
    offset: int,
    template_uid: str | None = None,
    status: str | None = None,
) -> list[dict]:
    where, params = _filters(owner, template_uid, status)
    rows = await fetch_all(
        db,
        f"SELECT {COLUMNS} FROM bindings WHERE {where} "
        "ORDER BY created_at DESC, uid DESC LIMIT ? OFFSET ?",
        *params,
        limit,
        offset,
    )
    return [_decode(row) for row in rows]


async def count(
    db: D1Database, owner: str, template_uid: str | None = None, status: str | None = None
) -> int:
    where, params = _filters(owner, template_uid, status)
    row = await fetch_one(db, f"SELECT COUNT(*) AS n FROM bindings WHERE {where}", *params)
    return int(row["n"]) if row else 0


async def update_definition(db: D1Database, row: dict) -> int:
    """PUT: the definition columns (and a refresh state reset by the caller)."""
    sets = ", ".join(f"{name} = ?" for name in DEFINITION)
    return await execute(
        db,
        f"UPDATE bindings SET {sets}, last_error = ? WHERE uid = ? AND owner = ?",
        *(_encoded(row, name) for name in DEFINITION),
        row["last_error"],
        row["uid"],
        row["owner"],
    )


async def delete(db: D1Database, owner: str, uid: str) -> int:
    return await execute(db, "DELETE FROM bindings WHERE owner = ? AND uid = ?", owner, uid)


async def mark_queued(db: D1Database, uid: str, now: str, stale_before: str) -> bool:
    """Claim the one queued refresh of `uid`: False when one is queued already (and not
    older than `stale_before`: a job that died is not waited for forever)."""
    return bool(
        await execute(
            db,
            "UPDATE bindings SET queued_at = ? WHERE uid = ? "
            "AND (queued_at IS NULL OR queued_at < ?)",
            now,
            uid,
            stale_before,
        )
    )


async def clear_queued(db: D1Database, uid: str) -> None:
    await execute(db, "UPDATE bindings SET queued_at = NULL WHERE uid = ?", uid)


async def record_render(
    db: D1Database, uid: str, previous_image: str | None, fields: dict[str, Any]
) -> bool:
    """Make a new render the binding's image, unless another render replaced
    `previous_image` meanwhile (then False: the caller's render lost and is its to remove)."""
    sets = _sets(fields)
    return bool(
        await execute(
            db,
            f"UPDATE bindings SET {sets} WHERE uid = ? AND image_id IS ?",
            *(_encoded(fields, name) for name in fields),
            uid,
            previous_image,
        )
    )


async def record_state(db: D1Database, uid: str, fields: dict[str, Any]) -> None:
    """Refresh bookkeeping that does not change the image (errors, unchanged data)."""
    sets = _sets(fields)
    await execute(
        db,
        f"UPDATE bindings SET {sets} WHERE uid = ?",
        *(_encoded(fields, name) for name in fields),
        uid,
    )


async def due(db: D1Database, now: str, stale_before: str, limit: int) -> list[dict]:
    """Bindings whose refresh time has come (not paused, no refresh queued)."""
    rows = await fetch_all(
        db,
        f"SELECT {COLUMNS} FROM bindings WHERE next_run_at <= ? AND status != 'paused' "
        "AND (queued_at IS NULL OR queued_at < ?) ORDER BY next_run_at LIMIT ?",
        now,
        stale_before,
        limit,
    )
    return [_decode(row) for row in rows]


async def count_for_template(db: D1Database, owner: str, template_uid: str) -> int:
    row = await fetch_one(
        db,
        "SELECT COUNT(*) AS n FROM bindings WHERE owner = ? AND template_uid = ?",
        owner,
        template_uid,
    )
    return int(row["n"]) if row else 0
