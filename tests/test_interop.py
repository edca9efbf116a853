"""pixhaven.interop: binding values in the shapes the Worker runtime gives and takes.

The shapes were observed with workers-runtime-sdk 1.9.5 on Pyodide 0.28 (docs/BINDINGS.md,
"Shapes at the boundary"); the local bindings now give and refuse the same, so the HTTP tests
catch a call site that forgets them. This file checks the helpers themselves.
"""

import sys
import types

import pytest

from pixhaven.interop import ByteStream, as_bytes, body_bytes, byte_stream, given
from pixhaven.local.bindings.r2 import LocalR2


class Uint8ArrayProxy:
    """Shaped like Pyodide's JsProxy of a Uint8Array, as a stream chunk arrives on Workers."""

    def __init__(self, data: bytes):
        self._data = data

    def to_bytes(self) -> bytes:
        return self._data


@pytest.mark.parametrize(
    "value", [b"abc", bytearray(b"abc"), memoryview(b"abc"), Uint8ArrayProxy(b"abc")]
)
def test_as_bytes_takes_every_binary_shape(value):
    assert as_bytes(value) == b"abc"
    assert type(as_bytes(value)) is bytes


@pytest.mark.parametrize("value", [3, "abc", None, {"image": "..."}])
def test_as_bytes_refuses_what_is_not_binary(value):
    with pytest.raises(TypeError, match="expected binary data"):
        as_bytes(value)


async def test_body_bytes_reads_an_r2_body_whose_array_buffer_is_a_memoryview(tmp_path):
    bucket = LocalR2(tmp_path)
    await bucket.put("k", b"\x00body\xff")
    obj = await bucket.get("k")
    assert obj is not None
    assert await body_bytes(obj) == b"\x00body\xff"


def test_given_leaves_out_only_none():
    assert given(prefix="p/", cursor=None, limit=0, delimiter="", include=[]) == {
        "prefix": "p/",
        "limit": 0,
        "delimiter": "",
        "include": [],
    }
    assert given() == {}


async def test_byte_stream_without_a_js_runtime_is_a_read_once_byte_stream():
    stream = byte_stream(b"x" * 100_000)
    assert isinstance(stream, ByteStream) and not stream.disturbed
    chunks = [chunk async for chunk in stream]
    assert b"".join(chunks) == b"x" * 100_000 and len(chunks) == 2
    assert stream.disturbed
    assert await stream.read() == b""  # read once


async def test_byte_stream_read_returns_what_is_left():
    stream = byte_stream(b"0123456789")
    assert await stream.read(4) == b"0123"
    assert await stream.read() == b"456789"


def test_byte_stream_in_pyodide_makes_a_js_stream(monkeypatch):
    """Inside Pyodide the stream is made in JavaScript: `Blob([Uint8Array]).stream()`. The two
    runtime modules are stood in for here (they exist only in Pyodide); the same call was run
    on Pyodide 0.28.3 and read back byte for byte by JS."""
    made = []

    class Blob:
        @staticmethod
        def new(parts):
            made.append(parts)
            return types.SimpleNamespace(stream=lambda: ("ReadableStream", parts))

    def to_js(value):
        return ("converted", value)

    monkeypatch.setitem(sys.modules, "js", types.SimpleNamespace(Blob=Blob))
    pyodide = types.ModuleType("pyodide")
    ffi = types.ModuleType("pyodide.ffi")
    ffi.to_js = to_js
    pyodide.ffi = ffi
    monkeypatch.setitem(sys.modules, "pyodide", pyodide)
    monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)

    stream = byte_stream(b"png")
    assert stream == ("ReadableStream", ("converted", [b"png"]))
    assert made == [("converted", [b"png"])]
