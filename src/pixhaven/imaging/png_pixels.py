"""The pixels of a small PNG as 8-bit RGBA, pure Python: what the ThumbHash placeholder
reads from the ≤100 px PNG env.IMAGES made (imaging/placeholder.py).

On Workers nothing else of an upload's path decodes pixels in the isolate, and Pillow has
no wasm wheel on PyPI, so the placeholder's one decode is done here, from the PNG
specification (w3.org/TR/png-3): every colour type (grey, RGB, palette, grey+alpha, RGBA)
at every bit depth it allows, transparency from tRNS, Adam7 interlacing, the five row
filters. 16-bit samples keep their high byte. Colour profiles and gamma are not applied
(env.IMAGES outputs sRGB, and a placeholder is a blur anyway).

Bounded on purpose: an image wider or taller than `max_side` (100 by default) is refused
before anything is inflated, since the placeholder is always asked for at most 100×100 and
a larger one means a bug upstream, not an image to shrink here. The inflated data is read
up to the exact size the header implies, never more.
"""

from __future__ import annotations

import struct
import zlib

from pixhaven.imaging.containers import FormatError, png_chunks
from pixhaven.imaging.verify import ADAM7, PNG_CHANNELS, PNG_DEPTHS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 100
GREY, RGB, PALETTE, GREY_ALPHA, RGBA = 0, 2, 3, 4, 6


def png_rgba(data: bytes, max_side: int = MAX_SIDE) -> tuple[int, int, bytes]:
    """(width, height, RGBA bytes, 4 per pixel row by row) of a PNG at most `max_side` a
    side; FormatError for anything malformed, truncated or larger."""
    if not data.startswith(PNG_SIGNATURE):
        raise FormatError("not a PNG")
    header: tuple[int, ...] | None = None
    palette = b""
    transparency: bytes | None = None
    compressed = []
    for kind, start, end in png_chunks(data):
        body = data[start + 8 : end - 4]
        if header is None:
            if kind != b"IHDR" or len(body) != 13:
                raise FormatError("PNG does not start with its IHDR chunk")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            compressed.append(body)
    assert header is not None  # png_chunks yields at least IEND, which the check above refuses
    width, height, depth, colour, compression, filtering, interlace = header
    if not (0 < width <= max_side and 0 < height <= max_side):
        raise FormatError(f"PNG is {width}x{height}; at most {max_side}x{max_side} is decoded here")
    if colour not in PNG_DEPTHS or depth not in PNG_DEPTHS[colour]:
        raise FormatError(f"PNG colour type {colour} at bit depth {depth} is not valid")
    if compression or filtering or interlace not in (0, 1):
        raise FormatError("PNG compression, filter or interlace method is not valid")
    if colour == PALETTE and (not palette or len(palette) % 3):
        raise FormatError("PNG palette is missing or malformed")

    channels = PNG_CHANNELS[colour]
    passes = _passes(width, height, interlace)
    expected = sum(rows * (1 + _row_bytes(cols, channels, depth)) for _, _, cols, rows in passes)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(compressed), expected)
    except zlib.error as exc:
        raise FormatError(f"PNG image data is corrupt ({exc})") from None
    if len(raw) < expected:
        raise FormatError("PNG image data is truncated")

    to_rgba = _converter(colour, depth, palette, transparency)
    rgba = bytearray(width * height * 4)
    offset = 0
    for (x0, y0, dx, dy), (_, _, cols, rows) in zip(_pass_steps(interlace), passes):
        size = rows * (1 + _row_bytes(cols, channels, depth))
        if not size:
            continue
        lines = _unfilter(raw[offset : offset + size], rows, cols, channels, depth)
        offset += size
        for row_index, line in enumerate(lines):
            y = y0 + row_index * dy
            for col_index, pixel in enumerate(to_rgba(_samples(line, cols * channels, depth))):
                at = (y * width + x0 + col_index * dx) * 4
                rgba[at : at + 4] = pixel
    return width, height, bytes(rgba)


def _pass_steps(interlace: int) -> tuple[tuple[int, int, int, int], ...]:
    return ADAM7 if interlace else ((0, 0, 1, 1),)


def _passes(width: int, height: int, interlace: int) -> list[tuple[int, int, int, int]]:
    """(x0, y0, columns, rows) of each pass (one for a non-interlaced image). A pass with no
    columns or no rows is empty: not even filter bytes are stored for it."""
    passes = []
    for x0, y0, dx, dy in _pass_steps(interlace):
        columns = -(-(width - x0) // dx) if width > x0 else 0
        rows = -(-(height - y0) // dy) if height > y0 and columns else 0
        passes.append((x0, y0, columns, rows))
    return passes


def _row_bytes(columns: int, channels: int, depth: int) -> int:
    return -(-columns * channels * depth // 8)


def _unfilter(raw: bytes, rows: int, cols: int, channels: int, depth: int) -> list[bytes]:
    """The rows of one pass with their filters undone (PNG spec, "Filtering")."""
    stride = _row_bytes(cols, channels, depth)
    if not stride:
        return [b""] * rows
    left = max(1, channels * depth // 8)  # the byte distance to the same sample one pixel left
    previous = bytearray(stride)
    lines = []
    for row in range(rows):
        start = row * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(left, stride):
                line[i] = (line[i] + line[i - left]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                a = line[i - left] if i >= left else 0
                line[i] = (line[i] + ((a + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - left] if i >= left else 0
                c = previous[i - left] if i >= left else 0
                line[i] = (line[i] + _paeth(a, previous[i], c)) & 0xFF
        elif kind != 0:
            raise FormatError(f"PNG row filter type {kind} is not valid")
        lines.append(bytes(line))
        previous = line
    return lines


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _samples(line: bytes, count: int, depth: int) -> list[int]:
    """The first `count` samples of a row, as integers at their own depth."""
    if depth == 8:
        return list(line[:count])
    if depth == 16:
        return list(struct.unpack(f">{count}H", line[: 2 * count]))
    per_byte, mask = 8 // depth, (1 << depth) - 1
    return [line[i // per_byte] >> (8 - depth * (i % per_byte + 1)) & mask for i in range(count)]


def _converter(colour: int, depth: int, palette: bytes, transparency: bytes | None):
    """A function from one row's samples to its RGBA pixels (4-byte tuples)."""
    top = (1 << depth) - 1

    def level(value: int) -> int:
        """A sample scaled to 8 bits (16-bit: its high byte)."""
        return value >> 8 if depth == 16 else value * 255 // top

    if colour == PALETTE:
        alphas = transparency or b""
        entries = [
            (*palette[3 * i : 3 * i + 3], alphas[i] if i < len(alphas) else 255)
            for i in range(len(palette) // 3)
        ]

        def from_palette(samples: list[int]):
            try:
                return [entries[index] for index in samples]
            except IndexError:
                raise FormatError("PNG pixel refers past the end of its palette") from None

        return from_palette
    if colour == GREY:
        key = struct.unpack(">H", transparency[:2])[0] if transparency else None
        return lambda samples: [(g := level(v), g, g, 0 if v == key else 255) for v in samples]
    if colour == GREY_ALPHA:
        return lambda samples: [
            (g := level(v), g, g, level(a)) for v, a in zip(samples[::2], samples[1::2])
        ]
    if colour == RGB:
        key3 = struct.unpack(">3H", transparency[:6]) if transparency else None
        return lambda samples: [
            (level(r), level(g), level(b), 0 if (r, g, b) == key3 else 255)
            for r, g, b in zip(samples[::3], samples[1::3], samples[2::3])
        ]
    return lambda samples: [
        (level(r), level(g), level(b), level(a))
        for r, g, b, a in zip(samples[::4], samples[1::4], samples[2::4], samples[3::4])
    ]
