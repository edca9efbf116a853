"""Python stand-ins for the values the Workers Python SDK hands to app code.

On Cloudflare, binding results cross from JavaScript into Python through
`workers/rpc.py`: plain JS objects become `JsDict` (a dict with attribute access),
`Date` becomes a naive `datetime` (the isolate's clock is UTC), and an `ArrayBuffer`
stays a Pyodide `JsProxy` whose `.to_bytes()` copies it into Python. The local
bindings return these look-alikes so app code cannot tell the two runtimes apart.
"""

from __future__ import annotations

import datetime


class JsDict(dict):
    """A dict that also allows attribute access, like the SDK's `JsDict`."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


class ArrayBuffer:
    """Bytes wrapped like Pyodide's `JsProxy` of a JS `ArrayBuffer`.

    App code calls `.to_bytes()` (the Pyodide API); `bytes(buffer)` and `len(buffer)`
    also work so that local-only code does not need to know about the wrapper.
    """

    __slots__ = ("_data",)

    def __init__(self, data: bytes):
        self._data = bytes(data)

    @property
    def byteLength(self) -> int:
        return len(self._data)

    def to_bytes(self) -> bytes:
        return self._data

    def to_memoryview(self) -> memoryview:
        return memoryview(self._data)

    def to_py(self) -> memoryview:
        return memoryview(self._data)

    def __bytes__(self) -> bytes:
        return self._data

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other) -> bool:
        if isinstance(other, ArrayBuffer):
            return self._data == other._data
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal by value, so not hashable

    def __repr__(self) -> str:
        return f"ArrayBuffer(byteLength={len(self._data)})"


def js_date(epoch_ms: int | float) -> datetime.datetime:
    """A JS `Date` as the SDK converts it: naive, in the isolate's time zone (UTC)."""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, datetime.UTC)
    return moment.replace(tzinfo=None)


def epoch_ms(value: datetime.datetime) -> int:
    """Milliseconds since the epoch of a datetime the app passes to a binding.

    The SDK turns a datetime into `new Date(value.timestamp() * 1000)`; on Workers a
    naive datetime is therefore read as UTC, so it is read as UTC here too (rather
    than in the local machine's time zone).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return int(value.timestamp() * 1000)
