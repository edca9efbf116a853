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
    for marker, _, _, end in jpeg_tail(data, sos_start):
        if marker == 0xD9:
            return end
    raise AssertionError("unreachable: jpeg_tail ends with EOI or raises")


def jpeg_tail(data: bytes, sos_start: int) -> Iterator[tuple[int, int, int, int]]:
    """(marker, start, header_end, end) for each segment from the first SOS to the EOI
    (the last one yielded). For SOS, the entropy-coded data runs from header_end to end;
    for the others header_end == end. Restart markers are part of the coded data."""
    pos, n = sos_start, len(data)
    while True:  # pos is at a length-prefixed marker segment (SOS, DHT, DRI, ...)
        need(data, pos + 4, "JPEG")
        marker = data[pos + 1]
        header_end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        scan = header_end
        while True:  # entropy-coded data: FF00 is a stuffed byte, FFD0-D7 restart markers
            i = data.find(b"\xff", scan)
            if i < 0 or i + 1 >= n:
                raise FormatError("JPEG is truncated (no end-of-image marker)")
            code = data[i + 1]
            if code == 0xFF:
                scan = i + 1
            elif code == 0x00 or 0xD0 <= code <= 0xD7:
                scan = i + 2
            else:
                break
        yield marker, pos, header_end, i if marker == 0xDA else header_end
        if code == 0xD9:
            yield 0xD9, i, i + 2, i + 2
            return
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
        "av1_sizes": [],  # ((ispe width, height), (AV1 max frame width, height)) per item
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
    types: dict[int, bytes] = {}
    if b"iinf" in boxes:
        s, e = boxes[b"iinf"]
        first = s + (6 if data[s] == 0 else 8)
        for kind, bs, _end in iso_boxes(data, first, e):
            if kind == b"infe" and data[bs] >= 2:
                at = bs + (8 if data[bs] == 2 else 10)
                found["item_types"].append(data[at : at + 4])
                item = int.from_bytes(data[bs + 4 : at - 2], "big")
                types[item] = data[at : at + 4]
    if b"iprp" not in boxes:
        return
    iprp = boxes[b"iprp"]
    ipco = _child(data, *iprp, b"ipco")
    props = list(iso_boxes(data, *ipco)) if ipco else []
    ipma = _child(data, *iprp, b"ipma")
    associations = _ipma(data, *ipma) if ipma else {}
    wanted: Sequence[int] = associations.get(primary, []) if primary is not None else []
    for index in wanted or range(1, len(props) + 1):
        kind, s, e = props[index - 1] if index <= len(props) else (b"", 0, 0)
        if kind == b"ispe" and e - s >= 12:
            w, h = struct.unpack(">II", data[s + 4 : s + 12])
            if found["width"] is None or w * h > found["width"] * found["height"]:
                found["width"], found["height"] = w, h
        elif kind == b"irot" and e > s:
            found["rotated"] = bool(data[s] & 1)
    # Each AV1 item's declared size (ispe) against the frame size its AV1 sequence header
    # allows: a decoder scales a small frame up to a larger ispe, so a lie would cost the
    # memory of the claimed size.
    locations = _iloc(data, *boxes[b"iloc"], boxes.get(b"idat")) if b"iloc" in boxes else {}
    for item, kind in types.items():
        if kind != b"av01" or item not in locations:
            continue
        for index in associations.get(item, []):
            pkind, s, e = props[index - 1] if index <= len(props) else (b"", 0, 0)
            if pkind == b"ispe" and e - s >= 12:
                coded = av1_max_frame_size(data, *locations[item])
                if coded is not None:
                    found["av1_sizes"].append((struct.unpack(">II", data[s + 4 : s + 12]), coded))


def _ipma(data: bytes, start: int, end: int) -> dict[int, list[int]]:
    """Item id → its property indices (1-based, essential bit dropped)."""
    version, flags = data[start], int.from_bytes(data[start + 1 : start + 4], "big")
    width = 2 if flags & 1 else 1
    mask = 0x7FFF if width == 2 else 0x7F
    pos, found = start + 8, {}
    for _ in range(struct.unpack(">I", data[start + 4 : start + 8])[0]):
        if pos > end:
            break
        if version < 1:
            item_id, pos = struct.unpack(">H", data[pos : pos + 2])[0], pos + 2
        else:
            item_id, pos = struct.unpack(">I", data[pos : pos + 4])[0], pos + 4
        count, pos = data[pos], pos + 1
        found[item_id] = [
            int.from_bytes(data[pos + i * width : pos + (i + 1) * width], "big") & mask
            for i in range(count)
        ]
        pos += count * width
    return found


def _iloc(
    data: bytes, start: int, end: int, idat: tuple[int, int] | None
) -> dict[int, tuple[int, int]]:
    """Item id → (start, end) in `data` of its first extent (file offsets, or inside idat);
    items stored any other way are left out."""
    version = data[start]
    sizes = data[start + 4], data[start + 5]
    offset_size, length_size = sizes[0] >> 4, sizes[0] & 15
    base_size, index_size = sizes[1] >> 4, (sizes[1] & 15) if version else 0
    pos = start + 6

    def number(size: int) -> int:
        nonlocal pos
        need(data, pos + size, "AVIF")
        value = int.from_bytes(data[pos : pos + size], "big")
        pos += size
        return value

    found = {}
    for _ in range(number(4 if version == 2 else 2)):
        item = number(4 if version == 2 else 2)
        method = number(2) & 15 if version else 0
        number(2)  # data_reference_index
        base = number(base_size)
        extents = [
            (number(index_size), number(offset_size), number(length_size)) for _ in range(number(2))
        ]
        if pos > end:
            raise FormatError("AVIF item locations are truncated")
        if not extents:
            continue
        _, offset, length = extents[0]
        if method == 0:
            origin = 0
        elif method == 1 and idat is not None:
            origin = idat[0]
        else:
            continue
        first = origin + base + offset
        found[item] = (first, first + length if length else len(data))
    return found


def av1_max_frame_size(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """(max_frame_width, max_frame_height) from the sequence header OBU among the first OBUs
    of AV1 data (AV1 spec 5.3 and 5.5), or None when there is none to read."""
    pos, end = start, min(end, len(data))
    for _ in range(4):  # a temporal delimiter, metadata, then the sequence header
        if pos >= end:
            return None
        header = data[pos]
        kind, extension, has_size = (header >> 3) & 15, header & 4, header & 2
        pos += 2 if extension else 1
        size = end - pos
        if has_size:
            size, shift = 0, 0
            for _ in range(8):  # leb128
                if pos >= end:
                    return None
                byte = data[pos]
                pos += 1
                size |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
        if kind == 1:
            return _sequence_header_size(data[pos : min(pos + size, end)])
        pos += size
    return None


def _sequence_header_size(payload: bytes) -> tuple[int, int] | None:
    bits = int.from_bytes(payload, "big")
    total = len(payload) * 8
    at = 0

    def read(count: int) -> int:
        nonlocal at
        if at + count > total:
            raise FormatError("AV1 sequence header is truncated")
        value = (bits >> (total - at - count)) & ((1 << count) - 1)
        at += count
        return value

    read(3)  # seq_profile
    read(1)  # still_picture
    if read(1):  # reduced_still_picture_header
        read(5)  # seq_level_idx[0]
    else:
        decoder_model = False
        buffer_delay_length = 0
        if read(1):  # timing_info_present_flag
            read(32)  # num_units_in_display_tick
            read(32)  # time_scale
            if read(1):  # equal_picture_interval: num_ticks_per_picture_minus_1, uvlc()
                zeros = 0
                while not read(1):
                    zeros += 1
                    if zeros >= 32:
                        return None
                read(zeros)
            decoder_model = bool(read(1))
            if decoder_model:
                buffer_delay_length = read(5) + 1
                read(32)  # num_units_in_decoding_tick
                read(5)  # buffer_removal_time_length_minus_1
                read(5)  # frame_presentation_time_length_minus_1
        initial_display_delay = read(1)
        for _ in range(read(5) + 1):  # operating points
            read(12)  # operating_point_idc
            if read(5) > 7:  # seq_level_idx
                read(1)  # seq_tier
            if decoder_model and read(1):  # decoder_model_present_for_this_op
                read(2 * buffer_delay_length + 1)
            if initial_display_delay and read(1):
                read(4)
    width_bits, height_bits = read(4) + 1, read(4) + 1
    return read(width_bits) + 1, read(height_bits) + 1
