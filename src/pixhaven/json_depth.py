"""How deeply JSON text nests, counted as it arrives: the guard in front of every JSON parser.

CPython's parser raises RecursionError near 1000 levels; on Pyodide 314 (Python 3.14) its C
recursion check does not work, and a 6000-deep array overflows the JavaScript stack, a fatal
error that ends the whole isolate (every request after it fails). So bodies nested deeper
than MAX_JSON_DEPTH are refused before any parser sees them: while they arrive, for every
JSON body (`pixhaven.middleware`, which covers the bodies FastAPI parses itself), and again
by `routers.requests.read_json` for bodies it reads whatever their content type.

`JsonDepth.feed(chunk)` keeps only three facts between chunks (depth, inside a string, an
escape pending), so memory stays constant whatever the body; brackets inside strings do not
count. Malformed text is not judged here: the parser reports it.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 1000

_OUTSIDE = re.compile(rb'["\[\]{}]')  # what changes the state outside a string
_STRING_END = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)  # the rest of a string, closing quote
_OPENING = frozenset(b"[{")


class JsonDepth:
    """Feed a JSON text in chunks; `feed` answers whether it has gone deeper than `limit`."""

    def __init__(self, limit: int = MAX_JSON_DEPTH):
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the previous chunk ended on a backslash inside a string

    def feed(self, chunk: bytes) -> bool:
        position, size = 0, len(chunk)
        while position < size:
            if self.in_string:
                if self.escaped:  # the escaped byte itself, whatever it is
                    position += 1
                    self.escaped = False
                    continue
                end = _STRING_END.match(chunk, position)
                if end is None:  # the string goes on in the next chunk
                    rest = chunk[position:]
                    self.escaped = (len(rest) - len(rest.rstrip(b"\\"))) % 2 == 1
                    return False
                self.in_string = False
                position = end.end()
                continue
            found = _OUTSIDE.search(chunk, position)
            if found is None:
                return False
            byte = chunk[found.start()]
            position = found.end()
            if byte == 0x22:  # '"'
                self.in_string = True
            elif byte in _OPENING:
                self.depth += 1
                if self.depth > self.limit:
                    return True
            else:
                self.depth -= 1
        return False


def is_json_content_type(header: str | None) -> bool:
    """`application/json` or a `+json` type, parameters (`; charset=utf-8`) aside."""
    if header is None:
        return False
    media_type = header.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def nested_deeper_than(text: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a whole JSON text nests deeper than `limit`; a text with fewer brackets than
    the limit is not scanned at all."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    return JsonDepth(limit).feed(text)
