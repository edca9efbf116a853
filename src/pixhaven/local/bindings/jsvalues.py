"""Python stand-ins for the values the Workers Python SDK hands to app code.

On Cloudflare, binding results cross from JavaScript into Python through
`workers/rpc.py`: plain JS objects become `JsDict` (a dict with attribute access),
`Date` becomes a naive `datetime` (the isolate's clock is UTC), and an `ArrayBuffer`
becomes a `memoryview` (Pyodide's `to_py()`). The local bindings return these
look-alikes so app code cannot tell the two runtimes apart.
"""

from __future__ import annotations

import datetime
import functools


class JsDict(dict):
    """A dict that also allows attribute access, like the SDK's `JsDict`."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


# A datetime is immutable, so one made before serves again. Every R2 object described
# (each object request: head, get, plain_file) converts its upload time, and the
# conversion took about half the time of describing one.
@functools.lru_cache(maxsize=4096)
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


def check_sendable(value) -> None:
    """Refuse what the SDK refuses to send to a binding. Its `python_to_rpc` raises
    `TypeError: <class 'tuple'> cannot be sent over RPC.` for a tuple or a bytearray, at
    any depth of a dict or list, before workerd sees the call; a memoryview or bytes goes
    on as a Uint8Array."""
    if isinstance(value, (tuple, bytearray)):
        raise TypeError(f"{type(value)} cannot be sent over RPC.")
    if isinstance(value, dict):
        for item in value.values():
            check_sendable(item)
    elif isinstance(value, list):
        for item in value:
            check_sendable(item)
