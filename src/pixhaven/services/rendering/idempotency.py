"""`Idempotency-Key` for Pictify's rendering routes: the first answer for (owner, key) is kept
for 24 hours and replayed for the same request (route + body); the same key with a
different request is a 422, a request while the first is still running a 409 (after
ABANDONED_AFTER without an answer the first is taken for dead and the key is free again).
Failed requests release their key so they can be retried. The cron purges expired keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pixhaven.db import idempotency as idem_table
from pixhaven.errors import ApiError, invalid
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

IDEMPOTENCY_WINDOW = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)  # an unanswered in-flight key is taken over after this
MAX_IDEMPOTENCY_KEY = 255


async def idempotent(
    env: Env,
    owner: str,
    key: str | None,
    route: str,
    body: Any,
    produce: Callable[[], Awaitable[tuple[int, dict]]],
) -> tuple[int, dict, bool]:
    """(status, body, replayed). Without a key, just `produce()`."""
    if key is None:
        status, answer = await produce()
        return status, answer, False
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise invalid(
            f"Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY} printable characters",
            field="Idempotency-Key",
        )
    fingerprint = hashlib.sha256(
        (route + "\n" + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()
    ).hexdigest()
    db = env.DB
    now = utcnow()
    await idem_table.delete_older_than(db, iso(now - IDEMPOTENCY_WINDOW), owner, key)
    claimed = await idem_table.claim(db, owner, key, fingerprint, iso(now))
    if not claimed:
        # An in-flight row whose request died (isolate evicted mid-render) is abandoned.
        await idem_table.release_stale(db, owner, key, iso(now - ABANDONED_AFTER))
        claimed = await idem_table.claim(db, owner, key, fingerprint, iso(now))
    if not claimed:
        row = await idem_table.get(db, owner, key)
        if row is None:  # released between our insert and read: the other request failed
            raise _in_progress(key)
        if row["request_hash"] != fingerprint:
            raise ApiError(
                422,
                "This Idempotency-Key was already used with a different request",
                code="IDEMPOTENCY_KEY_REUSED",
                details={"idempotencyKey": key},
            )
        if row["status"] is None:
            raise _in_progress(key)
        return int(row["status"]), json.loads(row["response"]), True
    try:
        status, answer = await produce()
    except BaseException:
        await idem_table.release(db, owner, key)
        raise
    await idem_table.complete(db, owner, key, status, json.dumps(answer))
    return status, answer, False


def _in_progress(key: str) -> ApiError:
    return ApiError(
        409,
        "A request with this Idempotency-Key is still being processed; retry shortly",
        code="CONFLICT",
        details={"idempotencyKey": key},
        headers={"Retry-After": "1"},
    )


async def purge_idempotency_keys(env: Env) -> int:
    """Drop keys older than the replay window (cron housekeeping)."""
    return await idem_table.delete_older_than(env.DB, iso(utcnow() - IDEMPOTENCY_WINDOW))
