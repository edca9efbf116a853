"""List totals and tag counts come from the image_counts counters (migration 0006, kept by
triggers) minus the live images already expired. Random sequences of writes — inserts,
tag edits, soft deletes, restores, purges, expiry changes, uploads completing, album and
tag deletes, renames — against a real local D1, and after every step the counters must
equal the exact COUNT over the rows, for every filter value. Then the same over HTTP."""

import json
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from pixhaven.db import albums as album_table
from pixhaven.db import images as image_table
from pixhaven.db import tags as tag_table
from pixhaven.local.runtime.migrations import split_statements
from pixhaven.routers.cattopic.images import FORMAT_FILTERS
from pixhaven.services.images import tags as tag_management
from pixhaven.services.images import updates as image_updates
from pixhaven.timeutil import now_iso
from tests.conftest import bearer
from tests.imagegen import unique_jpeg, upload

OWNERS = ("alice", "bob")
TAGS = ("cat", "dog", "sea", "sky", "tree")
FORMATS = ("jpg", "png", "gif", "webp", "avif")
BASE = datetime(2026, 3, 1, tzinfo=timezone.utc)

# What the counters must hold: live images (deleted_at IS NULL AND status = 'ready').
EXACT_COUNTERS = """
SELECT owner, 'all' AS dim, '' AS value, COUNT(*) AS n FROM images
    WHERE deleted_at IS NULL AND status = 'ready' GROUP BY owner
UNION ALL SELECT owner, 'orientation', orientation, COUNT(*) FROM images
    WHERE deleted_at IS NULL AND status = 'ready' GROUP BY owner, orientation
UNION ALL SELECT owner, 'format', format, COUNT(*) FROM images
    WHERE deleted_at IS NULL AND status = 'ready' GROUP BY owner, format
UNION ALL SELECT owner, 'album', album_id, COUNT(*) FROM images
    WHERE deleted_at IS NULL AND status = 'ready' AND album_id IS NOT NULL
    GROUP BY owner, album_id
UNION ALL SELECT it.owner, 'tag', it.tag, COUNT(*) FROM image_tags it
    JOIN images i ON i.id = it.image_id
    WHERE i.deleted_at IS NULL AND i.status = 'ready' GROUP BY it.owner, it.tag
"""


def stamp(minutes: float) -> str:
    moment = BASE + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def rows(db, sql: str, *params) -> list[dict]:
    statement = db.prepare(sql)
    result = await (statement.bind(*params) if params else statement).all()
    return [dict(row) for row in result["results"]]


async def counters(db) -> dict[tuple, int]:
    found = await rows(db, "SELECT owner, dim, value, n FROM image_counts WHERE n != 0")
    return {(r["owner"], r["dim"], r["value"]): r["n"] for r in found}


async def exact_counters(db) -> dict[tuple, int]:
    return {(r["owner"], r["dim"], r["value"]): r["n"] for r in await rows(db, EXACT_COUNTERS)}


class World:
    """The random workload: which ids exist, which albums, what time it is."""

    def __init__(self, db, rng: random.Random):
        self.db, self.rng = db, rng
        self.minute = 0.0
        self.ids: list[tuple[str, str]] = []  # (image id, owner) of the rows there
        self.albums = {owner: [f"col_{owner}_{n}" for n in range(2)] for owner in OWNERS}
        self.serial = 0
        self.expired_seen = 0  # checks made while live images had expired (not purged)

    @property
    def now(self) -> str:
        return stamp(self.minute)

    def pick(self) -> tuple[str, str] | None:
        return self.rng.choice(self.ids) if self.ids else None

    def expiry(self) -> str | None:
        return self.rng.choice(
            [
                None,
                None,
                stamp(self.minute - self.rng.uniform(0, 30)),
                stamp(self.minute + self.rng.uniform(0, 30)),
            ]
        )

    async def make_albums(self):
        for owner, album_ids in self.albums.items():
            for album_id in album_ids:
                await album_table.insert_if_missing(
                    self.db,
                    {
                        "id": album_id,
                        "owner": owner,
                        "slug": album_id,
                        "title": album_id,
                        "description": None,
                        "created_at": self.now,
                        "updated_at": self.now,
                    },
                )

    async def insert(self):
        rng, db = self.rng, self.db
        owner = rng.choice(OWNERS)
        self.serial += 1
        image_id = str(uuid.UUID(int=rng.getrandbits(128)))
        row = {column: None for column in image_table.INSERT_COLUMNS}
        row.update(
            id=image_id,
            short_id=f"s{self.serial}",
            owner=owner,
            album_id=rng.choice([None, *self.albums[owner]]),
            filename=f"{self.serial}.jpg",
            original_name="x.jpg",
            content_type="image/jpeg",
            format=rng.choice(FORMATS),
            width=1,
            height=1,
            orientation=rng.choice(["landscape", "portrait"]),
            animated=0,
            size=1,
            content_hash=f"h{self.serial}",
            is_private=0,
            source="upload",
            status=rng.choice(["ready", "ready", "ready", "pending"]),
            rand=rng.randrange(2**31),
            created_at=self.now,
            updated_at=self.now,
            expires_at=self.expiry(),
        )
        statements = [image_table.insert_statement(db, row)]
        for tag in rng.sample(TAGS, rng.randrange(3)):
            statements += [
                tag_table.ensure_statement(db, owner, tag, self.now),
                tag_table.attach_statement(db, owner, image_id, tag),
            ]
        await db.batch(statements)
        self.ids.append((image_id, owner))

    async def step(self):
        rng, db, now = self.rng, self.db, self.now
        picked = self.pick()
        action = rng.choice(
            [
                "insert",
                "insert",
                "attach",
                "attach",
                "detach",
                "clear",
                "soft_delete",
                "restore",
                "purge",
                "expiry",
                "status",
                "edit",
                "album_delete",
                "rename",
                "tag_delete",
                "many",
                "time",
                "purge_due",
            ]
        )
        if action == "insert" or picked is None:
            await self.insert()
            return
        image_id, owner = picked
        if action == "attach":
            tag = rng.choice(TAGS)
            await db.batch(
                [
                    tag_table.ensure_statement(db, owner, tag, now),
                    tag_table.attach_statement(db, owner, image_id, tag),
                ]
            )
        elif action == "detach":
            await tag_table.detach_statement(db, image_id, rng.choice(TAGS)).run()
        elif action == "clear":
            await tag_table.clear_statement(db, image_id).run()
        elif action == "soft_delete":
            await image_table.soft_delete(db, image_id, now)
        elif action == "restore":
            await image_table.restore(db, image_id, now)
        elif action == "purge":
            await db.batch([image_table.delete_statement(db, image_id)])
            self.ids.remove(picked)
        elif action == "expiry":
            await image_table.update_fields(db, image_id, {"expires_at": self.expiry()}, now)
        elif action == "status":
            await image_table.update_fields(
                db, image_id, {"status": rng.choice(["ready", "pending", "uploading"])}, now
            )
        elif action == "edit":
            column = rng.choice(["orientation", "format", "album_id"])
            value = {
                "orientation": rng.choice(["landscape", "portrait"]),
                "format": rng.choice(FORMATS),
                "album_id": rng.choice([None, *self.albums[owner]]),
            }[column]
            await image_table.update_fields(db, image_id, {column: value}, now)
        elif action == "album_delete":
            album_id = rng.choice(self.albums[owner])
            if rng.random() < 0.5:  # as the service does: detach, then delete
                await db.batch(
                    [
                        image_table.detach_album_statement(db, album_id, now),
                        album_table.delete_statement(db, album_id),
                    ]
                )
            else:  # the foreign key's ON DELETE SET NULL does the detaching
                await album_table.delete(db, album_id)
            await self.make_albums()
        elif action == "rename":
            old, new = rng.sample(TAGS, 2)
            if await tag_table.exists(db, owner, old):
                await db.batch(tag_table.rename_statements(db, owner, old, new, now))
        elif action == "tag_delete":
            tag = rng.choice(TAGS)
            if await tag_table.exists(db, owner, tag):
                # delete_tag reads the clock: what it deletes is what was visible then.
                shown = await image_table.count_rows(db, owner, now_iso(), tag=tag)
                assert await tag_management.delete_tag(db, owner, tag) == shown
        elif action == "many":
            ids = json.dumps([i for i, o in rng.sample(self.ids, min(4, len(self.ids)))])
            names = json.dumps(rng.sample(TAGS, 2))
            if rng.random() < 0.5:
                await db.batch(
                    [
                        tag_table.ensure_many_statement(db, owner, names, now),
                        tag_table.attach_many_statement(db, owner, ids, names),
                    ]
                )
            else:
                await tag_table.detach_many_statement(db, owner, ids, names).run()
        elif action == "time":
            self.minute += rng.uniform(0, 20)  # images expire with no write at all
        elif action == "purge_due":
            due = await image_table.purgeable(db, now, stamp(self.minute - 10), 5)
            if due:
                await db.batch([image_table.delete_statement(db, row["id"]) for row in due])
                gone = {row["id"] for row in due}
                self.ids = [entry for entry in self.ids if entry[0] not in gone]

    async def check(self):
        db, now = self.db, self.now
        assert await counters(db) == await exact_counters(db)
        expired = await rows(
            db,
            "SELECT COUNT(*) AS n FROM images WHERE deleted_at IS NULL"
            " AND status = 'ready' AND expires_at <= ?",
            now,
        )
        self.expired_seen += expired[0]["n"] > 0
        for owner in OWNERS:
            cases = [
                {},
                {"orientation": "landscape"},
                {"orientation": "portrait"},
                {"tag": "nosuchtag"},
                {"album_id": "col_nosuch"},
                {"tag": "cat", "orientation": "portrait"},  # combined: counted rows
                {"include_deleted": True},
            ]
            cases += [dict(format_filter) for format_filter in FORMAT_FILTERS.values()]
            cases += [{"album_id": album_id} for album_id in self.albums[owner]]
            cases += [{"tag": tag} for tag in TAGS]
            for filters in cases:
                assert await image_table.count(
                    db, owner, now, **filters
                ) == await image_table.count_rows(db, owner, now, **filters), filters
            listed = await tag_table.list_with_counts(db, owner, now)
            assert listed == await tag_table.list_with_counted_rows(db, owner, now)
            for entry in listed:
                assert await tag_table.get_with_count(db, owner, entry["name"], now) == entry


@pytest.mark.parametrize("seed", range(4))
async def test_counters_equal_exact_counts_after_every_write(env, seed):
    world = World(env.DB, random.Random(seed))
    await world.make_albums()
    for _ in range(120):
        await world.step()
        await world.check()
    assert world.ids and world.expired_seen > 10  # the subtraction was exercised


async def test_migration_backfills_existing_rows(tmp_path):
    """Rows written before migration 0006 are counted by its backfill."""
    from pathlib import Path

    from pixhaven.local.bindings.d1 import LocalD1
    from pixhaven.local.runtime.migrations import apply_migrations

    root = Path(__file__).resolve().parents[1] / "migrations"
    before = tmp_path / "before"
    before.mkdir()
    # Every migration but 0006 (the rows are written with today's columns; the others
    # do not touch the counters).
    for path in sorted(root.glob("*.sql")):
        if not path.name.startswith("0006"):
            (before / path.name).write_text(path.read_text())
    db = LocalD1(tmp_path / "d1.sqlite3")
    try:
        await apply_migrations(db, before)
        world = World(db, random.Random(7))
        await world.make_albums()
        for _ in range(60):
            await world.step()
        assert await rows(db, "SELECT name FROM sqlite_master WHERE name = 'image_counts'") == []
        (before / "0006_image_counts.sql").write_text((root / "0006_image_counts.sql").read_text())
        assert "0006_image_counts.sql" in await apply_migrations(db, before)
        assert await exact_counters(db)
        await world.check()
        for _ in range(30):  # and the triggers take over from there
            await world.step()
            await world.check()
    finally:
        db.close()


def test_split_statements_keeps_trigger_bodies_whole():
    sql = """CREATE TABLE t (a TEXT);
    -- a trigger; its body has several statements
    CREATE TRIGGER tr AFTER INSERT ON t WHEN NEW.a != 'end;'
    BEGIN
        INSERT INTO t VALUES ('x;y');
        UPDATE t SET a = CASE WHEN a = 'b' THEN 'c' ELSE a END WHERE a = 'END;';
    END;
    INSERT INTO t VALUES ('b')"""
    statements = split_statements(sql)
    assert len(statements) == 3
    assert statements[0] == "CREATE TABLE t (a TEXT)"
    assert statements[1].startswith("CREATE TRIGGER tr") and statements[1].endswith("END")
    assert "INSERT INTO t VALUES ('x;y');" in statements[1]
    assert statements[2] == "INSERT INTO t VALUES ('b')"


# -- over HTTP -----------------------------------------------------------------------------


async def totals(client, headers, query: str = "") -> int:
    response = await client.get(f"/api/images?limit=5{query}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == body["pagination"]["total"]
    assert body["totalPages"] == (body["total"] + 4) // 5
    return body["total"]


async def tag_counts(client, headers) -> dict[str, int]:
    cattopic = await client.get("/api/tags", headers=headers)
    pixelflare = await client.get("/v1/tags", headers=headers)
    assert cattopic.status_code == pixelflare.status_code == 200
    counts = {tag["name"]: tag["count"] for tag in cattopic.json()["tags"]}
    assert {tag["tag"]: tag["count"] for tag in pixelflare.json()["data"]} == counts
    return counts


async def test_http_totals_and_tag_counts_follow_deletes_and_expiry(client, admin, env, make_key):
    ids = []
    for seed, tags in enumerate(["red,blue", "red", "blue", "red,green", None]):
        response = await upload(client, admin, unique_jpeg(seed), f"i{seed}.jpg", tags=tags)
        assert response.status_code == 200, response.text
        ids.append(response.json()["result"]["id"])
    assert await totals(client, admin) == 5
    assert await totals(client, admin, "&tag=red") == 3
    assert await tag_counts(client, admin) == {"red": 3, "blue": 2, "green": 1}

    assert (await client.delete(f"/api/images/{ids[0]}", headers=admin)).status_code == 200
    assert await totals(client, admin) == 4
    assert await totals(client, admin, "&tag=red") == 2
    assert await tag_counts(client, admin) == {"red": 2, "blue": 1, "green": 1}

    # Expired but not purged yet: no write happened when it expired, still not counted.
    past = stamp(-60)
    await image_table.update_fields(env.DB, ids[3], {"expires_at": past}, past)
    assert await totals(client, admin) == 3
    assert await totals(client, admin, "&tag=red") == 1
    assert await totals(client, admin, "&tag=green") == 0
    assert await tag_counts(client, admin) == {"red": 1, "blue": 1, "green": 0}
    landscape = await totals(client, admin, "&orientation=landscape")
    portrait = await totals(client, admin, "&orientation=portrait")
    assert landscape + portrait == 3

    # Restored: counted again, with its tags.
    response = await client.post(f"/v1/images/{ids[0]}/restore", headers=admin)
    assert response.status_code == 200, response.text
    assert await totals(client, admin) == 4
    assert await tag_counts(client, admin) == {"red": 2, "blue": 2, "green": 0}

    # Deleting a tag deletes its visible images (and says how many) and uncounts them.
    response = await client.delete("/api/tags/blue", headers=admin)
    assert response.status_code == 200
    assert response.json()["deletedImages"] == 2
    assert await tag_counts(client, admin) == {"red": 1, "green": 0}
    assert await totals(client, admin) == 2
    assert await totals(client, admin, "&tag=blue") == 0

    # Purged by the cron: rows gone, counts unchanged (they were already not visible).
    await image_updates.purge_due(env, retention_days=0)
    assert await totals(client, admin) == 2
    assert await tag_counts(client, admin) == {"red": 1, "green": 0}

    # Another owner sees none of it.
    key, _ = await make_key(["images:read"], owner="someone_else")
    assert await totals(client, bearer(key)) == 0
    assert await tag_counts(client, bearer(key)) == {}
