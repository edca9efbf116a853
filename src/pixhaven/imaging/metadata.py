"""Lossless removal of private metadata (EXIF with GPS, XMP, IPTC, comments, maker data).

Each function rewrites the container without touching the compressed image data, keeping
what affects how the image looks (ICC profiles, colour and gamma chunks, transparency,
animation control). Files that need their pixels changed (an EXIF orientation to apply, a
CMYK JPEG, an AVIF carrying EXIF/XMP items: rewriting ISO-BMFF item locations is not worth
its risk) are re-encoded by the pipeline instead.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from pixhaven.imaging.containers import (
    gif_blocks,
    jpeg_scan_end,
    jpeg_segments,
    png_chunks,
    riff_chunks,
)
from pixhaven.imaging.formats import PNG_SIGNATURE

# PNG chunks kept: critical ones, and the ancillary ones that change rendering or animation.
PNG_KEEP = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"cHRM",
    b"gAMA",
    b"iCCP",
    b"sBIT",
    b"sRGB",
    b"cICP",
    b"mDCV",
    b"cLLI",
    b"bKGD",
    b"pHYs",
    b"acTL",
    b"fcTL",
    b"fdAT",
}
WEBP_KEEP = {b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ICCP", b"ANIM", b"ANMF"}
GIF_LOOP_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
WEBP_EXIF_FLAG, WEBP_XMP_FLAG = 0x08, 0x04


def strip_jpeg(data: bytes) -> bytes:
    """Keep JFIF (APP0), ICC profiles (APP2 "ICC_PROFILE") and Adobe (APP14, which says how
    to read CMYK/YCCK) plus every coding segment; drop APP1 (EXIF, XMP), the other APPn
    (IPTC, MPF, maker data), comments, and anything after the end-of-image marker (such as
    the extra pictures of multi-picture files)."""
    spans, sos_start = jpeg_kept_header(data)
    return rebuilt(data, b"\xff\xd8", [*spans, (sos_start, jpeg_scan_end(data, sos_start))])


def jpeg_kept_header(data: bytes) -> tuple[list[tuple[int, int]], int]:
    """The spans strip_jpeg keeps of the segments before the first SOS, and where that SOS
    starts (from there to the end-of-image marker everything is kept). `data` needs to
    hold only the file's beginning, up to the SOS header."""
    spans: list[tuple[int, int]] = []
    for marker, start, end in jpeg_segments(data):
        if marker == 0xDA:
            return spans, start
        if marker == 0xFE or 0xE0 <= marker <= 0xEF:
            payload = data[start + 4 : start + 16]
            keep = (
                (marker == 0xE0 and payload.startswith(b"JFIF\0"))
                or (marker == 0xE2 and payload.startswith(b"ICC_PROFILE\0"))
                or (marker == 0xEE and payload.startswith(b"Adobe"))
            )
            if not keep:
                continue
        spans.append((start, end))
    raise AssertionError("unreachable: jpeg_segments ends with SOS or raises")


def strip_png(data: bytes) -> bytes:
    return rebuilt(data, PNG_SIGNATURE, png_kept_spans(png_chunks(data)))


def png_kept_spans(chunks: Iterable[tuple[bytes, int, int]]) -> list[tuple[int, int]]:
    """The spans strip_png keeps of a PNG's chunks, (type, start, end) as png_chunks gives
    them: the chunks of the PNG_KEEP types, neighbours joined into one span."""
    spans: list[tuple[int, int]] = []
    for kind, start, end in chunks:
        if kind not in PNG_KEEP:
            continue
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def strip_gif(data: bytes) -> bytes:
    """Drop comment extensions and application extensions other than the loop count (XMP
    lives in one); keep graphic control and plain-text extensions and every image."""
    spans = []
    for kind, start, end, extra in gif_blocks(data):
        if kind == "ext":
            label, app = extra
            if label == 0xFE or (label == 0xFF and app not in GIF_LOOP_APPS):
                continue
        spans.append((start, end))
        if kind == "trailer":
            return rebuilt(data, b"", spans)
    # A complete GIF missing only its trailer byte gets one.
    return rebuilt(data, b"", spans, suffix=b"\x3b")


def strip_webp(data: bytes) -> bytes:
    chunks: list[bytes | memoryview] = []
    view = memoryview(data)
    for fourcc, start, end in riff_chunks(data):
        if fourcc not in WEBP_KEEP:
            continue
        if fourcc == b"VP8X":
            chunk = data[start:end]
            flags = chunk[8] & ~(WEBP_EXIF_FLAG | WEBP_XMP_FLAG)
            chunks.append(chunk[:8] + bytes([flags]) + chunk[9:])
        else:
            chunks.append(view[start:end])
    size = 4 + sum(len(chunk) for chunk in chunks)
    stripped = b"".join([b"RIFF", struct.pack("<I", size), b"WEBP", *chunks])
    return data if stripped == data else stripped


def rebuilt(data: bytes, prefix: bytes, spans: list[tuple[int, int]], suffix: bytes = b"") -> bytes:
    """`prefix`, the `spans` of `data` in order, then `suffix`, as one new bytes object
    (the spans are joined as views: one copy, no intermediate pieces); `data` itself, no
    copy at all, when that is exactly what they spell, as for an image with nothing to
    strip. An upload is the largest object in the isolate's memory: one copy less of it
    counts."""
    position = len(prefix)
    whole = not suffix and data[:position] == prefix
    for start, end in spans:
        whole = whole and start == position
        position = end
    if whole and position == len(data):
        return data
    view = memoryview(data)
    return b"".join([prefix, *(view[start:end] for start, end in spans), suffix])


STRIPPERS = {"jpeg": strip_jpeg, "png": strip_png, "gif": strip_gif, "webp": strip_webp}
