"""Apply D1 migrations locally the way `wrangler d1 migrations apply` does: files in
`migrations/` in name order, each applied once, recorded in the `d1_migrations` table.

Statements go through the D1 binding API (one atomic `batch` per migration), not through
sqlite3 directly, so the local runtime exercises the same interface as production.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

TRACKING_TABLE = (
    "CREATE TABLE IF NOT EXISTS d1_migrations ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE,"
    " applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)"
)


def split_statements(sql: str) -> list[str]:
    """Split a script on `;`, ignoring semicolons in quotes and comments, and those inside
    a CREATE TRIGGER … BEGIN … END body (a statement ends at a `;` only once SQLite deems
    the text so far complete)."""
    statements, current = [], []
    i, quote = 0, None
    while i < len(sql):
        char = sql[i]
        if quote:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            current.append(char)
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end == -1 else end
            continue
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end == -1 else end + 2
            continue
        elif char == ";":
            if sqlite3.complete_statement("".join(current) + ";"):
                statements.append("".join(current).strip())
                current = []
            else:  # inside a trigger body: the `;` belongs to the statement
                current.append(char)
        else:
            current.append(char)
        i += 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]


async def apply_migrations(db: D1Database, migrations_dir: Path) -> list[str]:
    """Returns the names of the migrations applied now."""
    if not migrations_dir.is_dir():
        raise FileNotFoundError(f"migrations directory not found: {migrations_dir}")
    await db.prepare(TRACKING_TABLE).run()
    done = {
        row["name"] for row in (await db.prepare("SELECT name FROM d1_migrations").all())["results"]
    }
    applied = []
    for path in sorted(migrations_dir.glob("*.sql")):
        if path.name in done:
            continue
        statements = [db.prepare(s) for s in split_statements(path.read_text(encoding="utf-8"))]
        statements.append(db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(path.name))
        await db.batch(statements)
        applied.append(path.name)
    return applied
