"""The migrations apply on every D1 implementation (Miniflare's is D1's own SQLite), and
there the random draw's plan (migration 0016) and the triggers that keep random_tags hold.

Uses only the binding API: the migrations go in as `apply_migrations` sends them."""

from pathlib import Path

from pixhaven.db import public_images as table
from pixhaven.local.runtime.migrations import apply_migrations

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
NOW = "2026-06-01T00:00:00.000Z"


async def _image(d1, image_id: str, rand: int) -> None:
    await (
        d1.prepare(
            "INSERT INTO images (id, short_id, owner, filename, original_name, content_type,"
            " format, orientation, rand, created_at, updated_at)"
            " VALUES (?, ?, 'me', 'a.jpg', 'a.jpg', 'image/jpeg', 'jpg', 'landscape', ?, ?, ?)"
        )
        .bind(image_id, image_id[:8], rand, NOW, NOW)
        .run()
    )
    await (
        d1.prepare("INSERT INTO image_tags (image_id, owner, tag) VALUES (?, 'me', 'cat')")
        .bind(image_id)
        .run()
    )


async def test_migrations_apply_and_the_round_reads_the_covering_index(d1):
    assert "0016_random_pick.sql" in await apply_migrations(d1, MIGRATIONS)
    query = table.RandomFilters("landscape", ("cat",), ("nsfw",))
    sql, params = table.picked_sql(NOW, 0, 2**31, 65, 0, query)
    plan = await d1.prepare("EXPLAIN QUERY PLAN " + sql).bind(*params).all()
    details = " | ".join(row["detail"] for row in plan["results"])
    assert "USING COVERING INDEX random_tags_pick (" in details, details
    assert "SCAN random_tags" not in details and "SCAN images" not in details, details


async def test_the_triggers_keep_random_tags_with_the_image(d1):
    await apply_migrations(d1, MIGRATIONS)
    await _image(d1, "11111111-0000-4000-8000-000000000000", 5)
    await _image(d1, "22222222-0000-4000-8000-000000000000", 7)
    query = table.RandomFilters("landscape", ("cat",), ())

    async def drawn(rank: int):
        sql, params = table.picked_sql(NOW, 0, 2**31, 65, rank, query)
        row = (await d1.prepare(sql).bind(*params).all())["results"][0]
        return row["candidates"], row["id"]

    assert await drawn(1) == (2, "22222222-0000-4000-8000-000000000000")
    await d1.prepare("UPDATE images SET deleted_at = ? WHERE rand = 7").bind(NOW).run()
    assert await drawn(0) == (1, "11111111-0000-4000-8000-000000000000")
    await d1.prepare("UPDATE images SET is_private = 1 WHERE rand = 5").run()
    assert await drawn(0) == (0, None)
    await d1.prepare("UPDATE images SET is_private = 0, deleted_at = NULL").run()
    await d1.prepare("DELETE FROM image_tags WHERE image_id LIKE '1111%'").run()
    assert await drawn(0) == (1, "22222222-0000-4000-8000-000000000000")
