"""A PNG writer for drawings of flat colour: every row unfiltered (PNG filter type 0), zlib
at level 1.

Pillow's PNG encoder chooses a filter for each row by trying all five, which costs ~11 ms on
a 1200×630 card whatever the zlib level, then deflates at the level asked (level 4: 7 ms
more). A card of solid fills and text is long runs of one pixel value, which deflate finds
unfiltered just as well (a run is a repeat at distance 3 or 4 bytes, a plain row one at the
row's length): this writer takes ~6 ms for the same card, 12% more bytes than Pillow at
level 4 and 10% more than resvg's PNG of it. Photos need the filters to compress (an
unfiltered photo is half again as large), so raster.encode uses it only for drawings without
image components, and for the PNG that is only a step on the way to AVIF.

The canvas is read in bands of rows, so beside the output it holds one band, not a copy of
the whole canvas.
"""

import struct
import zlib

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {"RGB": 2, "RGBA": 6}  # 8 bits per sample
BAND_ROWS = 64
LEVEL = 1


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
    )


def write_flat_png(image: Image.Image) -> bytes:
    """`image` (RGB or RGBA) as a PNG with unfiltered rows."""
    color_type = COLOR_TYPES[image.mode]
    width, height = image.size
    stride = width * len(image.mode)
    compressor = zlib.compressobj(LEVEL)
    compressed = []
    for top in range(0, height, BAND_ROWS):
        band = image.crop((0, top, width, min(height, top + BAND_ROWS))).tobytes()
        rows = b"".join(
            b"\0" + band[start : start + stride] for start in range(0, len(band), stride)
        )
        compressed.append(compressor.compress(rows))
    compressed.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(compressed))
        + _chunk(b"IEND", b"")
    )
