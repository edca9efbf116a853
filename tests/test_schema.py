"""schema.sql and the migrations must build the same database."""

from pathlib import Path

from pixhaven.local.bindings.d1 import LocalD1
from pixhaven.local.runtime.migrations import apply_migrations, split_statements

ROOT = Path(__file__).resolve().parents[1]


async def schema_of(db) -> set[tuple]:
    rows = (
        await db.prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'd1_%' AND name NOT LIKE '_cf_%'"
        ).all()
    )["results"]
    return {(r["type"], r["name"], r["tbl_name"], " ".join((r["sql"] or "").split())) for r in rows}


async def test_schema_sql_equals_migrations(tmp_path):
    from_migrations = LocalD1(tmp_path / "a.sqlite3")
    from_schema = LocalD1(tmp_path / "b.sqlite3")
    try:
        assert await apply_migrations(from_migrations, ROOT / "migrations") == sorted(
            p.name for p in (ROOT / "migrations").glob("*.sql")
        )
        await from_schema.batch(
            [from_schema.prepare(s) for s in split_statements((ROOT / "schema.sql").read_text())]
        )
        assert await schema_of(from_schema) == await schema_of(from_migrations)
        # Applying again does nothing.
        assert await apply_migrations(from_migrations, ROOT / "migrations") == []
    finally:
        from_migrations.close()
        from_schema.close()


def test_split_statements_respects_quotes_and_comments():
    sql = "-- a; comment\nCREATE TABLE t (a TEXT DEFAULT ';');\n/* b; */ INSERT INTO t VALUES ('x;y');"
    assert split_statements(sql) == [
        "CREATE TABLE t (a TEXT DEFAULT ';')",
        "INSERT INTO t VALUES ('x;y')",
    ]
