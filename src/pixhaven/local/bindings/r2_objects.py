"""The objects the local R2 binding returns: `R2Object`, `R2ObjectBody`, `BodyStream`.

Attribute names are Cloudflare's (`key, version, size, etag, httpEtag, uploaded,
httpMetadata, customMetadata, checksums, storageClass, range`) and values have the
types the Workers Python SDK gives app code: dicts are `JsDict`, `uploaded` and
`httpMetadata["cacheExpiry"]` are naive UTC datetimes, and an ArrayBuffer
(`arrayBuffer()`, `checksums.md5`) is a `memoryview`, as the SDK converts it (Pyodide's
`to_py()`), so there is no `.to_bytes()` on it.

`BodyStream` stands in for the JS `ReadableStream` in `R2ObjectBody.body`; it is
`pixhaven.interop.ByteStream`, the stream app code makes from bytes where there is no JS:

* `await stream.read(size=-1)` returns up to `size` bytes (everything left when
  `size < 0`), `b""` at the end;
* `async for chunk in stream` yields the remaining bytes in chunks;
* like a ReadableStream it can be consumed once: `R2ObjectBody.bodyUsed` turns true,
  and reading the body again (`arrayBuffer()`, `text()`, ...) raises `TypeError`.

A body longer than r2_storage.WHOLE_BODY_LIMIT is a `FileBodyStream` instead: the same
interface, reading the object's file chunk by chunk as it is consumed.

`LocalR2.put` (and the local Images emulation) accept a `BodyStream`, or anything
else with an async `read()` or async iteration over bytes, as the value.
"""

from __future__ import annotations

import json

from pixhaven.interop import STREAM_CHUNK_SIZE, ByteStream
from pixhaven.local.bindings.jsvalues import JsDict, js_date
from pixhaven.local.bindings.r2_storage import FileSpan

# One stream type for every local body: the app's `byte_stream` fallback is the same class.
BodyStream = ByteStream
HTTP_METADATA_FIELDS = (
    "contentType",
    "contentLanguage",
    "contentDisposition",
    "contentEncoding",
    "cacheControl",
    "cacheExpiry",
)
_HEADER_FOR_FIELD = {
    "contentType": "content-type",
    "contentLanguage": "content-language",
    "contentDisposition": "content-disposition",
    "contentEncoding": "content-encoding",
    "cacheControl": "cache-control",
}


class R2Error(Exception):
    """A failed R2 call, with workerd's wording and R2's error code."""


class R2Checksums:
    """Like workerd's R2Checksums through the SDK: digests as `memoryview`s (the SDK's
    conversion of an ArrayBuffer), hex via `toJSON()`."""

    def __init__(self, hex_digests: dict[str, str]):
        self._hex = dict(hex_digests)

    def __getattr__(self, name):
        if name in ("md5", "sha1", "sha256", "sha384", "sha512"):
            digest = self._hex.get(name)
            return None if digest is None else memoryview(bytes.fromhex(digest))
        raise AttributeError(name)

    def toJSON(self) -> JsDict:
        return JsDict(self._hex)

    def __repr__(self) -> str:
        return f"R2Checksums({self._hex})"


class R2Object:
    """Metadata of a stored object (what `head`, `put` and `list` return)."""

    def __init__(self, record: dict, range: dict | None = None):
        self.key: str = record["key"]
        self.version: str = record["version"]
        self.size: int = record["size"]
        self.etag: str = record["etag"]
        self.httpEtag: str = f'"{record["etag"]}"'
        self.uploaded = js_date(record["uploaded"])
        self.httpMetadata = _http_metadata_from_record(record.get("httpMetadata") or {})
        self.customMetadata = JsDict(record.get("customMetadata") or {})
        self.checksums = R2Checksums(record.get("checksums") or {"md5": record["etag"]})
        self.storageClass: str = record.get("storageClass", "Standard")
        self.range = JsDict(range, suffix=None) if range is not None else None
        self.ssecKeyMd5 = None  # no SSE-C locally

    def writeHttpMetadata(self, headers) -> None:
        """Copy httpMetadata into a mutable mapping of response headers."""
        for field, header in _HEADER_FOR_FIELD.items():
            if self.httpMetadata.get(field) is not None:
                headers[header] = self.httpMetadata[field]
        expiry = self.httpMetadata.get("cacheExpiry")
        if expiry is not None:
            headers["expires"] = expiry.strftime("%a, %d %b %Y %H:%M:%S GMT")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, size={self.size}, etag={self.etag!r})"


class FileBodyStream:
    """A large body, read from its object file as it is consumed: `BodyStream`'s interface.

    Each chunk is one read in the event loop's thread: from the page cache that takes
    microseconds, less than handing it to a worker thread would. The file is closed at
    the end of the body, or when the stream is dropped unread."""

    def __init__(self, span: FileSpan):
        self._span = span
        self._position = 0
        self.disturbed = False

    async def read(self, size: int = -1) -> bytes:
        self.disturbed = True
        handle = self._span.handle
        remaining = self._span.length - self._position
        if handle.closed or remaining <= 0:
            self.close()
            return b""
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        handle.seek(self._span.offset + self._position)
        chunk = handle.read(wanted)
        self._position += len(chunk)
        if not chunk or self._position >= self._span.length:
            self.close()
        return chunk

    def close(self) -> None:
        self._span.handle.close()

    def __del__(self) -> None:
        self.close()

    def __aiter__(self) -> FileBodyStream:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.read(STREAM_CHUNK_SIZE)
        if not chunk:
            raise StopAsyncIteration
        return chunk

    def __repr__(self) -> str:
        return f"{type(self).__name__}(remaining={self._span.length - self._position})"


class R2ObjectBody(R2Object):
    """An object with its body (what `get` returns when the object exists)."""

    def __init__(self, record: dict, data: bytes | FileSpan, range: dict):
        super().__init__(record, range)
        self.body: BodyStream | FileBodyStream = (
            FileBodyStream(data) if isinstance(data, FileSpan) else BodyStream(data)
        )

    @property
    def bodyUsed(self) -> bool:
        return self.body.disturbed

    async def _consume(self) -> bytes:
        if self.body.disturbed:
            raise TypeError(
                "Body has already been used. It can only be used once. "
                "Use tee() first if you need to read it twice."
            )
        return await self.body.read()

    async def arrayBuffer(self) -> memoryview:
        # The SDK converts the JS ArrayBuffer with Pyodide's to_py(): a memoryview.
        return memoryview(await self._consume())

    async def bytes(self) -> bytes:
        return await self._consume()

    async def text(self) -> str:
        return (await self._consume()).decode("utf-8", errors="replace")

    async def json(self):
        return _to_js_values(json.loads(await self.text()))


# workerd always returns all six fields, None where unset.
_UNSET_HTTP_METADATA = dict.fromkeys(HTTP_METADATA_FIELDS)


def _http_metadata_from_record(stored: dict) -> JsDict:
    metadata = JsDict(_UNSET_HTTP_METADATA)
    for field, value in stored.items():
        if value is not None:
            metadata[field] = js_date(value) if field == "cacheExpiry" else value
    return metadata


def _to_js_values(value):
    """JSON parsed in JS reaches Python with objects as JsDict, like the SDK does it."""
    if isinstance(value, dict):
        return JsDict({k: _to_js_values(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_to_js_values(v) for v in value]
    return value
