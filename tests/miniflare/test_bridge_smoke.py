"""Smoke test of the Miniflare bridge itself: a few D1 and R2 calls straight through it.

The binding rules are checked by tests/contract/ (against both implementations); this only
shows that the bridge starts, transports values losslessly and surfaces JS errors. Where an
assertion below records a Miniflare behaviour, it is what Miniflare does, not a wish.
"""

import datetime
import hashlib

import pytest

from tests.miniflare.bridge import JsDict, MiniflareBridge


@pytest.fixture(scope="module")
def bridge():
    bridge = MiniflareBridge.start_or_skip()
    yield bridge
    bridge.stop()


async def test_d1_round_trip(bridge):
    db = await bridge.fresh_d1()
    created = await db.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, score REAL);\n"
        "CREATE TABLE other (x)"
    )
    # Miniflare's exec() runs the SQL line by line and counts the lines.
    assert created["count"] == 2
    run = (
        await db.prepare("INSERT INTO t (name, data, score) VALUES (?, ?, ?)")
        .bind("ünï", bytes(range(256)), None)
        .run()
    )
    assert run.success is True
    assert run.meta.changes == 1 and run.meta.last_row_id == 1
    assert {"changes", "last_row_id", "duration", "rows_read", "rows_written"} <= set(run.meta)

    result = await db.prepare("SELECT * FROM t").all()
    assert isinstance(result, JsDict)
    row = result.results[0]
    assert row.name == "ünï" and row.score is None
    # Miniflare hands BLOBs back as arrays of byte values.
    assert row.data == list(range(256))

    assert await db.prepare("SELECT name FROM t WHERE id = ?").bind(1).first("name") == "ünï"
    assert await db.prepare("SELECT * FROM t WHERE id = ?").bind(2).first() is None
    assert await db.prepare("SELECT id, name FROM t").raw() == [[1, "ünï"]]
    assert await db.prepare("SELECT id, name FROM t").raw(columnNames=True) == [
        ["id", "name"],
        [1, "ünï"],
    ]
    with pytest.raises(Exception, match="^D1_COLUMN_NOTFOUND"):
        await db.prepare("SELECT id FROM t").first("nope")
    with pytest.raises(Exception, match="^D1_ERROR: no such table"):
        await db.prepare("SELECT * FROM missing").all()
    with pytest.raises(Exception, match="^D1_TYPE_ERROR"):
        db.prepare("SELECT ?").bind({"a": 1})


async def test_d1_parameter_limit_and_batch_atomicity(bridge):
    db = await bridge.fresh_d1()
    ok = await db.prepare("SELECT " + ", ".join(["?"] * 100)).bind(*range(100)).raw()
    assert ok == [list(range(100))]
    with pytest.raises(Exception, match="^D1_ERROR: too many SQL variables"):
        await db.prepare("SELECT " + ", ".join(["?"] * 101)).bind(*range(101)).raw()

    await db.exec("CREATE TABLE n (v INTEGER)")
    with pytest.raises(Exception, match="^D1_ERROR"):
        await db.batch(
            [db.prepare("INSERT INTO n VALUES (1)"), db.prepare("INSERT INTO missing VALUES (1)")]
        )
    assert await db.prepare("SELECT count(*) AS c FROM n").first("c") == 0
    results = await db.batch(
        [db.prepare("INSERT INTO n VALUES (?)").bind(7), db.prepare("SELECT v FROM n")]
    )
    assert [r.success for r in results] == [True, True]
    assert results[1].results == [{"v": 7}]


async def test_d1_reset_drops_user_tables(bridge):
    db = await bridge.fresh_d1()
    await db.exec("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p REFERENCES p(id))")
    await db.exec("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1); CREATE VIEW v AS SELECT 1")
    db = await bridge.fresh_d1()
    names = await db.prepare(
        "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'"
    ).raw()
    assert names == []


async def test_r2_round_trip(bridge):
    r2 = await bridge.fresh_r2()
    data = bytes(range(256)) * 3
    put = await r2.put(
        "dir/a.bin",
        data,
        httpMetadata={"contentType": "application/octet-stream"},
        customMetadata={"owner": "me"},
    )
    assert put.key == "dir/a.bin" and put.size == len(data)
    assert put.etag == hashlib.md5(data).hexdigest()
    assert put.httpEtag == f'"{put.etag}"'
    assert isinstance(put.uploaded, datetime.datetime) and put.uploaded.tzinfo is None
    assert put.httpMetadata["contentType"] == "application/octet-stream"
    assert put.customMetadata == {"owner": "me"}
    assert bytes(put.checksums.md5) == hashlib.md5(data).digest()

    got = await r2.get("dir/a.bin")
    buffer = await got.arrayBuffer()
    assert isinstance(buffer, memoryview) and bytes(buffer) == data  # as the SDK gives it
    with pytest.raises(TypeError):
        await got.text()  # a body is read once

    part = await r2.get("dir/a.bin", range={"offset": 10, "length": 5})
    assert bytes(await part.arrayBuffer()) == data[10:15]
    tail = await r2.get("dir/a.bin", range={"suffix": 4})
    assert bytes(await tail.arrayBuffer()) == data[-4:]

    unchanged = await r2.get("dir/a.bin", onlyIf={"etagDoesNotMatch": put.etag})
    assert unchanged is not None and not hasattr(unchanged, "body")

    copy = await r2.put("dir/copy.bin", (await r2.get("dir/a.bin")).body)
    assert copy.etag == put.etag
    await r2.put("top.txt", "héllo")
    assert await (await r2.get("top.txt")).text() == "héllo"
    assert (await r2.head("top.txt")).size == len("héllo".encode())
    assert await r2.head("missing") is None and await r2.get("missing") is None

    listed = await r2.list(delimiter="/")
    assert [o.key for o in listed.objects] == ["top.txt"]
    assert listed.delimitedPrefixes == ["dir/"] and listed.truncated is False
    page = await r2.list(prefix="dir/", limit=1, include=["httpMetadata", "customMetadata"])
    assert [o.key for o in page.objects] == ["dir/a.bin"] and page.truncated is True
    assert page.objects[0].customMetadata == {"owner": "me"}
    rest = await r2.list(prefix="dir/", cursor=page.cursor)
    assert [o.key for o in rest.objects] == ["dir/copy.bin"]

    await r2.delete(["dir/a.bin", "dir/copy.bin"])
    await r2.delete("top.txt")
    assert (await r2.list()).objects == []


async def test_r2_reset_empties_bucket(bridge):
    r2 = await bridge.fresh_r2()
    for i in range(5):
        await r2.put(f"k{i}", b"x")
    r2 = await bridge.fresh_r2()
    assert (await r2.list()).objects == []
