"""Lossless removal of private metadata (EXIF with GPS, XMP, IPTC, comments, maker data).

Each function rewrites the container without touching the compressed image data, keeping
what affects how the image looks (ICC profiles, colour and gamma chunks, transparency,
animation control). Files that need their pixels changed (an EXIF orientation to apply, a
CMYK JPEG, an AVIF carrying EXIF/XMP items: rewriting ISO-BMFF item locations is not worth
its risk) are re-encoded by the pipeline instead.
"""

from __future__ import annotations

import struct

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
    out = [b"\xff\xd8"]
    for marker, start, end in jpeg_segments(data):
        if marker == 0xDA:
            out.append(data[start : jpeg_scan_end(data, start)])
            break
        if marker == 0xFE or 0xE0 <= marker <= 0xEF:
            payload = data[start + 4 : start + 16]
            keep = (
                (marker == 0xE0 and payload.startswith(b"JFIF\0"))
                or (marker == 0xE2 and payload.startswith(b"ICC_PROFILE\0"))
                or (marker == 0xEE and payload.startswith(b"Adobe"))
            )
            if not keep:
                continue
        out.append(data[start:end])
    return b"".join(out)


def strip_png(data: bytes) -> bytes:
    out = [PNG_SIGNATURE]
    out.extend(data[start:end] for kind, start, end in png_chunks(data) if kind in PNG_KEEP)
    return b"".join(out)


def strip_gif(data: bytes) -> bytes:
    """Drop comment extensions and application extensions other than the loop count (XMP
    lives in one); keep graphic control and plain-text extensions and every image."""
    out = []
    for kind, start, end, extra in gif_blocks(data):
        if kind == "ext":
            label, app = extra
            if label == 0xFE or (label == 0xFF and app not in GIF_LOOP_APPS):
                continue
        out.append(data[start:end])
        if kind == "trailer":
            break
    else:
        out.append(b"\x3b")  # a complete GIF missing only its trailer byte gets one
    return b"".join(out)


def strip_webp(data: bytes) -> bytes:
    chunks = []
    for fourcc, start, end in riff_chunks(data):
        if fourcc not in WEBP_KEEP:
            continue
        chunk = data[start:end]
        if fourcc == b"VP8X":
            flags = chunk[8] & ~(WEBP_EXIF_FLAG | WEBP_XMP_FLAG)
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        chunks.append(chunk)
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


STRIPPERS = {"jpeg": strip_jpeg, "png": strip_png, "gif": strip_gif, "webp": strip_webp}
