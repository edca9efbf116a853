"""Splinterpic analytics over `usage_events`: `GET /api/analytics/usage` and
`GET /api/analytics/costs`, for the caller's owner only.

The period is `[start, end)`: `end` defaults to now, `start` to `end - days` (`days`
default 30, at most 366). A date without a time means the whole UTC day (`end=2024-01-31`
includes the 31st). Days are UTC calendar days; `by_day` lists every day of the period,
zeros included, so charts need no gap filling. Costs are USD.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pixhaven.db import usage_events
from pixhaven.errors import invalid_parameter
from pixhaven.numerals import integer_from_text
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

DEFAULT_DAYS, MAX_DAYS = 30, 366


def _moment(raw: str, field: str, *, end: bool) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise invalid_parameter(field, f"{field} must be an ISO 8601 date or date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def period(query) -> tuple[datetime, datetime]:
    """(start, end) from `start`, `end` and `days` query parameters."""
    raw_days = query.get("days")
    days = DEFAULT_DAYS
    if raw_days not in (None, ""):
        asked = integer_from_text(raw_days)
        if asked is None:
            raise invalid_parameter("days", "days must be an integer")
        days = asked
        if not 1 <= days <= MAX_DAYS:
            raise invalid_parameter("days", f"days must be between 1 and {MAX_DAYS}")
    end = _moment(query["end"], "end", end=True) if query.get("end") else utcnow()
    start = (
        _moment(query["start"], "start", end=False)
        if query.get("start")
        else end - timedelta(days=days)
    )
    if start >= end:
        raise invalid_parameter("start", "start must be before end")
    if end - start > timedelta(days=MAX_DAYS):
        raise invalid_parameter("start", f"the period can be at most {MAX_DAYS} days")
    return start, end


def _days(start: datetime, end: datetime) -> list[str]:
    first, last = start.date(), (end - timedelta(milliseconds=1)).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _period_body(start: datetime, end: datetime) -> dict:
    return {"start": iso(start), "end": iso(end), "days": len(_days(start, end))}


async def _rows(db: D1Database, owner: str, start: datetime, end: datetime):
    return (
        await usage_events.totals_by_day(db, owner, iso(start), iso(end)),
        await usage_events.totals_by_model(db, owner, iso(start), iso(end)),
    )


async def usage(db: D1Database, owner: str, query) -> dict:
    start, end = period(query)
    by_day_rows, by_model_rows = await _rows(db, owner, start, end)
    days: dict[str, dict[str, Any]] = {
        day: {"date": day, "count": 0, "generations": 0, "by_kind": {}} for day in _days(start, end)
    }
    totals: dict[str, Any] = {"count": 0, "generations": 0, "by_kind": {}}
    for row in by_day_rows:
        n = int(row["n"])
        for bucket in (
            days.setdefault(
                row["day"], {"date": row["day"], "count": 0, "generations": 0, "by_kind": {}}
            ),
            totals,
        ):
            bucket["count"] += n
            bucket["by_kind"][row["kind"]] = bucket["by_kind"].get(row["kind"], 0) + n
            if row["kind"] == "generate":
                bucket["generations"] += n
    models: dict[str, dict] = {}
    for row in by_model_rows:
        entry = models.setdefault(
            row["model"], {"model": row["model"], "count": 0, "generations": 0}
        )
        entry["count"] += int(row["n"])
        if row["kind"] == "generate":
            entry["generations"] += int(row["n"])
    return {
        "success": True,
        "period": _period_body(start, end),
        "totals": totals,
        "by_day": [days[day] for day in sorted(days)],
        "by_model": sorted(models.values(), key=lambda m: (-m["count"], m["model"])),
    }


async def costs(db: D1Database, owner: str, query) -> dict:
    start, end = period(query)
    by_day_rows, by_model_rows = await _rows(db, owner, start, end)
    days: dict[str, dict[str, Any]] = {
        day: {"date": day, "cost": 0.0, "count": 0} for day in _days(start, end)
    }
    total, count = 0.0, 0
    for row in by_day_rows:
        entry = days.setdefault(row["day"], {"date": row["day"], "cost": 0.0, "count": 0})
        entry["cost"] += float(row["cost"])
        entry["count"] += int(row["n"])
        total += float(row["cost"])
        count += int(row["n"])
    models: dict[str, dict] = {}
    for row in by_model_rows:
        entry = models.setdefault(row["model"], {"model": row["model"], "cost": 0.0, "count": 0})
        entry["cost"] += float(row["cost"])
        entry["count"] += int(row["n"])
    for entry in [*days.values(), *models.values()]:
        entry["cost"] = round(entry["cost"], 8)
    for entry in models.values():
        entry["average_cost"] = round(entry["cost"] / entry["count"], 8) if entry["count"] else 0
    return {
        "success": True,
        "currency": "USD",
        "period": _period_body(start, end),
        "total_cost": round(total, 8),
        "count": count,
        "by_model": sorted(models.values(), key=lambda m: (-m["cost"], -m["count"], m["model"])),
        "by_day": [days[day] for day in sorted(days)],
    }
