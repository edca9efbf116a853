"""Query plans that keep list pages flat from 1k to 1M images (bench/latency.py measures
them; these guard the plans themselves, which timings on a small test database cannot)."""

from pixhaven.db import images
from pixhaven.timeutil import now_iso

CURSOR = ("2026-01-01T00:00:00.000Z", "00000000-0000-4000-8000-000000000000")


async def plan_of(env, sql: str, params: list) -> str:
    plan = await env.DB.prepare("EXPLAIN QUERY PLAN " + sql).bind(*params).all()
    return " | ".join(row["detail"] for row in plan["results"])


async def test_a_deep_cursor_page_seeks_to_the_cursor(env):
    """The cursor is one range bound on images_by_owner, not a filter applied while walking
    from the newest image (which made a page near the end of 100k images 3x slower)."""
    sql, params = images.list_after_sql("me", now_iso(), limit=51, cursor=CURSOR)
    plan = await plan_of(env, sql, params)
    assert "images_by_owner (owner=? AND (created_at,id)<(?,?))" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def test_filtered_cursor_pages_seek_to_the_cursor_too(env):
    for filters in ({"orientation": "portrait"}, {"tag": "cat", "walk_tag": True}):
        sql, params = images.list_after_sql("me", now_iso(), limit=51, cursor=CURSOR, **filters)
        plan = await plan_of(env, sql, params)
        assert "(created_at,id)<(?,?)" in plan, (filters, plan)
        assert "TEMP B-TREE" not in plan, (filters, plan)
