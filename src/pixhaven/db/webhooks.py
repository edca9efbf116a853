"""Queries for `webhook_subscriptions` and `webhook_deliveries`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pixhaven.db.d1 import MaybeRow, execute, fetch_all, fetch_one
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

SUBSCRIPTION_COLUMNS = (
    "uid, owner, url, events, secret, description, active, created_at, updated_at,"
    " platform, filters, status"
)


def _decode_subscription(row: MaybeRow) -> MaybeRow:
    if row is not None:
        row["events"] = json.loads(row["events"])
        row["active"] = bool(row["active"])
        row["filters"] = json.loads(row["filters"]) if row["filters"] else {}
    return row


def _decode_delivery(row: MaybeRow) -> MaybeRow:
    if row is not None:
        row["payload"] = json.loads(row["payload"])
    return row


async def insert_subscription(db: D1Database, row: dict) -> None:
    await execute(
        db,
        f"INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLUMNS})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row["uid"],
        row["owner"],
        row["url"],
        json.dumps(row["events"]),
        row["secret"],
        row["description"],
        int(row["active"]),
        row["created_at"],
        row["updated_at"],
        row["platform"],
        json.dumps(row["filters"]) if row["filters"] else None,
        row["status"],
    )


async def get_subscription(db: D1Database, uid: str, owner: str | None = None) -> dict | None:
    if owner is None:
        return _decode_subscription(
            await fetch_one(
                db, f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE uid = ?", uid
            )
        )
    return _decode_subscription(
        await fetch_one(
            db,
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE uid = ? AND owner = ?",
            uid,
            owner,
        )
    )


async def list_subscriptions(db: D1Database, owner: str) -> list[dict]:
    rows = await fetch_all(
        db,
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions"
        " WHERE owner = ? ORDER BY created_at, uid",
        owner,
    )
    return [_decode_subscription(row) for row in rows]


async def count_subscriptions(db: D1Database, owner: str) -> int:
    row = await fetch_one(
        db, "SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE owner = ?", owner
    )
    return int(row["n"]) if row else 0


async def delivery_stats(db: D1Database, subscription_uid: str) -> dict:
    """{delivered, failed, last_at}: the subscription's settled deliveries."""
    row = await fetch_one(
        db,
        "SELECT SUM(status = 'delivered') AS delivered, SUM(status = 'failed') AS failed,"
        " MAX(CASE WHEN attempts > 0 THEN updated_at END) AS last_at"
        " FROM webhook_deliveries WHERE subscription_uid = ?",
        subscription_uid,
    )
    row = row or {}
    return {
        "delivered": int(row.get("delivered") or 0),
        "failed": int(row.get("failed") or 0),
        "last_at": row.get("last_at"),
    }


async def active_subscriptions(db: D1Database, owner: str) -> list[dict]:
    rows = await fetch_all(
        db,
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions"
        " WHERE owner = ? AND active = 1 ORDER BY created_at, uid",
        owner,
    )
    return [_decode_subscription(row) for row in rows]


async def update_subscription(db: D1Database, row: dict) -> None:
    await execute(
        db,
        "UPDATE webhook_subscriptions SET url = ?, events = ?, secret = ?,"
        " description = ?, active = ?, updated_at = ?, platform = ?, filters = ?, status = ?"
        " WHERE uid = ? AND owner = ?",
        row["url"],
        json.dumps(row["events"]),
        row["secret"],
        row["description"],
        int(row["active"]),
        row["updated_at"],
        row["platform"],
        json.dumps(row["filters"]) if row["filters"] else None,
        row["status"],
        row["uid"],
        row["owner"],
    )


async def delete_subscription(db: D1Database, uid: str, owner: str) -> bool:
    return (
        await execute(
            db, "DELETE FROM webhook_subscriptions WHERE uid = ? AND owner = ?", uid, owner
        )
        == 1
    )


# Newest first; deliveries made in the same millisecond in the order they were made
# (rowid), not by their random ids.
NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"


async def insert_delivery(
    db: D1Database,
    *,
    delivery_id: str,
    subscription_uid: str,
    owner: str,
    event: str,
    payload: dict,
) -> None:
    now = now_iso()
    await execute(
        db,
        "INSERT INTO webhook_deliveries (id, subscription_uid, owner, event,"
        " payload, status, attempts, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        delivery_id,
        subscription_uid,
        owner,
        event,
        json.dumps(payload),
        now,
        now,
    )


async def get_delivery(db: D1Database, delivery_id: str) -> dict | None:
    return _decode_delivery(
        await fetch_one(db, "SELECT * FROM webhook_deliveries WHERE id = ?", delivery_id)
    )


async def deliveries_of(db: D1Database, subscription_uid: str, limit: int = 20) -> list[dict]:
    rows = await fetch_all(
        db,
        f"SELECT * FROM webhook_deliveries WHERE subscription_uid = ? {NEWEST_FIRST} LIMIT ?",
        subscription_uid,
        limit,
    )
    return [_decode_delivery(row) for row in rows]


async def deliveries_page(
    db: D1Database, subscription_uid: str, status: str | None, limit: int, offset: int
) -> tuple[list[dict], int]:
    """One page of the subscription's deliveries, newest first, and how many there are
    (those of `status` only, when given)."""
    where, params = "subscription_uid = ?", [subscription_uid]
    if status is not None:
        where += " AND status = ?"
        params.append(status)
    rows = await fetch_all(
        db,
        f"SELECT * FROM webhook_deliveries WHERE {where} {NEWEST_FIRST} LIMIT ? OFFSET ?",
        *params,
        limit,
        offset,
    )
    total = await fetch_one(
        db, f"SELECT COUNT(*) AS n FROM webhook_deliveries WHERE {where}", *params
    )
    return [_decode_delivery(row) for row in rows], int(total["n"]) if total else 0


async def record_attempt(
    db: D1Database,
    delivery_id: str,
    *,
    status: str,
    status_code: int | None,
    error: str | None,
    next_attempt_at: str | None,
) -> None:
    await execute(
        db,
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1,"
        " last_status_code = ?, last_error = ?, next_attempt_at = ?,"
        " updated_at = ? WHERE id = ?",
        status,
        status_code,
        None if error is None else error[:2000],
        next_attempt_at,
        now_iso(),
        delivery_id,
    )


async def recent_outcomes(db: D1Database, subscription_uid: str, limit: int) -> list[str]:
    """The statuses of the subscription's last `limit` settled deliveries, newest first."""
    rows = await fetch_all(
        db,
        "SELECT status FROM webhook_deliveries WHERE subscription_uid = ?"
        " AND status IN ('delivered', 'failed') ORDER BY updated_at DESC, id LIMIT ?",
        subscription_uid,
        limit,
    )
    return [row["status"] for row in rows]


async def mark_failed(db: D1Database, subscription_uid: str) -> None:
    """Disable an active subscription whose deliveries keep failing (status `failed`)."""
    await execute(
        db,
        "UPDATE webhook_subscriptions SET status = 'failed', active = 0, updated_at = ?"
        " WHERE uid = ? AND status = 'active'",
        now_iso(),
        subscription_uid,
    )
