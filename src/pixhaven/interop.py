"""Values at the binding boundary, in the shapes the Worker runtime really gives and takes.

On Cloudflare, binding calls cross into JavaScript through Pyodide and the Workers Python SDK,
and a few Python shapes do not survive the crossing (docs/BINDINGS.md, "Shapes at the
boundary"). Every call site goes through the helpers here instead of guessing:

- Binary data comes back in several shapes: `await obj.arrayBuffer()` is a `memoryview` on
  Workers, a stream chunk a `Uint8Array` proxy (`to_bytes()`), locally often plain `bytes`.
  `as_bytes(value)` takes any of them; `body_bytes(obj)` reads an R2 object's body.
- An option set to None is sent as JS `null`, which workerd refuses (`list(cursor=None)`:
  "Incorrect type for the 'cursor' field on 'ListOptions'"). `given(...)` keeps only the
  options that have a value: `await env.BUCKET.list(**given(prefix=p, cursor=cursor))`.
- `env.IMAGES.input()` and `info()` take a `ReadableStream`, not bytes. `byte_stream(data)`
  makes one: a JS `ReadableStream` where there is a JavaScript runtime to make it in (the
  Worker), else a `ByteStream`, the Python stream the local bindings use for every body.
  It picks by capability (is the `js` module there?), never by asking where it runs.

Nothing here imports `js` or `pyodide` at import time: both exist only inside Pyodide, and
`byte_stream` imports them when it is called.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pixhaven.bindings.js import JsBytes, ReadableStream
    from pixhaven.bindings.r2 import R2ObjectBody

STREAM_CHUNK_SIZE = 64 * 1024


def as_bytes(value: bytes | bytearray | memoryview | JsBytes) -> bytes:
    """The bytes of binary data a binding handed back: `bytes`; a `memoryview` (what
    `await obj.arrayBuffer()` is on Workers) or `bytearray`; a JS `ArrayBuffer`/`Uint8Array`
    proxy (a stream chunk on Workers), copied with `to_bytes()`."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    to_bytes = getattr(value, "to_bytes", None)
    if callable(to_bytes) and not isinstance(value, int):  # int.to_bytes is something else
        return bytes(to_bytes())
    raise TypeError(f"expected binary data from a binding, got {type(value).__name__}")


async def body_bytes(obj: R2ObjectBody) -> bytes:
    """An R2 object's whole body as bytes (it can be read once)."""
    return as_bytes(await obj.arrayBuffer())


async def byte_chunks(
    stream: ReadableStream, size: int = STREAM_CHUNK_SIZE
) -> AsyncIterator[bytes]:
    """A stream's bytes as Python `bytes` of at most `size` each. A large JS chunk is cut
    (`subarray`, no copy) before it is copied into Python, so a stream read through here
    never brings more than `size` bytes into the isolate's WASM memory at once."""
    async for chunk in stream:
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            view = memoryview(chunk)
            for start in range(0, len(view), size):
                yield bytes(view[start : start + size])
            continue
        length = getattr(chunk, "length", None)
        if not isinstance(length, int) or length <= size:
            yield as_bytes(chunk)
            continue
        for start in range(0, length, size):
            yield as_bytes(chunk.subarray(start, min(start + size, length)))


def given(**options: Any) -> dict[str, Any]:
    """The options that have a value, for `**` into a binding call. None means "not given"
    here; sent on, it would reach workerd as JS null, which its option structs refuse. One
    level only: inside `httpMetadata`, `onlyIf` and the like, leave a field out yourself."""
    return {name: value for name, value in options.items() if value is not None}


def byte_stream(data: bytes) -> ReadableStream:
    """`data` as a read-once `ReadableStream<Uint8Array>`, the input `env.IMAGES.input()` and
    `info()` take (workerd reads any other source as text). In Pyodide it is a JS stream over
    a copy of the bytes, so the binding reads it without calling back into Python; elsewhere
    a `ByteStream`, which is what the local bindings take and give as a stream."""
    return byte_source(data).stream()


class ByteSource(Protocol):
    """Bytes that give a new read-once stream of themselves each time `stream()` is asked."""

    def stream(self) -> ReadableStream: ...


def byte_source(data: bytes) -> ByteSource:
    """`data` held once for several streams of it, as when one upload feeds the placeholder
    and two conversions at the same time: in Pyodide a JS `Blob` (one copy of the bytes in
    JavaScript memory; each `stream()` reads it, a `ReadableStream<Uint8Array>` of known
    length), elsewhere `ByteStream`s over the same bytes object."""
    try:
        # The JavaScript global scope and Pyodide's converters: only inside Pyodide.
        from js import Blob  # type: ignore[import-not-found]
        from pyodide.ffi import to_js  # type: ignore[import-not-found]
    except ImportError:
        return _LocalByteSource(data)
    # to_js copies the bytes into a Uint8Array (it converts buffers, and lists to Arrays).
    blob: ByteSource = Blob.new(to_js([data]))
    return blob


class _LocalByteSource:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self) -> ByteStream:
        return ByteStream(self._data)


class ByteStream:
    """A read-once byte stream in Python: what `byte_stream` gives without a JS runtime, and
    the stream the local bindings give and take (an R2 object's `body`, an Images result's
    `image()`, a Workers AI answer; `pixhaven.local.bindings.r2_objects.BodyStream`).

    * `async for chunk in stream` yields the bytes in chunks, as a JS stream can be read;
    * `await stream.read(size=-1)` returns up to `size` bytes (everything left when
      `size < 0`), `b""` at the end (local only: a JS stream has no `read()`);
    * like a `ReadableStream` it can be read once: `disturbed` turns true on the first read.
    """

    def __init__(self, data: bytes):
        self._data = memoryview(bytes(data))
        self._position = 0
        self.disturbed = False  # the ReadableStream term for "reading has started"

    async def read(self, size: int = -1) -> bytes:
        self.disturbed = True
        end = len(self._data) if size is None or size < 0 else self._position + size
        chunk = self._data[self._position : end]
        self._position += len(chunk)
        return bytes(chunk)

    def __aiter__(self) -> ByteStream:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.read(STREAM_CHUNK_SIZE)
        if not chunk:
            raise StopAsyncIteration
        return chunk

    def __repr__(self) -> str:
        return f"{type(self).__name__}(remaining={len(self._data) - self._position})"


class StreamWriter(Protocol):
    """The writing end of `fixed_length_stream`: chunks are `bytes` or chunks read from
    another stream (passed on as they are: on Workers they stay in JavaScript)."""

    async def write(self, chunk: Any) -> None: ...

    async def close(self) -> None: ...

    async def abort(self, reason: str) -> None: ...


def fixed_length_stream(length: int) -> tuple[ReadableStream, StreamWriter]:
    """A stream of exactly `length` bytes, written piece by piece: the readable end is a
    stream of *known length*, which is what `env.BUCKET.put` takes (workerd refuses a
    stream whose length it cannot know). In Pyodide it is workerd's `FixedLengthStream`;
    elsewhere a `FixedLengthByteStream`, with the same refusals. Read the readable end
    while writing (`asyncio.gather(put(...), pump())`): a write waits for room."""
    try:
        from js import FixedLengthStream
    except ImportError:
        local = FixedLengthByteStream(length)
        return local, local
    stream = FixedLengthStream.new(length)
    return stream.readable, _JsStreamWriter(stream.writable.getWriter())


class _JsStreamWriter:
    def __init__(self, writer: Any):
        self._writer = writer

    async def write(self, chunk: Any) -> None:
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            from pyodide.ffi import to_js

            chunk = to_js(bytes(chunk))  # a Uint8Array copy
        await self._writer.write(chunk)

    async def close(self) -> None:
        await self._writer.close()

    async def abort(self, reason: str) -> None:
        await self._writer.abort(reason)


class FixedLengthByteStream:
    """workerd's `FixedLengthStream` in Python: writes go through a small queue to the
    reader (`async for chunk in stream`); writing past `length` is a TypeError, as is
    closing short of it, and the reader then fails too, so a put of it stores nothing."""

    def __init__(self, length: int, queue_size: int = 4):
        import asyncio

        self.length = length
        self._written = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self.disturbed = False

    async def write(self, chunk: Any) -> None:
        data = as_bytes(chunk)
        self._written += len(data)
        if self._written > self.length:
            error = TypeError("Attempt to write too many bytes through a FixedLengthStream.")
            await self._queue.put(error)
            raise error
        await self._queue.put(data)

    async def close(self) -> None:
        if self._written != self.length:
            error = TypeError("FixedLengthStream did not see all expected bytes before close().")
            await self._queue.put(error)
            raise error
        await self._queue.put(None)

    async def abort(self, reason: str) -> None:
        await self._queue.put(RuntimeError(f"stream aborted: {reason}"))

    def __aiter__(self) -> FixedLengthByteStream:
        return self

    async def __anext__(self) -> bytes:
        self.disturbed = True
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item
