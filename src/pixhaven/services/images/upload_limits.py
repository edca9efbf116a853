"""PixelFlare's upload limits, per owner: "Upload: 10 requests/minute burst, 1000/day"
(`UPLOAD_RATE_PER_MINUTE`, `UPLOAD_DAILY_LIMIT`; 0 turns one off), counted on the route that
creates uploads (`POST /v1/images`) and answered 429 `RATE_LIMITED` with `Retry-After`.

Each accepted upload is a usage event (`kind = "upload"`), like Craftr's renders
(services/rendering/usage.py): the minute is a sliding window over those events, the day
the UTC calendar day. The Rate Limiting binding is not used: its limit is fixed in
wrangler.toml (not a setting), its period can be 60 s at most (no day), and it counts per
Cloudflare location, where D1 counts one owner's uploads once wherever they come from.
Two requests racing past the check may both be let in: the limit can be exceeded by the
number of requests in flight at once, never by more. (Pictify's request limits count fixed
windows instead, services/rate_limits.py, whose 429 this one shares.)
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.db import usage_events
from pixhaven.services.rate_limits import rate_limited
from pixhaven.timeutil import iso, parse_iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

KIND = "upload"
MINUTE = timedelta(minutes=1)


async def spend_upload(env: Env, settings: Settings, owner: str, key_id: str | None) -> None:
    """Count one upload for `owner`, or the 429 when it is over a limit (then nothing is
    counted)."""
    per_minute, per_day = settings.upload_rate_per_minute, settings.upload_daily_limit
    now = utcnow()
    if per_day > 0:
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        used, _ = await usage_events.count_and_oldest_since(env.DB, owner, KIND, iso(day_start))
        if used >= per_day:
            tomorrow = day_start + timedelta(days=1)
            raise rate_limited(
                f"Rate limit exceeded: at most {per_day} uploads a day",
                per_day,
                "day",
                int((tomorrow - now).total_seconds()) + 1,
            )
    if per_minute > 0:
        used, oldest = await usage_events.count_and_oldest_since(
            env.DB, owner, KIND, iso(now - MINUTE)
        )
        if used >= per_minute:
            # The window frees a place when its oldest upload is a minute old.
            freed = parse_iso(oldest) + MINUTE if oldest else now + MINUTE
            raise rate_limited(
                f"Rate limit exceeded: at most {per_minute} uploads a minute",
                per_minute,
                "minute",
                int((freed - now).total_seconds()) + 1,
            )
    await usage_events.insert(
        env.DB,
        {
            "id": "use_" + uuid.uuid4().hex[:24],
            "owner": owner,
            "key_id": key_id,
            "kind": KIND,
            "cost": 0,
            "detail": {"api": "pixelflare"},
            "created_at": iso(now),
        },
    )
