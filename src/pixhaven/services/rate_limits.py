"""Request rate limits counted in D1: fixed windows per subject (a minute, a UTC day), one
upsert per request (db/rate_windows.py), and the one 429 answer every limit gives
(`rate_limited`: `RATE_LIMITED`, `Retry-After`, `details {limit, period, retry_after}`;
PixelFlare's upload limits answer with it too, services/images/upload_limits.py).

Pictify's API is limited per API key (the admin token and Access users per owner):
`PICTIFY_RATE_PER_MINUTE` and `PICTIFY_DAILY_LIMIT`, its Free plan's 60 and 1,000 by
default, 0 turning one off. Every answer reports the window closest to its limit in
`X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix seconds at the window's end), as
Pictify's documentation shows them.

Why not `env.RATE_LIMITER`: Cloudflare's binding answers only `success`, so it cannot give
`X-RateLimit-Remaining`; its limit is fixed in wrangler.toml (not a setting) and its period is
at most 60 s; and it counts per Cloudflare location, where D1 counts a key once wherever its
requests come from. Why fixed windows rather than PixelFlare's sliding minute over usage
events: one statement per request (a sliding window needs a count, then a write), no row
per request, and a `Reset` that is the same for every request of the window. A full window
stops counting, so a client retrying against it spends nothing; a request refused by one
window is still counted in the other if that one had room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pixhaven.db import rate_windows
from pixhaven.errors import ApiError
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env


def rate_limited(message: str, limit: int, period: str, retry_after: int) -> ApiError:
    """The 429 of any request limit: `Retry-After` (at least 1 s) in the header and in
    `details`."""
    retry_after = max(1, retry_after)
    return ApiError(
        429,
        message,
        code="RATE_LIMITED",
        headers={"Retry-After": str(retry_after)},
        details={"limit": limit, "period": period, "retry_after": retry_after},
    )


@dataclass(frozen=True)
class Window:
    period: str  # "minute" or "day"
    limit: int
    slot: str  # the row's key: the window's start, e.g. "m:2026-12-02T09:41"
    reset: datetime  # the window's end

    @classmethod
    def minute(cls, limit: int, now: datetime) -> Window:
        start = now.replace(second=0, microsecond=0)
        return cls("minute", limit, "m:" + start.strftime("%Y-%m-%dT%H:%M"), start + MINUTE)

    @classmethod
    def day(cls, limit: int, now: datetime) -> Window:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls("day", limit, "d:" + start.strftime("%Y-%m-%d"), start + DAY)


MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class RateState:
    """Where a subject stands after a request: the window its headers report."""

    window: Window
    remaining: int
    now: datetime

    @property
    def exhausted(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.window.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(int(self.window.reset.timestamp())),
        }

    def refusal(self) -> ApiError:
        error = rate_limited(
            f"You have exceeded the rate limit of {self.window.limit} requests per "
            f"{self.window.period}.",
            self.window.limit,
            self.window.period,
            int((self.window.reset - self.now).total_seconds()) + 1,
        )
        error.headers = {**self.headers(), **(error.headers or {})}
        return error


async def count_request(env: Env, subject: str, per_minute: int, per_day: int) -> RateState | None:
    """Count one request of `subject` in its minute and day windows (a limit of 0 has no
    window); None when neither limit is on. `exhausted` says the request is over a limit
    (the caller answers `refusal()`)."""
    now = utcnow()
    windows = [
        window
        for window in (Window.minute(per_minute, now), Window.day(per_day, now))
        if window.limit > 0
    ]
    if not windows:
        return None
    counted = await rate_windows.count(
        env.DB, subject, [(w.slot, w.limit, iso(w.reset)) for w in windows]
    )
    # A window missing from the answer was full before this request: -1 left (refused).
    states = [
        RateState(w, w.limit - counted[w.slot] if w.slot in counted else -1, now) for w in windows
    ]
    # Report the window with least room left; on a tie, the one that resets first.
    return min(states, key=lambda state: (state.remaining, state.window.reset))


async def purge_expired(env: Env) -> int:
    return await rate_windows.delete_expired(env.DB, iso(utcnow()))
