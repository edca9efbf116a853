"""D1 contract: what app code may rely on from `env.DB`, on every implementation.

Only the binding surface of docs/BINDINGS.md is used, and every asserted value is
JSON-representable, so the same test runs against Miniflare through the bridge.
Errors are matched by message (D1's prefixes), not by exception class: on Workers
they arrive as a JS error converted to a Python exception.
"""

import pytest

META_KEYS = {
    "changes",
    "last_row_id",
    "duration",
    "rows_read",
    "rows_written",
    "changed_db",
    "size_after",
}


async def make_items_table(d1):
    await d1.prepare(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL,"
        " count INTEGER, note TEXT)"
    ).run()


async def test_all_returns_results_success_and_meta(d1):
    await make_items_table(d1)
    await d1.prepare("INSERT INTO items (name, count) VALUES (?, ?)").bind("a", 1).run()

    result = await d1.prepare("SELECT name, count FROM items").all()

    assert result["success"] is True
    assert result["results"] == [{"name": "a", "count": 1}]
    assert META_KEYS <= set(result["meta"])
    # Results are dicts that also allow attribute access, like the SDK's JsDict.
    assert result.results[0].name == "a"
    assert result.meta.changes == 0


async def test_run_reports_changes_and_last_row_id(d1):
    await make_items_table(d1)
    first = await d1.prepare("INSERT INTO items (name) VALUES (?)").bind("a").run()
    second = await d1.prepare("INSERT INTO items (name) VALUES (?)").bind("b").run()
    assert first["success"] is True
    assert META_KEYS <= set(first["meta"])
    assert first["meta"]["changes"] == 1
    assert second["meta"]["last_row_id"] == first["meta"]["last_row_id"] + 1
    assert second["meta"]["changed_db"] is True

    updated = await d1.prepare("UPDATE items SET count = 7").run()
    assert updated["meta"]["changes"] == 2
    deleted = await d1.prepare("DELETE FROM items WHERE name = ?").bind("a").run()
    assert deleted["meta"]["changes"] == 1


async def test_value_types_round_trip(d1):
    await make_items_table(d1)
    await (
        d1.prepare("INSERT INTO items (name, score, count, note) VALUES (?, ?, ?, ?)")
        .bind("ünïcødé ✓", 3.5, 42, None)
        .run()
    )

    row = await d1.prepare("SELECT name, score, count, note FROM items").first()

    assert row == {"name": "ünïcødé ✓", "score": 3.5, "count": 42, "note": None}
    assert isinstance(row["count"], int) and not isinstance(row["count"], bool)
    assert isinstance(row["score"], float)


async def test_none_binds_as_null(d1):
    await make_items_table(d1)
    await d1.prepare("INSERT INTO items (name, note) VALUES (?, ?)").bind("a", None).run()
    is_null = await d1.prepare("SELECT note IS NULL AS n FROM items").first("n")
    assert is_null == 1
    assert await d1.prepare("SELECT note FROM items").first("note") is None


async def test_bool_is_stored_as_integer(d1):
    await make_items_table(d1)
    await d1.prepare("INSERT INTO items (name, count) VALUES (?, ?)").bind("t", True).run()
    await d1.prepare("INSERT INTO items (name, count) VALUES (?, ?)").bind("f", False).run()
    rows = await d1.prepare("SELECT count FROM items ORDER BY name").raw()
    assert rows == [[0], [1]]


async def test_bytes_are_stored_as_blob_and_read_as_list_of_ints(d1):
    await d1.prepare("CREATE TABLE blobs (data BLOB)").run()
    await d1.prepare("INSERT INTO blobs VALUES (?)").bind(b"\x00\x01\xff").run()
    assert await d1.prepare("SELECT typeof(data) AS t FROM blobs").first("t") == "blob"
    assert await d1.prepare("SELECT data FROM blobs").first("data") == [0, 1, 255]


async def test_first_returns_row_value_or_none(d1):
    await make_items_table(d1)
    empty = d1.prepare("SELECT name FROM items")
    assert await empty.first() is None
    assert await empty.first("name") is None

    await d1.prepare("INSERT INTO items (name, count) VALUES ('a', 1), ('b', 2)").run()
    ordered = d1.prepare("SELECT name, count FROM items ORDER BY name")
    assert await ordered.first() == {"name": "a", "count": 1}
    assert await ordered.first("count") == 1


async def test_first_with_unknown_column_is_an_error(d1):
    await make_items_table(d1)
    await d1.prepare("INSERT INTO items (name) VALUES ('a')").run()
    with pytest.raises(Exception, match="D1_"):
        await d1.prepare("SELECT name FROM items").first("nope")


async def test_raw_returns_lists_optionally_with_column_names(d1):
    await make_items_table(d1)
    statement = d1.prepare("SELECT name, count FROM items ORDER BY name")
    assert await statement.raw() == []
    assert await statement.raw(columnNames=True) == [["name", "count"]]

    await d1.prepare("INSERT INTO items (name, count) VALUES ('a', 1), ('b', NULL)").run()
    assert await statement.raw() == [["a", 1], ["b", None]]
    assert await statement.raw(columnNames=True) == [["name", "count"], ["a", 1], ["b", None]]


async def test_bind_returns_a_new_statement(d1):
    await make_items_table(d1)
    insert = d1.prepare("INSERT INTO items (name) VALUES (?)")
    await insert.bind("a").run()
    await insert.bind("b").run()
    names = await d1.prepare("SELECT name FROM items ORDER BY name").raw()
    assert names == [["a"], ["b"]]


async def test_batch_returns_one_result_per_statement(d1):
    await make_items_table(d1)
    results = await d1.batch(
        [
            d1.prepare("INSERT INTO items (name) VALUES (?)").bind("a"),
            d1.prepare("INSERT INTO items (name) VALUES (?)").bind("b"),
            d1.prepare("SELECT name FROM items ORDER BY name"),
        ]
    )
    assert len(results) == 3
    assert all(r["success"] is True for r in results)
    assert results[0]["meta"]["changes"] == 1
    assert results[2]["results"] == [{"name": "a"}, {"name": "b"}]


async def test_batch_is_atomic(d1):
    await make_items_table(d1)
    await d1.prepare("INSERT INTO items (name) VALUES ('existing')").run()

    with pytest.raises(Exception, match="D1_ERROR"):
        await d1.batch(
            [
                d1.prepare("INSERT INTO items (name) VALUES (?)").bind("new"),
                d1.prepare("UPDATE items SET count = 99"),
                d1.prepare("INSERT INTO items (name) VALUES (?)").bind("existing"),
            ]
        )

    rows = await d1.prepare("SELECT name, count FROM items").all()
    assert rows["results"] == [{"name": "existing", "count": None}]


async def test_batch_with_invalid_sql_changes_nothing(d1):
    await make_items_table(d1)
    with pytest.raises(Exception, match="D1_ERROR"):
        await d1.batch(
            [
                d1.prepare("INSERT INTO items (name) VALUES ('a')"),
                d1.prepare("INSERT INTO missing_table VALUES (1)"),
            ]
        )
    assert await d1.prepare("SELECT COUNT(*) AS n FROM items").first("n") == 0


async def test_one_hundred_bound_parameters_work_and_101_fail(d1):
    def summing(count):
        return d1.prepare("SELECT " + " + ".join(["?"] * count) + " AS total")

    assert await summing(100).bind(*range(100)).first("total") == sum(range(100))
    with pytest.raises(Exception, match="D1_ERROR"):
        await summing(101).bind(*range(101)).first("total")


async def test_sql_errors_carry_the_d1_error_prefix(d1):
    with pytest.raises(Exception, match="D1_ERROR") as raised:
        await d1.prepare("SELECT * FROM no_such_table").all()
    assert "no such table" in str(raised.value)


async def test_unique_violation_is_an_error_and_changes_nothing(d1):
    await make_items_table(d1)
    await d1.prepare("INSERT INTO items (name) VALUES ('a')").run()
    with pytest.raises(Exception, match="D1_ERROR.*UNIQUE"):
        await d1.prepare("INSERT INTO items (name) VALUES ('a')").run()
    assert await d1.prepare("SELECT COUNT(*) AS n FROM items").first("n") == 1


async def test_foreign_keys_are_enforced(d1):
    await d1.prepare("CREATE TABLE parents (id INTEGER PRIMARY KEY)").run()
    await d1.prepare(
        "CREATE TABLE children (id INTEGER PRIMARY KEY,"
        " parent_id INTEGER NOT NULL REFERENCES parents(id))"
    ).run()
    with pytest.raises(Exception, match="D1_ERROR.*FOREIGN KEY"):
        await d1.prepare("INSERT INTO children (parent_id) VALUES (7)").run()


async def test_sql_transactions_are_refused(d1):
    with pytest.raises(Exception, match="D1_ERROR"):
        await d1.prepare("BEGIN TRANSACTION").run()


async def test_exec_runs_one_statement_per_line(d1):
    result = await d1.exec(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n"
        "INSERT INTO notes (body) VALUES ('one');\n"
        "INSERT INTO notes (body) VALUES ('two');"
    )
    assert result["count"] == 3
    assert result["duration"] >= 0
    assert await d1.prepare("SELECT COUNT(*) AS n FROM notes").first("n") == 2


async def test_exec_reports_errors(d1):
    with pytest.raises(Exception, match="D1_"):
        await d1.exec("INSERT INTO no_such_table VALUES (1);")


async def test_numbers_bind_as_javascript_numbers(d1):
    # A Python int reaches D1 as a JS number: workerd binds it as REAL. Columns with
    # INTEGER affinity still store an integer; bare expressions see a REAL.
    await d1.prepare("CREATE TABLE n (i INTEGER)").run()
    await d1.prepare("INSERT INTO n VALUES (?)").bind(7).run()
    assert await d1.prepare("SELECT typeof(i) AS t FROM n").first("t") == "integer"
    row = await d1.prepare("SELECT typeof(?) AS t, ? / 2 AS half").bind(5, 5).first()
    assert row == {"t": "real", "half": 2.5}
    assert await d1.prepare("SELECT ? AS whole").bind(4).first("whole") == 4


async def test_unsupported_bind_values_are_type_errors(d1):
    with pytest.raises(Exception, match="D1_TYPE_ERROR"):
        await d1.prepare("SELECT ?").bind({"a": 1}).all()
    with pytest.raises(Exception, match="D1_TYPE_ERROR"):
        await d1.prepare("SELECT ?").bind(2**53 + 1).all()


async def test_wrong_number_of_bindings_is_an_error(d1):
    with pytest.raises(Exception, match="D1_ERROR: Wrong number of parameter bindings"):
        await d1.prepare("SELECT ?, ?").bind(1).all()


async def test_several_statements_in_one_prepare_return_the_last(d1):
    result = (
        await d1.prepare("CREATE TABLE s (v); INSERT INTO s VALUES (1); SELECT ? AS v")
        .bind(9)
        .all()
    )
    assert result["results"] == [{"v": 9}]
    assert await d1.prepare("SELECT COUNT(*) AS n FROM s").first("n") == 1


@pytest.mark.parametrize("sql", ["", "   ", "-- only a comment", "SELECT 1; -- trailing"])
async def test_sql_without_a_statement_is_an_error(d1, sql):
    with pytest.raises(Exception, match="D1_ERROR"):
        await d1.prepare(sql).all()


async def test_empty_batch_is_an_error(d1):
    with pytest.raises(Exception, match="D1_ERROR"):
        await d1.batch([])


async def test_exec_does_not_join_lines(d1):
    with pytest.raises(Exception, match="D1_EXEC_ERROR"):
        await d1.exec("CREATE TABLE multi (\n  id INTEGER\n);")


# -- Values the Worker runtime cannot bind. Pyodide 0.28 hands an int to JavaScript as a Number
# only below 2**53 - 1 in magnitude (Number.MAX_SAFE_INTEGER itself already becomes a BigInt;
# checked on Pyodide 0.28.3), and workerd's bind() refuses a BigInt: the message below is
# Miniflare's. A tuple or bytearray the SDK refuses to send at all (python_to_rpc); on the
# Miniflare side that refusal is the bridge's model of the SDK, not Miniflare.


def js_error_name(error: BaseException) -> str:
    return getattr(error, "name", type(error).__name__)


@pytest.mark.parametrize("value", [2**53 - 2, -(2**53 - 2), 0, 1.5e300])
async def test_numbers_a_javascript_number_holds_bind(d1, value):
    assert await d1.prepare("SELECT ? AS v").bind(value).first("v") == value


@pytest.mark.parametrize("value", [2**53 - 1, -(2**53 - 1), 2**53, 2**63, -(2**64)])
async def test_integers_that_become_bigints_are_refused_at_bind(d1, value):
    with pytest.raises(Exception) as caught:
        d1.prepare("SELECT ?").bind(value)
    assert str(caught.value) == f"D1_TYPE_ERROR: Type 'bigint' not supported for value '{value}'"
    assert js_error_name(caught.value) in ("Error", "D1Error")


@pytest.mark.parametrize("value", [bytearray(b"\x01\x02"), (1, 2), [1, (2,)]])
async def test_tuples_and_bytearrays_cannot_be_bound(d1, value):
    with pytest.raises(TypeError, match=r"^<class '(bytearray|tuple)'> cannot be sent over RPC\.$"):
        d1.prepare("SELECT ?").bind(value)


async def test_a_memoryview_binds_as_a_blob(d1):
    assert await d1.prepare("SELECT ? AS v").bind(memoryview(b"\x01\x02")).first("v") == [1, 2]


async def test_a_tuple_of_statements_cannot_be_sent(d1):
    with pytest.raises(TypeError, match=r"^<class 'tuple'> cannot be sent over RPC\.$"):
        await d1.batch((d1.prepare("SELECT 1"),))
