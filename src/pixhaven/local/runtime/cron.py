"""Just enough cron to run `[triggers] crons` locally: five fields with `*`, `*/n`, `a-b`,
`a-b/n` and lists; day-of-week 0-7 with 0 and 7 both Sunday. Times are UTC, as on Cloudflare.
"""

from datetime import datetime, timedelta

FIELD_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _parse_field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        expr, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if expr == "*":
            start, end = low, high
        elif "-" in expr:
            start, end = (int(x) for x in expr.split("-", 1))
        else:
            start = int(expr)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ValueError(f"cron field {text!r} out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


class CronSchedule:
    def __init__(self, expression: str):
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"cron expression {expression!r} must have five fields")
        self.expression = expression
        parsed = [_parse_field(f, lo, hi) for f, (lo, hi) in zip(fields, FIELD_RANGES)]
        self.minutes, self.hours, self.days, self.months, weekdays = parsed
        self.weekdays = {d % 7 for d in weekdays}
        self.any_day = fields[2] == "*"
        self.any_weekday = fields[4] == "*"

    def matches(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday
        if self.any_day or self.any_weekday:
            day_ok = moment.day in self.days and weekday in self.weekdays
        else:  # both restricted: either may match (classic cron semantics)
            day_ok = moment.day in self.days or weekday in self.weekdays
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and day_ok
        )

    def next_after(self, moment: datetime) -> datetime:
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):
            if self.matches(candidate):
                return candidate
            candidate += timedelta(minutes=1)
        raise ValueError(f"cron expression {self.expression!r} never fires")
