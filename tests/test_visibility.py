"""The visibility rule (db/visibility.py): its SQL and its Python twin select the same rows.

One image row for every combination of deleted / status / expiry / private, in a real
SQLite database built from schema.sql; each SQL fragment must select exactly the rows its
Python check accepts, with and without a table alias.
"""

import itertools
import re
import sqlite3
from pathlib import Path

import pytest

from pixhaven.db import visibility

ROOT = Path(__file__).resolve().parents[1]

NOW = "2026-03-01T12:00:00.000Z"
PAST = "2026-02-01T12:00:00.000Z"
FUTURE = "2026-04-01T12:00:00.000Z"

DELETED_AT = (None, PAST)
STATUSES = ("pending", "uploading", "ready")
EXPIRES_AT = (None, PAST, NOW, FUTURE)  # NOW itself: expired (`expires_at <= now`)
IS_PRIVATE = (0, 1)

# SQL fragment → the Python check of a row that must agree with it.
RULES = {
    "live": (visibility.live, lambda row: visibility.is_live(row)),
    "expired": (visibility.expired, lambda row: visibility.is_expired(row, NOW)),
    "not_expired": (visibility.not_expired, lambda row: not visibility.is_expired(row, NOW)),
    "visible": (visibility.visible, lambda row: visibility.is_visible(row, NOW)),
    "public_live": (
        visibility.public_live,
        lambda row: visibility.is_live(row) and not row["is_private"],
    ),
    "public": (visibility.public, lambda row: visibility.is_public(row, NOW)),
}


@pytest.fixture(scope="module")
def database():
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript((ROOT / "schema.sql").read_text())
    combinations = itertools.product(DELETED_AT, STATUSES, EXPIRES_AT, IS_PRIVATE)
    for n, (deleted_at, status, expires_at, is_private) in enumerate(combinations):
        db.execute(
            "INSERT INTO images (id, short_id, owner, filename, original_name, content_type,"
            " format, rand, created_at, updated_at, status, is_private, expires_at, deleted_at)"
            " VALUES (?, ?, 'owner', ?, 'a.png', 'image/png', 'png', ?, ?, ?, ?, ?, ?, ?)",
            (f"img{n}", f"short{n}", f"a{n}.png", n, PAST, PAST, status, is_private)
            + (expires_at, deleted_at),
        )
    yield db
    db.close()


def all_rows(database) -> list[dict]:
    return [dict(row) for row in database.execute("SELECT * FROM images")]


def selected_ids(database, where: str) -> set[str]:
    query = f"SELECT id FROM images i WHERE {where}"
    return {row["id"] for row in database.execute(query, [NOW] * where.count("?"))}


def test_the_rows_cover_every_combination(database):
    assert len(all_rows(database)) == len(DELETED_AT) * len(STATUSES) * len(EXPIRES_AT) * 2


@pytest.mark.parametrize("alias", ["", "i"])
@pytest.mark.parametrize("rule", RULES)
def test_sql_and_python_select_the_same_images(database, rule, alias):
    fragment, python_check = RULES[rule]
    expected = {row["id"] for row in all_rows(database) if python_check(row)}

    assert selected_ids(database, fragment(alias)) == expected
    assert 0 < len(expected) < len(all_rows(database))  # the rule does sort the rows


def test_an_alias_prefixes_every_column():
    assert visibility.visible("i") == (
        "i.deleted_at IS NULL AND i.status = 'ready' AND (i.expires_at IS NULL OR i.expires_at > ?)"
    )


def test_public_live_is_the_where_clause_of_the_random_indexes():
    # Term for term, so that SQLite can use images_random / images_random_any for the
    # random and public lookups.
    schema = (ROOT / "schema.sql").read_text()
    for index in ("images_random", "images_random_any"):
        where = re.search(rf"INDEX IF NOT EXISTS {index} ON [^;]*? WHERE ([^;]+);", schema)
        assert " ".join(where.group(1).split()) == visibility.public_live()
