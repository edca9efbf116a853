"""The D1 binding (`env.DB`), as the Workers Python SDK exposes it (docs/BINDINGS.md, "D1").

Types only: import under `if TYPE_CHECKING:`. `pixhaven.local.bindings.d1.LocalD1`
satisfies `D1Database`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, TypeAlias, TypedDict, overload

D1Value: TypeAlias = int | float | str | bytes | None
"""What `bind` takes: None is NULL, a bool is an int (stored as 1/0), bytes are a BLOB.
D1 binds every number as REAL; INTEGER columns still store integers. An int of magnitude
2**53 - 1 or more reaches D1 as a BigInt, which it refuses (D1_TYPE_ERROR); a bytearray or
tuple the SDK will not send at all (TypeError)."""

D1Row: TypeAlias = dict[str, Any]
"""One row (a `JsDict`): column name → None, int, float, str, or a BLOB as a list of ints.
A REAL holding a whole number comes back as an int."""


class D1Meta(TypedDict):
    """A result's `meta`. D1 sends more keys (timings, region); these are common to D1,
    Miniflare and the local emulation."""

    served_by: str
    duration: float
    changes: int
    last_row_id: int
    changed_db: bool
    size_after: int
    rows_read: int
    rows_written: int


class D1Result(TypedDict):
    """What `all()`, `run()` and each entry of `batch()` answer."""

    results: list[D1Row]
    success: bool
    meta: D1Meta


class D1ExecResult(TypedDict):
    """What `exec()` answers."""

    count: int
    duration: float


class D1PreparedStatement(Protocol):
    """`db.prepare(sql)`; `bind` returns a new statement with the values bound."""

    def bind(self, *values: D1Value) -> D1PreparedStatement: ...

    def all(self) -> Awaitable[D1Result]: ...

    def run(self) -> Awaitable[D1Result]: ...

    @overload
    def first(self) -> Awaitable[D1Row | None]:
        """The first row, or None when there is none."""

    @overload
    def first(self, colName: str, /) -> Awaitable[Any]:
        """That column of the first row, or None when there is no row; an unknown column is
        an error."""

    def raw(self, *, columnNames: bool = ...) -> Awaitable[list[list[Any]]]:
        """Rows as lists; with `columnNames=True` the column names come first."""


class D1Database(Protocol):
    """A D1 database. Errors raise an exception whose text contains `D1_ERROR` (or
    `D1_TYPE_ERROR`, `D1_COLUMN_NOTFOUND`, `D1_EXEC_ERROR`)."""

    def prepare(self, query: str, /) -> D1PreparedStatement: ...

    def batch(self, statements: Sequence[D1PreparedStatement], /) -> Awaitable[list[D1Result]]:
        """Run the statements in one transaction: one failure rolls back all."""

    def exec(self, query: str, /) -> Awaitable[D1ExecResult]:
        """Run `;`-separated statements without bindings, one per line."""
