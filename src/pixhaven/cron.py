"""Five-field cron (minute, hour, day of month, month, day of week), in UTC as on
Cloudflare: a binding's `schedule` (Pictify's docs) and the local server's `[triggers] crons`.

Each field takes `*`, a number, `a-b`, `*/n`, `a-b/n` and comma lists of those; months
and days of the week also by name (`jan`, `mon`); day of week 0-7, 0 and 7 both Sunday. When
both day fields are restricted either may match (classic cron). The finest schedule is
once a minute (`* * * * *`): there is no seconds field. Pure Python, no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pixhaven.numerals import is_ascii_digits

# (name, low, high, names)
FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    (
        "month",
        1,
        12,
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    ),
    ("day of week", 0, 7, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
)
MAX_LENGTH = 200
SEARCH_DAYS = 366 * 5  # long enough for "29 2 *" (Feb 29th) to come round


class ScheduleError(ValueError):
    pass


def _number(text: str, field: tuple) -> int:
    name, low, high, names = field
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if name == "month" else 0)
    if not is_ascii_digits(text):
        raise ScheduleError(f"{name}: {text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleError(f"{name}: {value} is outside {low}-{high}")
    return value


def _field(text: str, field: tuple) -> set[int]:
    name, low, high, _ = field
    values: set[int] = set()
    for part in text.split(","):
        expression, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not is_ascii_digits(step_text) or int(step_text) < 1:
                raise ScheduleError(f"{name}: the step in {part!r} must be a whole number ≥ 1")
            step = int(step_text)
        if expression == "*":
            start, end = low, high
        elif "-" in expression:
            first, _, last = expression.partition("-")
            start, end = _number(first, field), _number(last, field)
            if start > end:
                raise ScheduleError(f"{name}: the range {expression!r} runs backwards")
        else:
            start = _number(expression, field)
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return values


class Schedule:
    """A parsed cron expression; `next_after(moment)` is its next minute after `moment`."""

    def __init__(self, expression: str):
        if not isinstance(expression, str) or len(expression) > MAX_LENGTH:
            raise ScheduleError(f"a cron expression of at most {MAX_LENGTH} characters")
        parts = expression.split()
        if len(parts) != 5:
            raise ScheduleError(
                "five fields (minute hour day-of-month month day-of-week), e.g. '0 * * * *'; "
                "the finest schedule is once a minute"
            )
        self.expression = " ".join(parts)
        parsed = [_field(part, field) for part, field in zip(parts, FIELDS, strict=True)]
        self.minutes, self.hours, self.days, self.months, weekdays = parsed
        self.weekdays = {day % 7 for day in weekdays}
        self.any_day, self.any_weekday = parts[2] == "*", parts[4] == "*"

    def _day_matches(self, moment: datetime) -> bool:
        if moment.month not in self.months:
            return False
        weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday
        if self.any_day or self.any_weekday:
            return moment.day in self.days and weekday in self.weekdays
        return moment.day in self.days or weekday in self.weekdays

    def next_after(self, moment: datetime) -> datetime:
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(SEARCH_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise ScheduleError(f"{self.expression!r} never fires (no such date)")


def parse(expression: str) -> Schedule:
    """The schedule, or ScheduleError saying what is wrong; one that never fires (`0 0 31
    2 *`) is an error too."""
    schedule = Schedule(expression)
    schedule.next_after(datetime(2000, 1, 1))
    return schedule
