"""Local emulation of a Cloudflare R2 binding on a folder.

`LocalR2(root_dir)` behaves like `env.BUCKET` as the Workers Python SDK exposes it
(docs/BINDINGS.md), following the semantics of workerd and Miniflare's R2 simulator:

* `await put(key, value, httpMetadata=, customMetadata=, onlyIf=, md5=, sha256=...)`
  → `R2Object`, or `None` when `onlyIf` fails. `value`: `bytes`-like, `str`, `None`,
  an array buffer (`.to_bytes()`), or a stream (`obj.body`, anything with an async
  `read()` or async iteration); see r2_objects.py for the stream interface.
* `await get(key, range=, onlyIf=)` → `R2ObjectBody`, `None` if missing, or an
  `R2Object` without body when `onlyIf` fails. `range` is `{"offset", "length"}` or
  `{"suffix"}`; `obj.range` tells which bytes the body holds.
* `await head(key)`, `await delete(key_or_keys)`,
  `await list(prefix=, limit=, cursor=, delimiter=, startAfter=, include=)`.
  As in Miniflare, a listing that includes metadata returns at most 100 objects, and a
  delimited prefix counts towards `limit` like an object. Cursors are opaque strings.
* Keys are up to 1024 bytes of UTF-8 (the empty key is valid, as in Miniflare);
  custom metadata is limited to 2048 bytes.
* Errors are `R2Error` with workerd-like messages (`get: ... (10039)`); argument
  errors workerd reports as TypeError are TypeError here too.
* An option set to None is JS null, as the SDK sends it, and is refused where workerd
  refuses null (`list(cursor=None)`: "Incorrect type for the 'cursor' field on
  'ListOptions': ..."; see `r2_options.refuse_nulls`); a tuple or bytearray anywhere in
  the arguments is refused as the SDK refuses it ("... cannot be sent over RPC.").

Storage (one file per object, atomic replace, key → file-name escaping) lives in
r2_storage.py, option parsing (metadata, ranges, onlyIf, cursors) in r2_options.py.
A conditional put is atomic against other writers of the same `LocalR2` instance;
across processes sharing one folder it is check-then-write.

Reads (`head`, `get`) run in the event loop's thread: they open one file and read its
metadata, and the body when it is small (r2_storage.WHOLE_BODY_LIMIT); a larger body is
read chunk by chunk as it is consumed. From the page cache that is faster than a hop to a
worker thread, which is what serving an object is made of. Writes (fsync'ed), deletes
and listings (a directory scan) run in a worker thread.

Beyond the R2 API, for a web server in front of the local server (README, "Behind nginx
or Caddy"): `await plain_file(key)` gives the object's metadata and the path of a file
holding exactly its bytes, for an `X-Accel-Redirect` or `X-Sendfile` answer.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pixhaven.local.bindings.jsvalues import JsDict, check_sendable
from pixhaven.local.bindings.r2_objects import BodyStream, R2Error, R2Object, R2ObjectBody
from pixhaven.local.bindings.r2_options import (
    checksums,
    condition_holds,
    decode_cursor,
    encode_cursor,
    js_number,
    refuse_nulls,
    resolve_range,
    stored_custom_metadata,
    stored_http_metadata,
)
from pixhaven.local.bindings.r2_storage import ObjectFiles

if TYPE_CHECKING:
    import os

    from pixhaven.bindings.r2 import R2Objects

__all__ = ["LocalR2", "R2Error", "R2Object", "R2ObjectBody", "BodyStream"]

MAX_KEY_BYTES = 1024
MAX_LIST_LIMIT = 1000
MAX_LIST_LIMIT_WITH_METADATA = 100


class LocalR2:
    """An R2 bucket stored in the folder `root_dir`."""

    def __init__(self, root_dir: str | os.PathLike[str]):
        self.root = Path(root_dir)
        self._files = ObjectFiles(self.root)
        self._write_lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------

    async def head(self, key: str) -> R2Object | None:
        _check_key("head", key)
        found = self._files.read(key)
        if found is None:
            return None
        metadata, _ = found
        return R2Object(metadata, {"offset": 0, "length": metadata["size"]})

    async def plain_file(self, key: str) -> tuple[R2Object, Path] | None:
        """The object's metadata and a file holding exactly its bytes, or None if absent.
        The file is made on the first call for each version, in a worker thread (it copies
        the body); later calls find it in the event loop's thread."""
        _check_key("plain_file", key)
        found = self._files.plain_copy(key, make=False)
        if found is not None and found[1] is None:
            found = await asyncio.to_thread(self._files.plain_copy, key)
        if found is None:
            return None
        metadata, path = found
        if path is None:  # deleted between the two looks
            return None
        return R2Object(metadata, {"offset": 0, "length": metadata["size"]}), path

    async def get(self, key: str, options: dict | None = None, **kwargs):
        options = _merge_options(options, kwargs)
        refuse_nulls("Conditional", options.get("onlyIf"))
        _check_key("get", key)
        condition = options.get("onlyIf")
        requested = options.get("range")
        outcome = {}

        def choose_range(metadata):
            if condition is not None and not condition_holds(condition, metadata):
                outcome["precondition_failed"] = True
                return None
            return resolve_range(requested, metadata["size"])

        found = self._files.read(key, choose_range)
        if found is None:
            return None
        metadata, data = found
        if outcome:
            return R2Object(metadata, {"offset": 0, "length": metadata["size"]})
        offset, length = resolve_range(requested, metadata["size"])
        return R2ObjectBody(metadata, data, {"offset": offset, "length": length})

    async def list(self, options: dict | None = None, **kwargs) -> R2Objects:
        options = _merge_options(options, kwargs)
        refuse_nulls("ListOptions", options)
        prefix = options.get("prefix") or ""
        limit = js_number(options["limit"]) if "limit" in options else MAX_LIST_LIMIT
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
            raise R2Error("list: MaxKeys params must be positive integer <= 1000. (10022)")
        include = list(options.get("include") or [])
        if include:
            # R2 may return fewer objects when metadata is included; Miniflare
            # simulates that with a cap of 100, so app code must follow cursors.
            limit = min(limit, MAX_LIST_LIMIT_WITH_METADATA)
        start_after = options.get("startAfter")
        if options.get("cursor"):
            from_cursor = decode_cursor(options["cursor"])
            if start_after is None or from_cursor > start_after:
                start_after = from_cursor
        delimiter = options.get("delimiter") or None
        return await asyncio.to_thread(self._list, prefix, limit, start_after, delimiter, include)

    def _list(self, prefix, limit, start_after, delimiter, include) -> R2Objects:
        keys = self._files.keys(prefix)
        if start_after is not None:
            keys = keys[bisect.bisect_right(keys, start_after) :]
        # Each entry is (key or delimited prefix, is_prefix, last key it covers); a
        # delimited prefix covers a contiguous run of keys, so the cursor can skip it.
        entries: list[tuple[str, bool, str]] = []
        index = 0
        while index < len(keys) and len(entries) <= limit:
            key = keys[index]
            position = key.find(delimiter, len(prefix)) if delimiter else -1
            if position < 0:
                entries.append((key, False, key))
                index += 1
                continue
            group = key[: position + len(delimiter)]
            end = index
            while end < len(keys) and keys[end].startswith(group):
                end += 1
            entries.append((group, True, keys[end - 1]))
            index = end
        truncated = len(entries) > limit
        entries = entries[:limit]

        objects, prefixes = [], []
        for name, is_prefix, _ in entries:
            if is_prefix:
                prefixes.append(name)
                continue
            found = self._files.read(name)
            if found is None:
                continue  # deleted since the directory scan
            metadata = dict(found[0])
            if "httpMetadata" not in include:
                metadata["httpMetadata"] = {}
            if "customMetadata" not in include:
                metadata["customMetadata"] = {}
            objects.append(R2Object(metadata))
        cursor = encode_cursor(entries[-1][2]) if truncated else None
        # A JsDict is what the SDK makes of the JS object; R2Objects names its keys.
        return cast(
            "R2Objects",
            JsDict(objects=objects, truncated=truncated, cursor=cursor, delimitedPrefixes=prefixes),
        )

    # -- writing -------------------------------------------------------------------------

    async def put(self, key: str, value, options: dict | None = None, **kwargs):
        check_sendable(value)
        options = _merge_options(options, kwargs)
        refuse_nulls("Conditional", options.get("onlyIf"))
        refuse_nulls("PutOptions", options)
        _check_key("put", key)
        data = await _value_bytes(value)
        http_metadata = stored_http_metadata(options.get("httpMetadata"))
        custom_metadata = stored_custom_metadata(options.get("customMetadata"))
        digests = checksums(data, options)
        record = {
            "key": key,
            "version": uuid.uuid4().hex,
            "size": len(data),
            "etag": digests["md5"],
            "uploaded": time.time_ns() // 1_000_000,
            "httpMetadata": http_metadata,
            "customMetadata": custom_metadata,
            "checksums": digests,
            "storageClass": options.get("storageClass") or "Standard",
        }
        condition = options.get("onlyIf")
        stored = await asyncio.to_thread(self._put, key, data, record, condition)
        return R2Object(record) if stored else None

    def _put(self, key, data, record, condition) -> bool:
        with self._write_lock:
            if condition is not None:
                found = self._files.read(key)
                if not condition_holds(condition, found[0] if found else None):
                    return False
            self._files.write(key, data, record)
        return True

    async def delete(self, keys) -> None:
        check_sendable(keys)
        keys = [keys] if isinstance(keys, str) else list(keys)
        for key in keys:
            _check_key("delete", key)

        def delete_all():
            with self._write_lock:
                for key in keys:
                    self._files.delete(key)

        await asyncio.to_thread(delete_all)


# -- option handling -----------------------------------------------------------------------


def _merge_options(options: dict | None, keywords: dict) -> dict:
    # The SDK turns keyword arguments into one trailing options object, so an options
    # dict and keyword arguments mean the same thing. None stays: it is sent as JS null,
    # and the callers refuse it where workerd does. A null options object is no options.
    check_sendable(options)
    check_sendable(keywords)
    merged = dict(options or {})
    merged.update(keywords)
    return merged


def _check_key(method: str, key) -> None:
    if not isinstance(key, str):
        raise R2Error(f"{method}: The specified object name is not valid. (10020)")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise R2Error(f"{method}: The specified object name is not valid. (10020)")


async def _value_bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if hasattr(value, "to_bytes") and not isinstance(value, int):
        return bytes(value.to_bytes())
    if isinstance(value, BodyStream) and value.disturbed:
        raise TypeError("The ReadableStream has been locked to a reader.")
    if hasattr(value, "__aiter__"):
        return b"".join([bytes(chunk) async for chunk in value])
    if hasattr(value, "read"):
        data = value.read()
        if hasattr(data, "__await__"):
            data = await data
        return bytes(data)
    raise TypeError(f"put: unsupported value type {type(value).__name__}")
