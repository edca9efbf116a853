"""Walkers over image containers: JPEG segments, PNG chunks, GIF blocks, RIFF (WebP)
chunks, ISO-BMFF (AVIF) boxes. Pure Python, no decoding.

Every walker checks that what a header declares fits in the bytes present, so a truncated
or corrupt file raises FormatError instead of reading past the end.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Any


class FormatError(ValueError):
    """The bytes claim a format but are malformed or truncated."""


def need(data: bytes, end: int, what: str) -> None:
    if end > len(data):
        raise FormatError(f"{what} is truncated")


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) for each segment after SOI, ending with the first SOS header."""
    pos, n = 2, len(data)
    while True:
        need(data, pos + 2, "JPEG")
        if data[pos] != 0xFF:  # stray bytes before a marker: skipped, as libjpeg does
            pos = data.find(b"\xff", pos)
            if pos < 0:
                raise FormatError("JPEG marker structure is corrupt")
        while pos < n and data[pos] == 0xFF:
            pos += 1  # fill bytes
        need(data, pos + 1, "JPEG")
        start = pos - 1  # the 0xFF right before the marker code
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        if marker in (0xD8, 0xD9):
            raise FormatError("JPEG ends before its image data")
        need(data, pos + 2, "JPEG")
        length = struct.unpack(">H", data[pos : pos + 2])[0]
        if length < 2:
            raise FormatError("JPEG segment length is invalid")
        need(data, pos + length, "JPEG")
        yield marker, start, pos + length
        if marker == 0xDA:
            return
        pos += length


def jpeg_scan_end(data: bytes, sos_start: int) -> int:
    """Offset just past the EOI that ends the image whose first SOS starts at sos_start."""
    pos, n = sos_start, len(data)
    while True:  # pos is at a length-prefixed marker segment (SOS, DHT, DRI, ...)
        need(data, pos + 4, "JPEG")
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        while True:  # entropy-coded data: FF00 is a stuffed byte, FFD0-D7 restart markers
            i = data.find(b"\xff", pos)
            if i < 0 or i + 1 >= n:
                raise FormatError("JPEG is truncated (no end-of-image marker)")
            marker = data[i + 1]
            if marker == 0xFF:
                pos = i + 1
            elif marker == 0x00 or 0xD0 <= marker <= 0xD7:
                pos = i + 2
            else:
                break
        if marker == 0xD9:
            return i + 2
        pos = i


def png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk up to and including IEND; end includes the CRC."""
    pos = 8
    while True:
        need(data, pos + 8, "PNG")
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        need(data, end, "PNG")
        yield kind, pos, end
        if kind == b"IEND":
            return
        pos = end


def gif_blocks(data: bytes) -> Iterator[tuple[str, int, int, Any]]:
    """("screen"|"ext"|"image"|"trailer", start, end, extra). A GIF whose last block is
    complete but lacks the trailer byte ends without a "trailer" block."""
    n = len(data)
    need(data, 13, "GIF")
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    need(data, pos, "GIF")
    yield "screen", 0, pos, struct.unpack("<HH", data[6:10])
    while pos < n:
        block = data[pos]
        if block == 0x3B:
            yield "trailer", pos, pos + 1, None
            return
        if block == 0x21:
            need(data, pos + 3, "GIF")
            label = data[pos + 1]
            app = data[pos + 3 : pos + 3 + data[pos + 2]] if label == 0xFF else None
            end = _skip_sub_blocks(data, pos + 2)
            yield "ext", pos, end, (label, app)
        elif block == 0x2C:
            need(data, pos + 11, "GIF")
            rect = struct.unpack("<HHHH", data[pos + 1 : pos + 9])
            local = data[pos + 9]
            body = pos + 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1  # + LZW size
            end = _skip_sub_blocks(data, body)
            yield "image", pos, end, rect
        else:
            raise FormatError("GIF block structure is corrupt")
        pos = end


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    n = len(data)
    while True:
        if pos >= n:
            raise FormatError("GIF is truncated")
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos


def riff_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(fourcc, start, end) of each chunk of a RIFF/WEBP file; end includes the pad byte."""
    need(data, 12, "WebP")
    riff_end = 8 + struct.unpack("<I", data[4:8])[0]
    need(data, riff_end, "WebP")
    pos = 12
    while pos < riff_end:
        need(data, pos + 8, "WebP")
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + size > riff_end:
            raise FormatError("WebP is truncated")
        end = min(pos + 8 + size + (size & 1), riff_end)
        yield data[pos : pos + 4], pos, end
        pos = end


def iso_boxes(data: bytes, pos: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload_start, box_end) for the boxes between pos and end."""
    while pos < end:
        need(data, pos + 8, "AVIF")
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            need(data, pos + 16, "AVIF")
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise FormatError("AVIF is truncated")
        yield kind, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, s, e in iso_boxes(data, start, end):
        if k == kind:
            return s, e
    return None


def avif_meta(data: bytes) -> dict:
    """The parts of an AVIF we need: primary item size/rotation, item types, frame count."""
    found: dict[str, Any] = {
        "item_types": [],
        "width": None,
        "height": None,
        "rotated": False,
        "frames": 1,
    }
    top = {kind: (s, e) for kind, s, e in iso_boxes(data, 0, len(data))}
    if b"meta" in top:
        s, e = top[b"meta"]
        _avif_items(data, s + 4, e, found)  # meta is a FullBox: skip version/flags
    if b"moov" in top:
        path: tuple[int, int] | None = top[b"moov"]
        for kind in (b"trak", b"mdia", b"minf", b"stbl", b"stsz"):
            path = path and _child(data, path[0], path[1], kind)
        if path and path[1] - path[0] >= 12:
            found["frames"] = max(1, struct.unpack(">I", data[path[0] + 8 : path[0] + 12])[0])
    return found


def _avif_items(data: bytes, start: int, end: int, found: dict) -> None:
    boxes = {kind: (s, e) for kind, s, e in iso_boxes(data, start, end)}
    primary = None
    if b"pitm" in boxes:
        s, _ = boxes[b"pitm"]
        primary = (
            struct.unpack(">H", data[s + 4 : s + 6])[0]
            if data[s] == 0
            else struct.unpack(">I", data[s + 4 : s + 8])[0]
        )
    if b"iinf" in boxes:
        s, e = boxes[b"iinf"]
        first = s + (6 if data[s] == 0 else 8)
        for kind, bs, _end in iso_boxes(data, first, e):
            if kind == b"infe" and data[bs] >= 2:
                at = bs + (8 if data[bs] == 2 else 10)
                found["item_types"].append(data[at : at + 4])
    if b"iprp" not in boxes:
        return
    iprp = boxes[b"iprp"]
    ipco = _child(data, *iprp, b"ipco")
    props = list(iso_boxes(data, *ipco)) if ipco else []
    wanted: Sequence[int] = range(1, len(props) + 1)
    ipma = _child(data, *iprp, b"ipma")
    if ipma and primary is not None:
        wanted = _ipma_properties(data, *ipma, primary) or wanted
    for index in wanted:
        kind, s, e = props[index - 1] if index <= len(props) else (b"", 0, 0)
        if kind == b"ispe" and e - s >= 12:
            w, h = struct.unpack(">II", data[s + 4 : s + 12])
            if found["width"] is None or w * h > found["width"] * found["height"]:
                found["width"], found["height"] = w, h
        elif kind == b"irot" and e > s:
            found["rotated"] = bool(data[s] & 1)


def _ipma_properties(data: bytes, start: int, end: int, item: int) -> list[int]:
    version, flags = data[start], int.from_bytes(data[start + 1 : start + 4], "big")
    pos = start + 8
    for _ in range(struct.unpack(">I", data[start + 4 : start + 8])[0]):
        if version < 1:
            item_id, pos = struct.unpack(">H", data[pos : pos + 2])[0], pos + 2
        else:
            item_id, pos = struct.unpack(">I", data[pos : pos + 4])[0], pos + 4
        count, pos = data[pos], pos + 1
        width = 2 if flags & 1 else 1
        entries = [
            int.from_bytes(data[pos + i * width : pos + (i + 1) * width], "big")
            for i in range(count)
        ]
        pos += count * width
        if item_id == item:
            mask = 0x7FFF if width == 2 else 0x7F
            return [entry & mask for entry in entries]
        if pos > end:
            break
    return []
