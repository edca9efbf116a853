"""Full decode checks with bounded memory (a Worker isolate has 128 MB).

- PNG: every chunk CRC, then the image data inflated in 1 MB pieces and counted against
  what IHDR (and each APNG frame's fcTL) declares, row filter types checked on the way;
  no pixel buffer is ever built, whatever the image size.
- JPEG: decoded by Pillow in draft mode (libjpeg's 1/8 DCT scaling): every coefficient of
  every scan is still read, so truncation and corruption surface, at 1/64 of the memory.
- GIF, WebP, AVIF: decoded frame by frame by Pillow when it has the codec and one frame
  fits IN_ISOLATE_DECODE_PIXELS; one frame at a time is alive and released at once. Larger
  ones rely on the container walk of image_containers (truncation) and on env.IMAGES, which
  decodes the whole image outside the isolate when the placeholder is made.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib

from pixhaven.imaging.containers import FormatError, png_chunks
from pixhaven.imaging.formats import ImageHeader

IN_ISOLATE_DECODE_PIXELS = 12_000_000  # 48 MB as RGBA
INFLATE_PIECE = 1 << 20
PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
PILLOW_NAMES = {"jpeg": "JPEG", "gif": "GIF", "webp": "WEBP", "avif": "AVIF"}


class TooLargeToDecode(Exception):
    """Pillow's own decompression-bomb guard tripped (only when limits are set above it)."""


def verify_decodes(data: bytes, header: ImageHeader) -> None:
    """Raise FormatError unless the whole image decodes."""
    if header.format == "png":
        verify_png(data)
    elif header.format == "jpeg" or (
        header.frame_pixels <= IN_ISOLATE_DECODE_PIXELS and _pillow_has(header.format)
    ):
        _pillow_decode(data, header.format)


def _pillow_has(fmt: str) -> bool:
    from PIL import features

    return fmt == "gif" or bool(features.check_module(fmt))


def _pillow_decode(data: bytes, fmt: str) -> None:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PILLOW_NAMES[fmt]]) as image:
                if fmt == "jpeg":
                    image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                for index in range(getattr(image, "n_frames", 1)):
                    image.seek(index)
                    image.load()
    except Image.DecompressionBombError:
        raise TooLargeToDecode() from None
    except Exception as exc:  # Pillow raises many types on corrupt data
        raise FormatError(f"{fmt.upper()} image data is corrupt or truncated ({exc})") from None


def verify_png(data: bytes) -> None:
    view = memoryview(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if depth not in PNG_DEPTHS.get(colour, ()) or interlace > 1:
        raise FormatError("PNG header declares an invalid bit depth or colour type")
    bits = depth * PNG_CHANNELS[colour]

    def layout(w: int, h: int) -> list[tuple[int, int]]:
        passes = ADAM7 if interlace else ((0, 0, 1, 1),)
        sizes = [((w - x0 + dx - 1) // dx, (h - y0 + dy - 1) // dy) for x0, y0, dx, dy in passes]
        return [(1 + (pw * bits + 7) // 8, ph) for pw, ph in sizes if pw > 0 and ph > 0]

    stream, frame, seen_image = None, None, False
    for kind, start, end in png_chunks(data):
        if zlib.crc32(view[start + 4 : end - 4]) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise FormatError(f"PNG chunk {kind.decode('latin-1')!r} is corrupt (bad CRC)")
        if kind == b"IDAT":
            if stream is None or stream.kind != kind:
                stream = _Inflater(kind, layout(width, height))
            stream.feed(view[start + 8 : end - 4])
            seen_image = True
        elif kind == b"fcTL":
            if stream is not None:
                stream.finish()
            stream = None
            frame = struct.unpack(">II", data[start + 12 : start + 20])
        elif kind == b"fdAT":
            if stream is None:
                if frame is None:
                    raise FormatError("APNG frame data without a frame header")
                stream = _Inflater(kind, layout(*frame))
            stream.feed(view[start + 12 : end - 4])
        elif kind == b"IEND" and stream is not None:
            stream.finish()
    if not seen_image:
        raise FormatError("PNG contains no image data")


class _Inflater:
    """One zlib stream of PNG image data, checked against its expected row layout."""

    def __init__(self, kind: bytes, segments: list[tuple[int, int]]):
        self.kind = kind
        self.segments = segments  # (row stride incl. filter byte, rows) per interlace pass
        self.expected = sum(stride * rows for stride, rows in segments)
        self.total = self.index = self.offset = 0
        self.zlib = zlib.decompressobj()

    def feed(self, piece) -> None:
        try:
            self._check(self.zlib.decompress(piece, INFLATE_PIECE))
            while self.zlib.unconsumed_tail:
                self._check(self.zlib.decompress(self.zlib.unconsumed_tail, INFLATE_PIECE))
        except zlib.error:
            raise FormatError("PNG image data is corrupt (bad compressed data)") from None

    def finish(self) -> None:
        try:
            self._check(self.zlib.flush())
        except zlib.error:
            raise FormatError("PNG image data is corrupt (bad compressed data)") from None
        if not self.zlib.eof or self.total != self.expected:
            raise FormatError("PNG image data is truncated")

    def _check(self, out: bytes) -> None:
        self.total += len(out)
        if self.total > self.expected:
            raise FormatError("PNG image data is longer than its header declares")
        pos = 0
        while pos < len(out):
            stride, rows = self.segments[self.index]
            take = min(stride * rows - self.offset, len(out) - pos)
            first = -self.offset % stride  # distance to the next row's filter-type byte
            if first < take and max(out[pos + first : pos + take : stride]) > 4:
                raise FormatError("PNG image data is corrupt (invalid row filter)")
            pos += take
            self.offset += take
            if self.offset == stride * rows:
                self.index, self.offset = self.index + 1, 0
