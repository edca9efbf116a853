"""Processing a direct upload too large for the Worker to hold: read through streams.

PixelFlare's two-step upload with an R2 presigned URL puts the bytes straight into the
bucket (`uploads/{id}`), up to DIRECT_UPLOAD_MAX_BYTES (100 MB). One up to MAX_UPLOAD_BYTES
takes the pipeline like any upload (pipeline.py). A larger one cannot be read into an
isolate's 128 MB, so `process_stored_upload` works on the object where it lies:

1. the first MiB (one ranged read): type by magic bytes (415), and for a JPEG its header
   segments up to the first scan;
2. one pass over the body, chunk by chunk: the SHA-256 of the bytes, and a container walk
   (imaging/stream_walk.py) that finds what the in-memory stripper would keep — a PNG's
   chunks, where a JPEG's image data ends; then the header and the pixel limit (413), all
   before anything is decoded;
3. through env.IMAGES, each from its own read of the object: the placeholder (the decode
   check: an image Cloudflare Images cannot decode is a 400) and the WebP/AVIF versions;
4. the stored original is put by the store (store.py) as a splice of the object: the
   kept header bytes and byte ranges of the object, streamed into the new key with their
   total length known (`interop.fixed_length_stream`), never held.

Every read is pinned to the ETag the object had when processing began: a client PUTting
again to the same URL meanwhile makes the reads fail (409), so what is stored is what was
checked. JPEG and PNG are processed this way; a larger GIF, WebP or AVIF, or a JPEG/PNG
whose pixels would have to be re-encoded (an EXIF orientation to apply, CMYK), is a 413
that says so (README, "Upload limits").
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pixhaven.errors import ApiError
from pixhaven.imaging.containers import FormatError
from pixhaven.imaging.formats import FORMATS, PNG_SIGNATURE, ImageHeader, read_header
from pixhaven.imaging.inspect import NAMES, allowed_format, check_pixel_limit
from pixhaven.imaging.metadata import jpeg_kept_header, png_kept_spans
from pixhaven.imaging.stream_walk import MAX_READ, StreamWalk, jpeg_image_end, png_chunk_walk
from pixhaven.interop import byte_chunks, fixed_length_stream
from pixhaven.services.images.pipeline import (
    ProcessedImage,
    UploadOptions,
    check_options,
    conversions_wanted,
    processed_image,
)

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.bindings.js import ReadableStream
    from pixhaven.bindings.r2 import R2Bucket, R2HTTPMetadata, R2ObjectBody, R2Range

PREFIX_BYTES = 1 << 20  # where a JPEG's header segments must end
STREAMED_FORMATS = ("jpeg", "png")
# What a PNG header reads (formats._png_header): kept whole by the walk when small.
PNG_HEADER_CHUNKS = frozenset({b"IHDR", b"acTL", b"eXIf"})
EMPTY_IDAT = struct.pack(">I", 0) + b"IDAT" + struct.pack(">I", 0x35AF061E)

Piece = bytes | tuple[int, int]  # literal bytes, or the [start, end) bytes of the object


@dataclass
class ObjectSplice:
    """A stored original made of pieces of an object in the bucket, put by streaming."""

    key: str  # the object the ranges are read from
    etag: str  # ... as it was when it was checked
    pieces: list[Piece]

    def __len__(self) -> int:
        return sum(
            len(piece) if isinstance(piece, bytes) else piece[1] - piece[0] for piece in self.pieces
        )

    async def put(
        self,
        bucket: R2Bucket,
        key: str,
        *,
        http_metadata: R2HTTPMetadata,
        custom_metadata: dict[str, str],
    ) -> None:
        """Put the splice at `key`: the pieces streamed in order, ranges read from the
        pinned object as they are needed."""
        readable, writer = fixed_length_stream(len(self))

        async def pump() -> None:
            try:
                for piece in self.pieces:
                    if isinstance(piece, bytes):
                        await writer.write(piece)
                        continue
                    start, end = piece
                    body = await pinned_body(bucket, self.key, self.etag, start, end - start)
                    async for chunk in body:
                        await writer.write(chunk)
                await writer.close()
            except BaseException as exc:
                await writer.abort(str(exc))
                raise

        pumping = asyncio.ensure_future(pump())
        try:
            await bucket.put(
                key, readable, httpMetadata=http_metadata, customMetadata=custom_metadata
            )
        except BaseException:
            pumping.cancel()
            raise
        await pumping


async def pinned_body(
    bucket: R2Bucket, key: str, etag: str, offset: int = 0, length: int | None = None
) -> ReadableStream:
    """The body of `key` (or of its bytes [offset, offset + length)) as long as it is the
    object that was checked; a 409 once the client has replaced or removed it."""
    options: dict[str, Any] = {"onlyIf": {"etagMatches": etag}}
    if length is not None:
        byte_range: R2Range = {"offset": offset, "length": length}
        options["range"] = byte_range
    obj: R2ObjectBody | None = await bucket.get(key, **options)
    if obj is None or not hasattr(obj, "body"):
        raise ApiError(
            409,
            "The uploaded object changed while it was processed: upload it again",
            code="CONFLICT",
            details={"key": key},
        )
    return obj.body


class _Streams:
    """A ByteSource over streams opened beforehand, one per `stream()` asked."""

    def __init__(self, streams: list[ReadableStream]):
        self._streams = streams

    def stream(self) -> ReadableStream:
        return self._streams.pop()


def too_large_to_stream(settings, fmt: str, why: str) -> ApiError:
    limit = settings.max_upload_bytes
    return ApiError(
        413,
        f"This {NAMES[fmt]} image is larger than {limit / 1048576:g} MB (MAX_UPLOAD_BYTES) "
        f"and {why}: only JPEG and PNG files past that size can be processed where they "
        "lie, without re-encoding. Upload a smaller file.",
        code="FILE_TOO_LARGE",
        details={"format": fmt, "maxInWorkerBytes": limit, "reason": why},
    )


async def process_stored_upload(
    env: Env, key: str, settings, options: UploadOptions | None = None
) -> ProcessedImage:
    """Process the image stored at `key` through streams (see the module docstring)."""
    options = options or UploadOptions()
    quality, bounds = check_options(options, settings)
    bucket = env.BUCKET
    head = await bucket.head(key)
    if head is None:
        raise ApiError(409, "The uploaded object is gone", code="CONFLICT", details={"key": key})
    size, etag = head.size, head.etag
    prefix = await _read_all(await pinned_body(bucket, key, etag, 0, min(size, PREFIX_BYTES)))
    fmt = allowed_format(prefix)
    if fmt not in STREAMED_FORMATS:
        raise too_large_to_stream(settings, fmt, "its format is not one processed as a stream")

    sha = hashlib.sha256()
    if fmt == "jpeg":
        try:
            header = read_header(prefix, "jpeg")
            spans, sos_start = jpeg_kept_header(prefix)
        except FormatError:
            raise too_large_to_stream(
                settings, fmt, f"its header segments run past the first {PREFIX_BYTES} bytes"
            ) from None
        walk = StreamWalk(jpeg_image_end(sos_start), "JPEG")
    else:
        walk = StreamWalk(png_chunk_walk(PNG_HEADER_CHUNKS, MAX_READ - 12), "PNG")
    async for data in byte_chunks(await pinned_body(bucket, key, etag)):
        sha.update(data)
        walk.feed(data)
    try:
        walked = walk.finish()
        if fmt == "jpeg":
            pieces: list[Piece] = [b"\xff\xd8", *(prefix[s:e] for s, e in spans)]
            pieces.append((sos_start, walked))
        else:
            chunks, small = walked
            header = _png_header(chunks, small, settings)
            pieces = [PNG_SIGNATURE, *png_kept_spans(chunks)]
    except FormatError as exc:
        raise ApiError(400, f"Invalid {NAMES[fmt]} image: {exc}", code="INVALID_REQUEST") from None
    check_pixel_limit(header, settings)
    if header.orientation != 1:
        raise too_large_to_stream(
            settings, fmt, f"its EXIF orientation ({header.orientation}) needs its pixels rotated"
        )
    if fmt == "jpeg" and header.components == 4:
        raise too_large_to_stream(settings, fmt, "it is a CMYK JPEG, which is re-encoded")

    # One read of the object for each env.IMAGES conversion (the placeholder, the versions).
    content_type = FORMATS[fmt][1]
    wanted = conversions_wanted(content_type, header.frame_count > 1, options)
    streams = [await pinned_body(bucket, key, etag) for _ in range(1 + len(wanted))]
    original = ObjectSplice(key, etag, pieces)
    return await processed_image(
        env, _Streams(streams), header, original, sha.hexdigest(), options, quality, bounds
    )


async def _read_all(stream: ReadableStream) -> bytes:
    return b"".join([chunk async for chunk in byte_chunks(stream)])


def _png_header(
    chunks: list[tuple[bytes, int, int]], small: dict[int, bytes], settings
) -> ImageHeader:
    """The header formats.read_header reads of the whole file, from the walk: the chunks
    before the first IDAT in order (those it reads as they are, the others empty), then an
    empty IDAT where it stops."""
    before: list[bytes] = []
    for kind, start, _ in chunks:
        if kind == b"IDAT":
            break
        if kind in PNG_HEADER_CHUNKS and start not in small:
            raise too_large_to_stream(
                settings, "png", f"its {kind.decode('latin-1')} chunk is over {MAX_READ} bytes"
            )
        before.append(small.get(start) or struct.pack(">I", 0) + kind + bytes(4))
    return read_header(b"".join([PNG_SIGNATURE, *before, EMPTY_IDAT]), "png")
