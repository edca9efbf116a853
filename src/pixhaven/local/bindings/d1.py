"""Local emulation of a Cloudflare D1 binding on one SQLite file.

`LocalD1(path)` behaves like `env.DB` as the Workers Python SDK exposes it
(docs/BINDINGS.md); the semantics follow workerd's `d1-api.ts` and Miniflare's D1
object, which is what `wrangler dev` runs:

* `prepare(sql).bind(*values)`: values are checked at `bind` time like workerd does:
  `None`, `int`, `float`, `str`, `bool` (as 1/0), `bytes`, `memoryview` and lists of
  ints 0..255 (all stored as BLOB). Anything else, and ints of magnitude 2**53 - 1 or
  more (Pyodide 0.28 turns those into a JS BigInt), raise `D1_TYPE_ERROR: Type 'bigint'
  not supported for value '…'`; a tuple or bytearray is the SDK's `TypeError` ("…
  cannot be sent over RPC."). Numbers are bound as
  REAL, as workerd binds every JS number (`typeof(?)` is 'real'; INTEGER-affinity
  columns still store integers, but `? / 2` with 5 gives 2.5).
* A prepare() may hold several statements: all run, the values bind to the last one
  and its rows are returned. Empty or comment-only statements are errors.
* Values come back as JavaScript numbers would reach Python: BLOBs as lists of ints,
  and a REAL that holds a whole number (2.0) as an `int`, because a JS number loses
  that distinction and Pyodide converts whole numbers to `int`.
* Every call runs in its own transaction, `batch` runs all its statements in one and
  rolls everything back on the first failure. SQL `BEGIN`/`SAVEPOINT`/`ATTACH` are
  refused, as D1 refuses them.
* More than 100 bound parameters is an error (D1's limit), enforced by SQLite's own
  `SQLITE_LIMIT_VARIABLE_NUMBER`.
* `exec(sql)` splits on newlines and runs each line as one query, exactly like
  workerd; use `execute_script` (local only, like `wrangler d1 execute --file`) to
  apply a multi-line schema file.
* Errors are `D1Error`; the message has D1's prefix (`D1_ERROR: ...`, or
  `D1_TYPE_ERROR`, `D1_COLUMN_NOTFOUND`, `D1_EXEC_ERROR` where workerd uses those).
  On Workers the same condition surfaces as a `JsException` whose text *contains*
  that message, so app code should test `"D1_ERROR" in str(error)`.
* `meta.rows_read` / `meta.rows_written` are approximations (rows returned / rows
  changed): Python's sqlite3 does not expose SQLite's scan counters.

Statement splitting and value conversion live in d1_sql.py.

The connection is shared by all callers of one `LocalD1` and guarded by a lock, so
concurrent requests of one asyncio process (and threads) are serialised the way a
D1 database serialises them. Queries run inline: a local SQLite query takes far less
time than a hop to a worker thread would.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pixhaven.local.bindings.d1_sql import (
    NO_STATEMENT_IN_CODE,
    NO_STATEMENTS,
    D1Error,
    dropped_by_d1,
    from_sqlite_row,
    split_statements,
    to_sqlite,
)
from pixhaven.local.bindings.jsvalues import JsDict

if TYPE_CHECKING:
    import os

    from pixhaven.bindings.d1 import D1ExecResult, D1Result

__all__ = ["LocalD1", "D1PreparedStatement", "D1Error"]

MAX_BOUND_PARAMETERS = 100
SERVED_BY = "pixhaven-local.db"

# workerd's wording, which D1 and Miniflare pass on.
_TRANSACTION_REFUSED = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or "
    "SAVEPOINT statements. The JavaScript API is safer because it will automatically "
    "roll back on exceptions, and because it interacts correctly with Durable Objects' "
    "automatic atomic write coalescing."
)
# Marks the connection's own transaction control statements; the text also keeps them
# apart from identical app SQL in sqlite3's statement cache (the authorizer only runs
# when a statement is compiled).
_INTERNAL = " /* pixhaven-local-d1 */"
_DATA_VERSION = "PRAGMA data_version" + _INTERNAL

# What a statement's execution returns (LocalD1._execute): a whole D1Result, for all()
# and run(); (columns, rows), for raw(); the first row or None, for first().
_RESULT, _ROWS, _FIRST = "result", "rows", "first"


class D1PreparedStatement:
    """A statement with its bound values; `bind` returns a new statement."""

    def __init__(self, database: LocalD1, statement: str, params: tuple = ()):
        self._database = database
        self.statement = statement
        self.params = list(params)

    def bind(self, *values) -> D1PreparedStatement:
        # Text, NULL and floats pass to_sqlite unchanged and cannot fail its checks: only
        # the other values pay its call (most bound values of the app are text).
        return D1PreparedStatement(
            self._database,
            self.statement,
            tuple(
                v if type(v) is str or v is None or type(v) is float else to_sqlite(v)
                for v in values
            ),
        )

    async def all(self) -> D1Result:
        return self._database._run_in_transaction([self])[0]

    async def run(self) -> D1Result:
        return self._database._run_in_transaction([self])[0]

    async def first(self, colName: str | None = None):
        row = self._database._run_in_transaction([self], shape=_FIRST)[0]
        if row is None:
            return None
        if colName is None:
            return row
        if colName not in row:
            raise D1Error(f"D1_COLUMN_NOTFOUND: Column not found ({colName})")
        return row[colName]

    async def raw(self, options: dict | None = None, *, columnNames: bool = False):
        # The SDK passes keyword arguments as one trailing options object, so both
        # `raw(columnNames=True)` and `raw({"columnNames": True})` reach workerd alike.
        if options and options.get("columnNames"):
            columnNames = True
        columns, rows = self._database._run_in_transaction([self], shape=_ROWS)[0]
        return ([list(columns)] if columnNames else []) + rows


class LocalD1:
    """A D1 database kept in the SQLite file at `path`."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per
        # D1 call, instead of letting sqlite3 open transactions implicitly.
        self._connection = sqlite3.connect(
            str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.RLock()
        self._internal_statement = False
        self._refusal: str | None = None  # why the authorizer refused the last statement
        # The counters as of `_known_version` of PRAGMA data_version (_counters_after_read).
        self._known_counters: tuple[int, int, int] | None = None
        self._known_version = -1
        connection = self._connection
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")  # D1 enforces foreign keys
        connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MAX_BOUND_PARAMETERS)
        connection.set_authorizer(self._authorize)

    # -- the binding API -------------------------------------------------------------

    def prepare(self, query: str) -> D1PreparedStatement:
        return D1PreparedStatement(self, query)

    async def batch(self, statements) -> list[D1Result]:
        if isinstance(statements, tuple):  # the SDK will not send one (python_to_rpc)
            raise TypeError(f"{type(statements)} cannot be sent over RPC.")
        statements = list(statements)
        if not statements:
            raise D1Error(NO_STATEMENTS)
        for statement in statements:
            if not isinstance(statement, D1PreparedStatement):
                raise D1Error("D1_ERROR: batch() expects prepared statements")
        return self._run_in_transaction(statements)

    async def exec(self, query: str) -> D1ExecResult:
        # workerd sends each line of the query as its own statement (all in one
        # transaction); a statement spanning several lines fails there, so here too.
        lines = query.strip().split("\n")
        numbered = [(i, line) for i, line in enumerate(lines) if not dropped_by_d1(line)]
        if not numbered:
            raise D1Error(NO_STATEMENTS)
        durations = []
        with self._lock:
            self._begin()
            try:
                for number, line in numbered:
                    start = time.perf_counter()
                    try:
                        for sql in split_statements(line) or [line]:
                            self._connection.execute(sql).fetchall()
                    except (sqlite3.Error, D1Error) as error:
                        if isinstance(error, D1Error):
                            message = str(error).removeprefix("D1_ERROR: ")
                        else:
                            message = self._error_message(error)
                        raise D1Error(
                            f"D1_EXEC_ERROR: Error in line {number + 1}: {line}: {message}"
                        ) from error
                    durations.append((time.perf_counter() - start) * 1000)
                self._commit()
            except BaseException:
                self._rollback()
                raise
        # A JsDict is what the SDK makes of the JS object; D1ExecResult names its keys.
        return cast("D1ExecResult", JsDict(count=len(numbered), duration=sum(durations)))

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    # -- local-only helpers ------------------------------------------------------------

    def execute_script(self, sql: str) -> None:
        """Apply a multi-statement SQL file in one transaction (schema, migrations).

        The local counterpart of `wrangler d1 execute --file`, which splits a file
        into statements itself; `exec` keeps workerd's one-statement-per-line rule.
        """
        with self._lock:
            self._begin()
            try:
                for statement in split_statements(sql):
                    self._connection.execute(statement).fetchall()
                self._commit()
            except sqlite3.Error as error:
                self._rollback()
                raise D1Error(f"D1_ERROR: {self._error_message(error)}") from error
            except BaseException:
                self._rollback()
                raise

    # -- execution ---------------------------------------------------------------------

    def _run_in_transaction(self, statements, shape: str = _RESULT) -> list:
        if len(statements) == 1 and _is_one_select(statements[0].statement):
            # A lone SELECT is atomic by itself (SQLite's autocommit, reading one WAL
            # snapshot) and changes nothing: no BEGIN IMMEDIATE, which would take the write
            # lock and queue readers of other `pixhaven dev --workers` behind every writer,
            # and no counters read before it. Most requests make only these.
            with self._lock:
                return [self._execute(statements[0], shape, read_only=True)]
        with self._lock:
            self._begin()
            try:
                results = [self._execute(s, shape) for s in statements]
                self._commit()
            except BaseException:
                self._rollback()
                raise
        return results

    def _execute(self, statement: D1PreparedStatement, shape: str, read_only: bool = False):
        """Run one prepared statement; return what `shape` asks for: a D1Result
        (`_RESULT`), (columns, rows) for raw() (`_ROWS`), or the first row or None for
        first() (`_FIRST`)."""
        if dropped_by_d1(statement.statement):
            raise D1Error(NO_STATEMENTS)
        sqls = split_statements(statement.statement)
        if not sqls:
            raise D1Error(NO_STATEMENT_IN_CODE)
        # Only a D1Result carries `meta`: first() and raw() return rows alone, so they
        # skip the clock and the counters (a query of their own, ~9 µs of a ~50 µs read).
        wants_meta = shape == _RESULT
        start = time.perf_counter() if wants_meta else 0.0
        before = self._counters() if wants_meta and not read_only else None
        try:
            # Several statements in one prepare: workerd runs them all, binds the
            # values to the last one and returns that one's rows.
            for sql in sqls[:-1]:
                try:
                    self._connection.execute(sql).fetchall()
                except sqlite3.ProgrammingError as error:
                    raise D1Error(
                        "D1_ERROR: When executing multiple SQL statements in a single "
                        "call, only the last statement can have parameters."
                    ) from error
            cursor = self._connection.execute(sqls[-1], statement.params)
            rows = cursor.fetchall()
        except sqlite3.ProgrammingError as error:
            # Raised by Python itself, not SQLite: the number of bindings is wrong.
            raise D1Error("D1_ERROR: Wrong number of parameter bindings for SQL query.") from error
        except sqlite3.Error as error:
            raise D1Error(f"D1_ERROR: {self._error_message(error)}") from error
        columns = [d[0] for d in cursor.description] if cursor.description else []
        if shape == _FIRST:
            return JsDict(zip(columns, from_sqlite_row(rows[0]))) if rows else None
        rows = [from_sqlite_row(row) for row in rows]
        if shape == _ROWS:
            return columns, rows
        after = self._counters_after_read() if read_only else self._counters()
        if before is None:
            before = after
        changes = after[1] - before[1]
        meta = JsDict(
            served_by=SERVED_BY,
            duration=(time.perf_counter() - start) * 1000,
            changes=changes,
            last_row_id=after[0],
            changed_db=changes != 0 or after[0] != before[0] or after[2] != before[2],
            size_after=after[2],
            rows_read=len(rows),
            rows_written=changes,
        )
        return JsDict(
            success=True,
            meta=meta,
            results=[JsDict(zip(columns, row)) for row in rows],
        )

    def _counters(self) -> tuple[int, int, int]:
        """(last_insert_rowid, total_changes, database size in bytes)."""
        row = self._connection.execute(
            "SELECT last_insert_rowid(), total_changes(),"
            " (SELECT page_count FROM pragma_page_count())"
            " * (SELECT page_size FROM pragma_page_size())" + _INTERNAL
        ).fetchone()
        return row[0], row[1], row[2]

    def _counters_after_read(self) -> tuple[int, int, int]:
        """`_counters()` for a lone SELECT, mostly without re-reading them.

        last_insert_rowid() and total_changes() belong to this connection: only its own
        statements move them, and every one that can runs inside `_begin()`, which
        forgets what is remembered here. The size can also grow because another process
        sharing the file (`pixhaven dev --workers`) committed; `PRAGMA data_version`
        changes exactly then (never for this connection's own commits) and costs about
        half the counters' query, whose pragma functions also call the authorizer on
        every run.
        """
        version = self._connection.execute(_DATA_VERSION).fetchone()[0]
        if self._known_counters is None or version != self._known_version:
            # Read after the version: a commit in between makes the next version differ,
            # so what is kept here is never older than the version it is kept with.
            self._known_counters = self._counters()
            self._known_version = version
        return self._known_counters

    def _control(self, sql: str) -> None:
        self._internal_statement = True
        try:
            self._connection.execute(sql + _INTERNAL)
        finally:
            self._internal_statement = False

    def _begin(self) -> None:
        # Whatever follows may write: the counters remembered for lone SELECTs are stale.
        self._known_counters = None
        # IMMEDIATE takes the write lock up front, so two processes sharing the file
        # wait for each other (busy timeout) instead of failing on lock upgrade.
        self._control("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._control("COMMIT")

    def _rollback(self) -> None:
        if self._connection.in_transaction:
            self._control("ROLLBACK")

    def _authorize(self, action, arg1, arg2, database, trigger):
        # Runs when SQLite compiles a statement. D1 owns transactions and the set of
        # databases, so app SQL may not open transactions or attach files.
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            if self._internal_statement:
                return sqlite3.SQLITE_OK
            self._refusal = _TRANSACTION_REFUSED
            return sqlite3.SQLITE_DENY
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            self._refusal = None  # plain "not authorized", as workerd says
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def _error_message(self, error: sqlite3.Error) -> str:
        """SQLite's message with its result code names, worded as workerd words it."""
        message = str(error)
        if message == "not authorized" and self._refusal:
            return self._refusal
        name = getattr(error, "sqlite_errorname", None) or "SQLITE_ERROR"
        primary = "_".join(name.split("_")[:2])  # SQLITE_CONSTRAINT_UNIQUE -> ..._CONSTRAINT
        if name != primary:
            return f"{message}: {primary} (extended: {name})"
        return f"{message}: {primary}"


@lru_cache(maxsize=1024)  # asked of every call, like split_statements (d1_sql.py)
def _is_one_select(statement: str) -> bool:
    """One statement that starts with SELECT: it can only read (a write needs INSERT,
    UPDATE, DELETE, REPLACE or a WITH before them; anything else takes the general path)."""
    sqls = split_statements(statement)
    return len(sqls) == 1 and sqls[0].lstrip()[:6].upper() == "SELECT"
