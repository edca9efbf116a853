"""Local-only properties of LocalD1: persistence, concurrency, SQLite settings."""

import asyncio
import threading

import pytest

from pixhaven.local.bindings.d1 import D1Error, LocalD1


@pytest.fixture
def db(tmp_path):
    database = LocalD1(tmp_path / "db.sqlite3")
    yield database
    database.close()


async def test_data_persists_in_the_file(tmp_path):
    path = tmp_path / "nested" / "db.sqlite3"
    first = LocalD1(path)
    await first.exec("CREATE TABLE t (v TEXT);\nINSERT INTO t VALUES ('kept');")
    first.close()
    second = LocalD1(path)
    assert await second.prepare("SELECT v FROM t").first("v") == "kept"
    second.close()


async def test_wal_and_foreign_keys_are_on(db):
    assert await db.prepare("PRAGMA journal_mode").first("journal_mode") == "wal"
    assert await db.prepare("PRAGMA foreign_keys").first("foreign_keys") == 1


async def test_errors_are_d1_error_instances(db):
    with pytest.raises(D1Error) as raised:
        await db.prepare("SELECT * FROM missing").all()
    assert str(raised.value).startswith("D1_ERROR: no such table: missing")


def test_bind_checks_values_immediately(db):
    with pytest.raises(D1Error, match="D1_TYPE_ERROR"):
        db.prepare("SELECT ?").bind(object())


async def test_results_are_dicts_with_attribute_access(db):
    result = await db.prepare("SELECT 1 AS one").all()
    assert result.success and result.meta.served_by
    assert result.results[0].one == 1


async def test_concurrent_tasks_and_threads_share_the_database(db):
    await db.prepare("CREATE TABLE hits (n INTEGER)").run()

    async def task_inserts():
        for _ in range(50):
            await db.prepare("INSERT INTO hits VALUES (?)").bind(1).run()

    def thread_inserts():
        async def inserts():
            for _ in range(50):
                await db.batch([db.prepare("INSERT INTO hits VALUES (1)")] * 2)

        asyncio.run(inserts())

    threads = [threading.Thread(target=thread_inserts) for _ in range(4)]
    for thread in threads:
        thread.start()
    await asyncio.gather(*(task_inserts() for _ in range(8)))
    for thread in threads:
        thread.join()
    assert await db.prepare("SELECT COUNT(*) AS n FROM hits").first("n") == 8 * 50 + 4 * 100


async def test_two_connections_to_one_file_wait_for_each_other(tmp_path):
    path = tmp_path / "shared.sqlite3"
    a, b = LocalD1(path), LocalD1(path)
    await a.prepare("CREATE TABLE t (v INTEGER)").run()

    def write(database, count):
        async def run():
            for i in range(count):
                await database.prepare("INSERT INTO t VALUES (?)").bind(i).run()

        asyncio.run(run())

    threads = [threading.Thread(target=write, args=(d, 100)) for d in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert await a.prepare("SELECT COUNT(*) AS n FROM t").first("n") == 200
    a.close()
    b.close()


async def test_failed_batch_leaves_no_open_transaction(db):
    await db.prepare("CREATE TABLE t (v INTEGER UNIQUE)").run()
    with pytest.raises(D1Error):
        await db.batch(
            [db.prepare("INSERT INTO t VALUES (1)"), db.prepare("INSERT INTO t VALUES (1)")]
        )
    await db.prepare("INSERT INTO t VALUES (2)").run()
    assert await db.prepare("SELECT v FROM t").raw() == [[2]]


async def test_execute_script_applies_multi_line_sql(db):
    db.execute_script(
        """
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL  -- a comment; with a semicolon
        );
        CREATE TABLE log (item_id INTEGER);
        CREATE TRIGGER items_log AFTER INSERT ON items BEGIN
            INSERT INTO log VALUES (new.id);
        END;
        INSERT INTO items (name) VALUES ('semi;colon');
        """
    )
    assert await db.prepare("SELECT name FROM items").first("name") == "semi;colon"
    assert await db.prepare("SELECT COUNT(*) AS n FROM log").first("n") == 1


async def test_execute_script_is_all_or_nothing(db):
    with pytest.raises(D1Error):
        db.execute_script("CREATE TABLE a (v); INSERT INTO missing VALUES (1);")
    assert await db.prepare("SELECT name FROM sqlite_master WHERE name = 'a'").first() is None


async def test_blob_bindings_accept_bytes_like_values(db):
    await db.prepare("CREATE TABLE b (v BLOB)").run()
    await db.batch(
        [
            db.prepare("INSERT INTO b VALUES (?)").bind(b"\x01"),  # a bytearray cannot be sent
            db.prepare("INSERT INTO b VALUES (?)").bind(memoryview(b"\x02")),
            db.prepare("INSERT INTO b VALUES (?)").bind([3]),
        ]
    )
    assert await db.prepare("SELECT v FROM b ORDER BY v").raw() == [[[1]], [[2]], [[3]]]


async def test_large_integers_come_back_as_javascript_would_see_them(db):
    value = await db.prepare("SELECT 9007199254740993 AS n").first("n")
    assert isinstance(value, float) and value == 2**53


def _file_size(path) -> int:
    """The database size as a fresh connection of its own reads it (WAL included)."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    finally:
        connection.close()
    return pages * page_size


async def test_a_select_reports_the_size_another_process_grew_the_file_to(tmp_path):
    # A lone SELECT's meta is partly remembered between calls (LocalD1._counters_after_read):
    # another binding on the file (`pixhaven dev --workers N`) growing it must still show.
    path = tmp_path / "shared.sqlite3"
    reader, writer = LocalD1(path), LocalD1(path)
    await writer.prepare("CREATE TABLE t (v TEXT)").run()
    small = (await reader.prepare("SELECT COUNT(*) AS n FROM t").all()).meta.size_after
    assert small == _file_size(path)
    for _ in range(3):
        grown = await writer.prepare("INSERT INTO t VALUES (?)").bind("x" * 20_000).run()
        meta = (await reader.prepare("SELECT COUNT(*) AS n FROM t").all()).meta
        assert meta.size_after == grown.meta.size_after == _file_size(path)
        assert meta.changes == 0 and meta.changed_db is False
    assert meta.size_after > small
    reader.close()
    writer.close()


async def test_a_select_reports_the_counters_of_the_writes_before_it(db):
    # Each write path (run, batch, exec, execute_script, a failed batch) must leave no
    # stale counters behind for the SELECTs that follow it.
    async def select_meta():
        return (await db.prepare("SELECT COUNT(*) AS n FROM t").all()).meta

    await db.prepare("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)").run()
    await select_meta()
    inserted = await db.prepare("INSERT INTO t (v) VALUES (?)").bind("a" * 10_000).run()
    meta = await select_meta()
    assert meta.last_row_id == inserted.meta.last_row_id
    assert meta.size_after == inserted.meta.size_after == _file_size(db.path)

    await db.batch([db.prepare("INSERT INTO t (id, v) VALUES (7, 'b')")])
    assert (await select_meta()).last_row_id == 7
    await db.exec("INSERT INTO t (id, v) VALUES (9, 'c')")
    assert (await select_meta()).last_row_id == 9
    db.execute_script(f"INSERT INTO t (id, v) VALUES (11, '{'d' * 10_000}');")
    meta = await select_meta()
    assert meta.last_row_id == 11 and meta.size_after == _file_size(db.path)

    with pytest.raises(D1Error):  # the first insert is rolled back, its rowid stays
        await db.batch(
            [
                db.prepare("INSERT INTO t (id, v) VALUES (20, 'e')"),
                db.prepare("INSERT INTO t (id, v) VALUES (7, 'f')"),
            ]
        )
    expected = await db.prepare("SELECT last_insert_rowid() AS id").first("id")
    assert (await select_meta()).last_row_id == expected == 20


async def test_every_read_converts_values_as_javascript_would(db):
    # first(), raw() and all() each convert rows on their own path (LocalD1._execute).
    sql = (
        "SELECT 'x', NULL, 9007199254740991, -9007199254740991, 9007199254740992,"
        " -9007199254740992, 9223372036854775807, 2.0, -0.0, 2.5, 1e300, 1e999, X'0102', 0"
    )
    expected = [
        "x",
        None,
        2**53 - 1,
        -(2**53 - 1),
        float(2**53),  # from 2**53 a JS number no longer holds every integer
        -float(2**53),
        float(2**63 - 1),
        2,  # a whole REAL reaches Python as an int
        0,
        2.5,
        1e300,
        float("inf"),
        [1, 2],
        0,
    ]

    def typed(values):
        return [(type(v), v) for v in values]

    first = await db.prepare(sql).first()
    (raw,) = await db.prepare(sql).raw()
    (row,) = (await db.prepare(sql).all()).results
    assert typed(first.values()) == typed(raw) == typed(row.values()) == typed(expected)
