"""JavaScript values as app code sees them through Pyodide and the Workers Python SDK.

Types only: import under `if TYPE_CHECKING:` (see the package docstring).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, TypeAlias


class JsBytes(Protocol):
    """A JS `ArrayBuffer` or `Uint8Array` as a Pyodide proxy, such as a chunk read from a
    stream: `to_bytes()` copies it into Python. What a binding *returns* as an ArrayBuffer
    the SDK converts to a `memoryview` instead; `pixhaven.interop.as_bytes` takes both."""

    def to_bytes(self) -> bytes: ...

    # A Uint8Array's (a stream chunk's) length and a view of part of it, without a copy.
    length: int

    def subarray(self, start: int, end: int) -> JsBytes: ...


ByteChunk: TypeAlias = bytes | JsBytes
"""One chunk read from a stream: a `Uint8Array` proxy on Workers, `bytes` locally."""


class ReadableStream(Protocol):
    """A JS `ReadableStream` of bytes: an R2 object's `body`, an Images result's `image()`,
    a Workers AI answer. It can be read once, with `async for chunk in stream`, or handed
    unread to another binding (`env.BUCKET.put`, `env.IMAGES.input`), which on Workers keeps
    the bytes out of Python; `pixhaven.interop.byte_stream(data)` makes one from bytes. (The
    local `BodyStream`, `pixhaven.interop.ByteStream`, also has an async `read()`; a JS
    stream does not.)"""

    def __aiter__(self) -> AsyncIterator[ByteChunk]: ...


JsObject: TypeAlias = dict[str, Any]
"""A plain JS object passed to or returned by a binding: the SDK converts a Python dict to
one and one back to a `JsDict` (a dict that also allows attribute access)."""
