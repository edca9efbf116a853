"""Container walks over a stream read once, front to back, in bounded memory.

A large upload that went straight to R2 is never held whole (an isolate has 128 MB): its
body is read chunk by chunk, hashed, and walked by one of the parsers here, which find what
the in-memory walkers of containers.py find — PNG chunks, the end of a JPEG's image data —
while only a few bytes at a time are kept.

A parser is a generator that asks for bytes and gets them:

    yield Read(position, size)   ->  the `size` bytes at `position` (not before it)
    yield FindMarker(position)   ->  (offset, code) of the first JPEG marker from `position`

and returns its result. `StreamWalk` drives it: `feed(chunk)` for every chunk in order,
then `finish()`, which returns the parser's result or raises FormatError where the stream
ended before the parser did (a truncated file), as the in-memory walkers do.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from pixhaven.imaging.containers import FormatError

# A marker inside JPEG entropy-coded data: 0xFF followed by anything but a stuffed zero, a
# restart marker (D0–D7) or another 0xFF (a fill byte: the marker is the last 0xFF's).
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
MAX_READ = 1 << 20  # what one Read may ask for: chunk headers and small chunks only


@dataclass(frozen=True)
class Read:
    position: int
    size: int


@dataclass(frozen=True)
class FindMarker:
    position: int


Parser = Generator[Read | FindMarker, Any, Any]


class StreamWalk:
    """Runs a parser over a stream given chunk by chunk; keeps at most one pending request's
    bytes plus one chunk."""

    def __init__(self, parser: Parser, what: str):
        self._parser = parser
        self._what = what
        self._buffer = bytearray()
        self._start = 0  # stream position of self._buffer[0]
        self._done = False
        self._result: Any = None
        self._request: Read | FindMarker | None = None
        self._advance(None)

    def feed(self, chunk: bytes) -> None:
        if self._done or not chunk:
            return
        self._buffer += chunk
        while not self._done and self._serve():
            pass
        self._trim()

    def finish(self) -> Any:
        if not self._done:
            raise FormatError(f"{self._what} is truncated")
        return self._result

    def _advance(self, answer: Any) -> None:
        try:
            self._request = self._parser.send(answer)
        except StopIteration as stop:
            self._done, self._result, self._request = True, stop.value, None
            self._buffer = bytearray()
        if isinstance(self._request, Read) and not 0 <= self._request.size <= MAX_READ:
            raise ValueError(f"a stream walk reads at most {MAX_READ} bytes at once")

    def _serve(self) -> bool:
        """Answer the pending request if the buffer can; whether it did."""
        request = self._request
        if request is None or request.position < self._start:
            raise ValueError("a stream walk only reads forward")
        offset = request.position - self._start
        if isinstance(request, Read):
            if offset + request.size > len(self._buffer):
                return False
            self._advance(bytes(self._buffer[offset : offset + request.size]))
            return True
        match = _JPEG_MARKER.search(self._buffer, offset)
        if match is None:
            # Nothing yet; a 0xFF at the very end may start a marker the next chunk ends.
            keep_from = max(offset, len(self._buffer) - 1)
            self._request = FindMarker(self._start + keep_from)
            return False
        at = match.start()
        self._advance((self._start + at, self._buffer[at + 1]))
        return True

    def _trim(self) -> None:
        """Drop the bytes before the pending request: they will never be asked for."""
        if self._request is None:
            return
        drop = min(self._request.position - self._start, len(self._buffer))
        if drop > 0:
            del self._buffer[:drop]
            self._start += drop


def png_chunk_walk(keep_small: frozenset[bytes], small_limit: int = 1 << 16) -> Parser:
    """(type, start, end) of every chunk up to IEND, as containers.png_chunks gives them,
    and {start: whole chunk bytes} for the chunks of a type in `keep_small` no larger than
    `small_limit` (what a header reads: IHDR, acTL, eXIf)."""
    chunks: list[tuple[bytes, int, int]] = []
    small: dict[int, bytes] = {}
    position = 8
    while True:
        head = yield Read(position, 8)
        length = struct.unpack(">I", head[:4])[0]
        kind = head[4:8]
        end = position + 12 + length
        if kind in keep_small and length <= small_limit:
            small[position] = head + (yield Read(position + 8, length + 4))
        chunks.append((kind, position, end))
        if kind == b"IEND":
            if position not in small:
                yield Read(end - 4, 4)  # the file holds the whole chunk, CRC included
            return chunks, small
        position = end


def jpeg_image_end(sos_start: int) -> Parser:
    """Offset just past the EOI that ends the image whose first SOS starts at `sos_start`:
    containers.jpeg_scan_end's walk (length-prefixed segments between scans, entropy-coded
    data scanned for markers) on a stream."""
    position = sos_start
    while True:
        head = yield Read(position, 4)
        header_end = position + 2 + struct.unpack(">H", head[2:4])[0]
        marker_at, code = yield FindMarker(header_end)
        if code == 0xD9:
            yield Read(marker_at, 2)
            return marker_at + 2
        position = marker_at
