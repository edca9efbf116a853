"""Timestamps as every dialect writes them (timeutil.iso): UTC, milliseconds, a Z."""

import random
from datetime import UTC, datetime, timedelta, timezone

from pixhaven.timeutil import iso, now_iso, parse_iso, utcnow


def spelled_out(moment: datetime) -> str:
    """The format written out field by field, to hold iso() to."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def test_naive_utc_aware_and_other_offsets_are_written_in_utc():
    draw = random.Random(15)
    zones = [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    for _ in range(20_000):
        moment = datetime(2000, 1, 1) + timedelta(microseconds=draw.randrange(10**16))
        moment = moment.replace(tzinfo=draw.choice(zones))
        assert iso(moment) == spelled_out(moment)


def test_a_whole_second_keeps_its_milliseconds_and_reads_back():
    moment = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert iso(moment) == "2024-01-15T10:30:00.000Z"
    assert parse_iso(iso(moment)) == moment
    assert len(now_iso()) == len("2024-01-15T10:30:00.000Z") and now_iso().endswith("Z")


def test_now_is_the_present_across_a_second_boundary():
    # now_iso() formats each second once: hold it to iso() of a clock read on either
    # side, over at least one change of second.
    seconds = set()
    while len(seconds) < 2:
        before = iso(utcnow())
        now = now_iso()
        after = iso(utcnow())
        assert before <= now <= after, (before, now, after)
        seconds.add(now[:19])
