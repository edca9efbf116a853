"""Reading image files without decoding them: type from magic bytes, then dimensions,
frame count, EXIF orientation and the facts the pipeline acts on, from the headers.

Pure Python, no Pillow: this is what lets the upload pipeline refuse a decompression bomb
from its header, before a single pixel is decoded, on any runtime.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pixhaven.imaging.containers import (
    FormatError,
    avif_meta,
    gif_blocks,
    jpeg_segments,
    need,
    png_chunks,
    riff_chunks,
)

FORMATS = {  # format → (extension, content type)
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "avif": ("avif", "image/avif"),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AVIF_BRANDS = {b"avif", b"avis"}
# SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
JPEG_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


@dataclass
class ImageHeader:
    format: str
    width: int  # as stored, before any orientation is applied
    height: int
    frame_count: int = 1
    frame_pixels: int = 0  # the largest single frame/canvas area (decoders allocate this)
    components: int = 3  # JPEG colour components (4 = CMYK/YCCK)
    orientation: int = 1  # EXIF orientation (1–8), 1 when absent
    rotated: bool = False  # AVIF `irot` of 90/270: displayed with width and height swapped
    progressive: bool = False  # JPEG: progressive coding (decoders buffer the whole frame)
    private_items: bool = False  # AVIF carrying EXIF/XMP as `Exif`/`mime` items

    @property
    def total_pixels(self) -> int:
        return self.frame_pixels * self.frame_count


def sniff(data: bytes) -> str | None:
    """The format named by the file's magic bytes, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == PNG_SIGNATURE:
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and len(data) >= 16:
        size = struct.unpack(">I", data[:4])[0]
        brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(size, 64), 4)}
        if brands & AVIF_BRANDS:
            return "avif"
    return None


def looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in head


# -- JPEG -----------------------------------------------------------------------------------


def _jpeg_header(data: bytes) -> ImageHeader:
    header = None
    orientation = 0
    for marker, start, end in jpeg_segments(data):
        if marker in JPEG_SOF and header is None:
            need(data, start + 10, "JPEG")
            height, width = struct.unpack(">HH", data[start + 5 : start + 9])
            header = ImageHeader("jpeg", width, height, components=data[start + 9])
            header.progressive = marker in JPEG_PROGRESSIVE
        elif marker == 0xE1 and not orientation and data[start + 4 : start + 10] == b"Exif\0\0":
            orientation = exif_orientation(data[start + 10 : end])
    if header is None:
        raise FormatError("JPEG has no frame header")
    header.orientation = orientation or 1
    return header


def exif_orientation(tiff: bytes) -> int:
    """Orientation tag (0x0112) of IFD0 in a TIFF/EXIF block; 1 when absent or unreadable."""
    if tiff[:6] == b"Exif\0\0":
        tiff = tiff[6:]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 1
    ifd = struct.unpack(order + "I", tiff[4:8])[0]
    if ifd + 2 > len(tiff):
        return 1
    count = struct.unpack(order + "H", tiff[ifd : ifd + 2])[0]
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(tiff):
            break
        if struct.unpack(order + "H", tiff[entry : entry + 2])[0] == 0x0112:
            value = struct.unpack(order + "H", tiff[entry + 8 : entry + 10])[0]
            return value if 1 <= value <= 8 else 1
    return 1


# -- PNG ------------------------------------------------------------------------------------


def _png_header(data: bytes) -> ImageHeader:
    chunks = png_chunks(data)
    kind, start, end = next(chunks)
    if kind != b"IHDR" or end - start != 25:
        raise FormatError("PNG does not start with a valid IHDR chunk")
    width, height = struct.unpack(">II", data[start + 8 : start + 16])
    header = ImageHeader("png", width, height)
    # Only the header and the chunks before the image data matter here (acTL, eXIf).
    for kind, start, end in chunks:
        if kind == b"acTL":
            header.frame_count = max(1, struct.unpack(">I", data[start + 8 : start + 12])[0])
        elif kind == b"eXIf":
            header.orientation = exif_orientation(data[start + 8 : end - 4])
        elif kind == b"IDAT":
            break
    return header


# -- GIF ------------------------------------------------------------------------------------


def _gif_header(data: bytes) -> ImageHeader:
    blocks = gif_blocks(data)
    _, _, _, (width, height) = next(blocks)
    frames, largest = 0, width * height
    for kind, _, _, extra in blocks:
        if kind == "image":
            left, top, w, h = extra
            frames += 1
            # Pillow grows the canvas to hold a frame that sticks out of the screen.
            largest = max(largest, max(width, left + w) * max(height, top + h))
    if frames == 0:
        raise FormatError("GIF contains no image")
    header = ImageHeader("gif", width, height, frame_count=frames)
    header.frame_pixels = largest
    return header


# -- WebP -----------------------------------------------------------------------------------


def _webp_header(data: bytes) -> ImageHeader:
    width = height = None
    frames, orientation = 0, 1
    for fourcc, start, end in riff_chunks(data):
        body = start + 8
        if fourcc == b"VP8X" and end - body >= 10:
            width = 1 + int.from_bytes(data[body + 4 : body + 7], "little")
            height = 1 + int.from_bytes(data[body + 7 : body + 10], "little")
        elif fourcc == b"ANMF":
            frames += 1
        elif width is None and fourcc == b"VP8 " and end - body >= 10:
            if data[body + 3 : body + 6] != b"\x9d\x01\x2a":
                raise FormatError("WebP (VP8) frame header is corrupt")
            w, h = struct.unpack("<HH", data[body + 6 : body + 10])
            width, height = w & 0x3FFF, h & 0x3FFF
        elif width is None and fourcc == b"VP8L" and end - body >= 5:
            if data[body] != 0x2F:
                raise FormatError("WebP (lossless) header is corrupt")
            bits = struct.unpack("<I", data[body + 1 : body + 5])[0]
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif fourcc == b"EXIF":
            orientation = exif_orientation(data[body:end])
    if width is None or height is None:  # set together
        raise FormatError("WebP contains no image")
    return ImageHeader("webp", width, height, frame_count=max(1, frames), orientation=orientation)


def _avif_header(data: bytes) -> ImageHeader:
    meta = avif_meta(data)
    if not meta["width"] or not meta["height"]:
        raise FormatError("AVIF has no image size (ispe) for its primary image")
    for (width, height), (coded_width, coded_height) in meta["av1_sizes"]:
        if width > coded_width or height > coded_height:
            raise FormatError(
                f"AVIF declares {width}x{height} pixels but its AV1 data holds at most "
                f"{coded_width}x{coded_height}"
            )
    return ImageHeader(
        "avif",
        meta["width"],
        meta["height"],
        frame_count=meta["frames"],
        rotated=meta["rotated"],
        private_items=bool({b"Exif", b"mime"} & set(meta["item_types"])),
    )


_READERS = {
    "jpeg": _jpeg_header,
    "png": _png_header,
    "gif": _gif_header,
    "webp": _webp_header,
    "avif": _avif_header,
}


def read_header(data: bytes, fmt: str) -> ImageHeader:
    """Dimensions and frame count from the header of a file already sniffed as `fmt`."""
    try:
        header = _READERS[fmt](data)
    except (struct.error, IndexError, StopIteration):
        raise FormatError(f"{fmt.upper()} header is corrupt or truncated") from None
    if header.width < 1 or header.height < 1:
        raise FormatError("image has a zero width or height")
    header.frame_pixels = max(header.frame_pixels, header.width * header.height)
    return header
