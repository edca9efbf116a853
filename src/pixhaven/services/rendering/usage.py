"""Render usage: each render is a usage event (`kind = "render"`, `detail.api` naming the
API that rendered), and Craftr's monthly quota is counted from those events."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.db import usage_events
from pixhaven.errors import ApiError
from pixhaven.timeutil import iso, now_iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env


async def record_usage(env: Env, owner: str, key_id: str | None, detail: dict) -> None:
    await usage_events.insert(
        env.DB,
        {
            "id": "use_" + uuid.uuid4().hex[:24],
            "owner": owner,
            "key_id": key_id,
            "kind": "render",
            "cost": 0,
            "detail": detail,
            "created_at": now_iso(),
        },
    )


async def check_monthly_quota(env: Env, owner: str, limit: int) -> None:
    """Craftr's plans count renders per month; past `RENDER_MONTHLY_LIMIT` (0 = no limit)
    the answer is 429 with the documented `retryAfter`: the start of next month (UTC)."""
    if limit <= 0:
        return
    now = utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = await usage_events.count_api_since(env.DB, owner, "render", "craftr", iso(month_start))
    if used < limit:
        return
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    raise ApiError(
        429,
        "Rate limit exceeded",
        code="RATE_LIMITED",
        details={"limit": limit, "period": "month", "used": used},
        headers={"Retry-After": str(int((next_month - now).total_seconds()) + 1)},
        extra={"retryAfter": iso(next_month)},
    )
