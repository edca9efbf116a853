"""Timestamps as every dialect wants them: ISO 8601 UTC with milliseconds and a Z."""

import time
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """`2024-01-15T10:30:00.000Z` for an aware or naive-UTC datetime."""
    # isoformat, not strftime: a third of the time, and every public object request asks.
    # An aware one in UTC always ends "+00:00", cut off: replace(tzinfo=None) would take
    # as long as the formatting.
    if moment.tzinfo is None:
        return moment.isoformat(timespec="milliseconds") + "Z"
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def now_iso() -> str:
    """iso() of the present. Every public object request asks (its image's expiry), so the
    part that changes once a second is formatted once a second."""
    global _this_second
    nanoseconds = time.time_ns()
    second, within = divmod(nanoseconds, 1_000_000_000)
    seen = _this_second  # one read: another thread may replace it meanwhile
    if seen[0] != second:
        seen = _this_second = (second, datetime.fromtimestamp(second, UTC).isoformat()[:19])
    return f"{seen[1]}.{within // 1_000_000:03d}Z"


_this_second: tuple[int, str] = (-1, "")


def iso_in(delta: timedelta) -> str:
    return iso(utcnow() + delta)


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
