"""SQL text and bound values, handled the way workerd's D1 binding handles them.

Used by d1.py: splitting a query into statements (and refusing empty ones), and
converting values between Python and SQLite as they would travel through JavaScript
(bind checks of `d1-api.ts`, numbers as JS numbers, BLOBs as arrays of bytes).
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache

from pixhaven.local.bindings.jsvalues import check_sendable


class D1Error(Exception):
    """A failed D1 call; `str(error)` starts with D1's error prefix."""


MAX_SAFE_INTEGER = 2**53 - 1
# Pyodide 0.28 hands a Python int to JavaScript as a Number only below this magnitude
# (Number.MAX_SAFE_INTEGER itself already becomes a BigInt), and D1 refuses a BigInt.
BIGINT_FROM = MAX_SAFE_INTEGER
NO_STATEMENTS = "D1_ERROR: No SQL statements detected."
NO_STATEMENT_IN_CODE = "D1_ERROR: SQL code did not contain a statement."
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
# Miniflare drops queries that are empty once comment lines *indented* by whitespace
# are removed; any other comment-only SQL reaches SQLite and is refused there.
_INDENTED_COMMENT_LINES = re.compile(r"^\s+--.*", re.MULTILINE)


# -- value conversion ------------------------------------------------------------------


def _js_typeof(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return "bigint"
    if callable(value):
        return "function"
    return "object"


def _js_string(value) -> str:
    """`String(value)` in JavaScript, for error messages."""
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else _js_string(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_sqlite(value):
    """Check and convert one bound value the way the SDK and workerd's `bind` do."""
    # The SDK refuses a tuple or bytearray before D1 sees it (TypeError, "cannot be sent
    # over RPC.").
    check_sendable(value)
    if value is None or isinstance(value, (str, float)):
        return value
    # A Python int reaches workerd as a JS number, which it binds as REAL (as Miniflare
    # shows: `typeof(?)` is 'real'); INTEGER-affinity columns still store an integer.
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int) and -BIGINT_FROM < value < BIGINT_FROM:
        return float(value)
    # A larger int is a BigInt, refused below with D1's own message: a JS number would
    # not hold it exactly.
    if isinstance(value, (bytes, memoryview)):
        return bytes(value)
    if hasattr(value, "to_bytes") and not isinstance(value, int):
        return bytes(value.to_bytes())  # an ArrayBuffer from R2 or fetch
    if isinstance(value, list) and all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in value
    ):
        return bytes(value)  # JS treats arrays of uint8 numbers as bytes
    raise D1Error(
        f"D1_TYPE_ERROR: Type '{_js_typeof(value)}' not supported for value '{_js_string(value)}'"
    )


def from_sqlite(value):
    """A column value as it reaches Python after a trip through JavaScript."""
    kind = type(value)
    if kind is str or value is None:  # most columns: checked first, as every row asks
        return value
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else float(value)
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        return float(value)  # a JS number cannot hold it exactly; Pyodide gives a float
    return value


def from_sqlite_row(row: tuple) -> list:
    """`[from_sqlite(v) for v in row]`, with the values from_sqlite returns unchanged
    (text, NULL, ints a JS number holds) tested inline: a call per value was most of the
    cost of converting a row, and every read converts one."""
    return [
        v
        if type(v) is str
        or v is None
        or (type(v) is int and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER)
        else from_sqlite(v)
        for v in row
    ]


# -- SQL text helpers --------------------------------------------------------------------


# The app sends the same few hundred SQL texts over and over: what is read from a text is
# kept (a statement's parse was ~15% of a one-row read), bounded for any other caller.
@lru_cache(maxsize=1024)
def dropped_by_d1(sql: str) -> bool:
    return not _INDENTED_COMMENT_LINES.sub("", sql).strip()


@lru_cache(maxsize=1024)
def split_statements(sql: str) -> tuple[str, ...]:
    """Split SQL into complete statements, leaving `;` inside strings/triggers alone.

    Like workerd, a statement that is empty or only comments (`SELECT 1;;`,
    `SELECT 1; -- note`) is an error; trailing whitespace is not.
    """
    pieces = sql.split(";")
    statements, pending = [], ""
    for piece in pieces[:-1]:  # every piece but the last was followed by a `;`
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    pending += pieces[-1]
    if pending.strip():
        statements.append(pending)  # no final `;`, or incomplete: SQLite will tell
    for statement in statements:
        if not _COMMENTS.sub("", statement).strip().rstrip(";").strip():
            raise D1Error(NO_STATEMENT_IN_CODE)
    return tuple(statements)
