"""Full decode checks with bounded memory (a Worker isolate has 128 MB).

- PNG: every chunk CRC, then the image data inflated in 1 MB pieces and counted against
  what IHDR (and each APNG frame's fcTL) declares, row filter types checked on the way;
  no pixel buffer is ever built, whatever the image size.
- JPEG: first a bound no coded data can beat: a Huffman-coded block costs at least one bit
  in the scan that carries its DC value (two in a sequential scan), so a scan shorter than
  that for the size its frame header declares is refused before any decode. Then decoded by
  Pillow in draft mode (libjpeg's 1/8 DCT scaling): every coefficient of every scan is still
  read, so truncation and corruption surface, at 1/64 of the memory. libjpeg pads a scan
  that ends early at a marker with grey and only warns; for a single-scan (baseline) image
  the check decodes it without its end-of-image marker, so data that runs out makes the
  decoder ask for more, which is an error, instead of padding.
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

from pixhaven.imaging.containers import FormatError, jpeg_segments, jpeg_tail, png_chunks
from pixhaven.imaging.formats import ImageHeader

IN_ISOLATE_DECODE_PIXELS = 12_000_000  # 48 MB as RGBA
INFLATE_PIECE = 1 << 20
INFLATE_INPUT = 1 << 16  # compressed bytes handed to zlib at a time
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
JPEG_SEQUENTIAL_HUFFMAN = {0xC0, 0xC1}
JPEG_PROGRESSIVE_HUFFMAN = {0xC2}
JPEG_LOSSLESS_HUFFMAN = {0xC3}
# What replaces the end-of-image marker in the decode check of a single-scan JPEG: enough
# zero bytes for libjpeg's bit-buffer lookahead (at most 57 bits) past the last block, so a
# complete image decodes fully and one whose data runs out needs more than there is.
JPEG_LOOKAHEAD_PAD = b"\0" * 8


class TooLargeToDecode(Exception):
    """Pillow's own decompression-bomb guard tripped (only when limits are set above it)."""


def decode_check_pixels(header: ImageHeader) -> int:
    """About how many pixels' worth of memory verify_decodes holds for this image: none for
    PNG (streamed), 1/64 for a baseline JPEG (draft), the whole frame for a progressive one
    (libjpeg keeps every coefficient until the last scan), one frame for the others when
    Pillow decodes them here."""
    if header.format == "png":
        return 0
    if header.format == "jpeg":
        if header.progressive:
            return header.width * header.height
        return _ceil(header.width, 8) * _ceil(header.height, 8)
    if header.frame_pixels <= IN_ISOLATE_DECODE_PIXELS and _pillow_has(header.format):
        return header.frame_pixels
    return 0


def verify_decodes(data: bytes, header: ImageHeader) -> None:
    """Raise FormatError unless the whole image decodes."""
    if header.format == "png":
        verify_png(data)
    elif header.format == "jpeg":
        verify_jpeg(data)
    elif header.frame_pixels <= IN_ISOLATE_DECODE_PIXELS and _pillow_has(header.format):
        _pillow_decode(data, header.format)


def _pillow_has(fmt: str) -> bool:
    from PIL import features

    return fmt == "gif" or bool(features.check_module(fmt))


def _pillow_decode(data: bytes, fmt: str, frames: range | None = None) -> None:
    """Decode `frames` (default: every frame) with Pillow, JPEG in draft mode."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PILLOW_NAMES[fmt]]) as image:
                for index in frames if frames is not None else range(getattr(image, "n_frames", 1)):
                    image.seek(index)
                    if fmt == "jpeg":
                        image.draft(
                            image.mode, (max(1, image.width // 8), max(1, image.height // 8))
                        )
                    image.load()
    except Image.DecompressionBombError:
        raise TooLargeToDecode() from None
    except Exception as exc:  # Pillow raises many types on corrupt data
        raise FormatError(f"{fmt.upper()} image data is corrupt or truncated ({exc})") from None


def verify_jpeg(data: bytes) -> None:
    """The coded-data bound, then the decode check (module docstring)."""
    checked = jpeg_decode_input(data)
    _pillow_decode(checked, "jpeg", range(1))
    others = _other_frames(data)  # a multi-picture (MPO) JPEG's further images
    if others:
        _pillow_decode(data, "jpeg", others)


def jpeg_decode_input(data: bytes) -> bytes:
    """The bytes the decode check feeds libjpeg: for a single-scan image, the data without
    its end-of-image marker (module docstring), else the file. Raises FormatError when a
    scan is shorter than any coding of the pixels the frame header declares: a check
    without decoding, so it runs before anything is budgeted or decoded."""
    sof = width = height = 0
    components: dict[int, tuple[int, int]] = {}  # id → (horizontal, vertical) sampling
    sos_start = None
    for marker, start, _end in jpeg_segments(data):
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and not sof:
            sof = marker
            height, width = struct.unpack(">HH", data[start + 5 : start + 9])
            for i in range(data[start + 9]):
                at = start + 10 + 3 * i
                components[data[at]] = (data[at + 1] >> 4, data[at + 1] & 15)
        elif marker == 0xDA:
            sos_start = start
    if not sof or sos_start is None or not components:
        raise FormatError("JPEG has no frame header or no image data")
    max_h = max(h for h, _ in components.values()) or 1
    max_v = max(v for _, v in components.values()) or 1
    scans = []
    eoi = len(data)
    for marker, start, header_end, end in jpeg_tail(data, sos_start):
        if marker == 0xDA:
            count = data[start + 4]
            ids = [data[start + 5 + 2 * i] for i in range(count)]
            ss, ah = data[start + 5 + 2 * count], data[start + 7 + 2 * count] >> 4
            scans.append(ids)
            needed = _scan_min_bits(sof, ids, ss, ah, width, height, components, max_h, max_v)
            if (end - header_end) * 8 < needed:
                raise FormatError(
                    f"JPEG image data is truncated: {width}x{height} pixels need at least "
                    f"{(needed + 7) // 8} bytes of coded data in scan {len(scans)}, "
                    f"the file has {end - header_end}"
                )
        elif marker == 0xD9:
            eoi = start
    single_scan = sof in JPEG_SEQUENTIAL_HUFFMAN and len(scans) == 1
    if single_scan and set(scans[0]) == set(components):
        return data[:eoi] + JPEG_LOOKAHEAD_PAD
    return data


def _other_frames(data: bytes) -> range:
    """The frames after the first of a multi-picture (MPO) JPEG; empty for a plain one."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            return range(1, getattr(image, "n_frames", 1))
    except Exception as exc:
        raise FormatError(f"JPEG image data is corrupt or truncated ({exc})") from None


def _scan_min_bits(
    sof: int,
    ids: list[int],
    ss: int,
    ah: int,
    width: int,
    height: int,
    components: dict[int, tuple[int, int]],
    max_h: int,
    max_v: int,
) -> int:
    """The fewest bits any valid coding of this scan can take (0 when there is no bound)."""
    if sof in JPEG_SEQUENTIAL_HUFFMAN:
        per_unit, unit = 2, 8  # a DC code and at least one AC code (EOB) per block
    elif sof in JPEG_PROGRESSIVE_HUFFMAN:
        per_unit, unit = (1 if ss == 0 else 0), 8  # a DC code or a DC refinement bit
    elif sof in JPEG_LOSSLESS_HUFFMAN:
        per_unit, unit = 1, 1  # a difference code per sample
    else:
        return 0  # arithmetic coding: no lower bound per block
    if per_unit == 0 or any(i not in components for i in ids):
        return 0
    if len(ids) == 1:
        h, v = components[ids[0]]
        columns = _ceil(_ceil(width * h, max_h), unit)
        rows = _ceil(_ceil(height * v, max_v), unit)
        return per_unit * columns * rows
    mcus = _ceil(width, unit * max_h) * _ceil(height, unit * max_v)
    return per_unit * mcus * sum(components[i][0] * components[i][1] for i in ids)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


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
        # In slices of the chunk: zlib keeps the input it has not consumed yet as a new bytes
        # object (`unconsumed_tail`), so one 70 MB IDAT fed whole would be copied again on
        # every 1 MB of output.
        try:
            for start in range(0, len(piece), INFLATE_INPUT):
                self._check(
                    self.zlib.decompress(piece[start : start + INFLATE_INPUT], INFLATE_PIECE)
                )
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
