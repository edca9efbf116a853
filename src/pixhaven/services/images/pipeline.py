"""The upload pipeline: the one path every uploaded image takes, whichever API it came by.

    processed = await process_upload(env, data, settings, UploadOptions(quality=80))

Steps, cheapest first, so hostile input is refused before it costs anything:
1. byte limit (413 FILE_TOO_LARGE); type from magic bytes only, allowlist JPEG, PNG, GIF,
   WebP, AVIF (415 INVALID_FILE_TYPE; SVG is named in the message);
2. header parse without decoding (image_formats): dimensions and frame count; the pixel
   limit counts every frame (413), so a decompression bomb never reaches a decoder;
3. full decode check with bounded memory (image_verify): truncated or corrupt → 400; what
   it holds decoded is leased from the decoded-pixel budget (decode_budget) meanwhile;
4. the stored original: private metadata stripped losslessly (image_metadata) when the
   pixels can stay as they are; re-encoded through env.IMAGES (which applies the EXIF
   orientation and drops all metadata) when the orientation is not 1, for CMYK JPEGs and
   for AVIFs carrying EXIF/XMP items;
5. through env.IMAGES, concurrently: the ThumbHash placeholder (from a ≤100 px PNG), and,
   for still images, the WebP and AVIF versions bounded by max_width/max_height. A still
   original that step 4 re-encodes is made in the same breath, from the upload like them,
   so the four share one decode.
Errors are ApiError with a message CattoPic clients can show as is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pixhaven.decode_budget import BUDGET
from pixhaven.errors import ApiError
from pixhaven.imaging.formats import (
    FORMATS,
    FormatError,
    ImageHeader,
    read_header,
    sniff,
)
from pixhaven.imaging.inspect import (
    check_decodes,
    decode_check_pixels,
    inspect_image_bytes,
    invalid_image_error,
)
from pixhaven.imaging.metadata import STRIPPERS
from pixhaven.imaging.placeholder import MAX_SIDE as PLACEHOLDER_SIDE
from pixhaven.imaging.placeholder import thumbhash_from_png
from pixhaven.interop import ByteSource, byte_source
from pixhaven.render.fonts import LIBRARY as FONT_LIBRARY

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.bindings.images import ImageOutputOptions
    from pixhaven.services.images.streamed_upload import ObjectSplice

ORIGINAL_QUALITY = 92  # when the original itself has to be re-encoded
MAX_OUTPUT_SIDE = 12_000  # Cloudflare Images' largest output side


@dataclass
class UploadOptions:
    quality: int | None = None  # WebP/AVIF quality, default settings.image_quality
    max_width: int | None = None  # bound for the converted versions (never upscale)
    max_height: int | None = None
    generate_webp: bool = True
    generate_avif: bool = True
    preserve_animation: bool = True  # False: animated uploads are stored as their 1st frame


@dataclass
class ProcessedImage:
    format: str  # "jpeg" | "png" | "gif" | "webp" | "avif"
    extension: str  # "jpg" | "png" | "gif" | "webp" | "avif"
    content_type: str  # "image/jpeg", ...
    width: int  # upright (after EXIF orientation)
    height: int
    orientation: str  # "landscape" if width >= height else "portrait"
    animated: bool
    frame_count: int
    # stored original: upright, private metadata removed; for a direct upload too large to
    # hold, the pieces of the uploaded object that make it (streamed_upload.py)
    original: bytes | ObjectSplice
    content_hash: str  # sha256 hex of the bytes as uploaded
    # sha256 hex of the bytes as uploaded and of the options that made the stored objects
    # from them: uploads with the same digest may share their objects (see `digest`).
    objects_digest: str
    placeholder: str  # ThumbHash, base64
    webp: bytes | None  # None for animated images or when not requested
    avif: bytes | None


async def process_upload(
    env: Env, data: bytes, settings, options: UploadOptions | None = None
) -> ProcessedImage:
    if options is None:  # one default instance shared by every call would be mutable state
        options = UploadOptions()
    quality, bounds = check_options(options, settings)
    data = data if isinstance(data, bytes) else bytes(data)
    # Processing holds about twice the upload at its peak, and a cached face costs about
    # twice its file once parsed (bench/worker_memory.py; the library counts files): faces
    # give way to a large upload first. A 15 MB upload beside a CJK face passed 110 MB.
    FONT_LIBRARY.make_room(4 * len(data))
    header = inspect_image_bytes(data, settings)
    # The decode check runs in process (on the Worker too): its pixels come from the budget.
    async with BUDGET.account(settings.max_decoded_pixels, settings.decode_wait_seconds) as pixels:
        await pixels.lease(decode_check_pixels(header), "image")
        check_decodes(data, header)
    content_hash = hashlib.sha256(data).hexdigest()
    fmt = header.format
    content_type = FORMATS[fmt][1]

    if must_reencode(header) and header.frame_count == 1:
        # The upright original is made with its versions, from the upload like them, so all
        # of them share one decode (made from the re-encoded original, they would decode
        # the image a second time: every portrait photo from a phone).
        source = byte_source(data)
        del data
        return await processed_image(
            env, source, header, None, content_hash, options, quality, bounds
        )
    original, header = await _stored_original(env, data, header)
    del data  # from here on only the stored original is needed
    if header.frame_count > 1 and not options.preserve_animation:
        original = await _convert(
            env, byte_source(original), None, {"format": content_type, "anim": False}
        )
        header = _reread(original, fmt)
    # One copy of the original for every conversion of it (on Workers, in JS memory).
    return await processed_image(
        env, byte_source(original), header, original, content_hash, options, quality, bounds
    )


async def processed_image(
    env: Env,
    source: ByteSource,
    header: ImageHeader,
    original: bytes | ObjectSplice | None,
    content_hash: str,
    options: UploadOptions,
    quality: int,
    bounds: dict,
) -> ProcessedImage:
    """The end of both upload paths (this one and streamed_upload.py): once the stored
    original and its header are known, the placeholder and versions are made from
    `source` through env.IMAGES (`derived_images`) and the result is put together.
    `original` None: `source` is the upload of a still image whose original must be
    re-encoded (`must_reencode`), made in the same breath as the versions."""
    fmt = header.format
    extension, content_type = FORMATS[fmt]
    animated = header.frame_count > 1
    reencode = reencoded_output(header) if original is None else None
    placeholder, versions, reencoded = await derived_images(
        env, source, content_type, animated, options, quality, bounds, reencode
    )
    if original is None:
        assert reencoded is not None  # asked for just above
        original, header = reencoded, _reread(reencoded, fmt)
    width, height = (
        (header.height, header.width) if header.rotated else (header.width, header.height)
    )
    return ProcessedImage(
        format=fmt,
        extension=extension,
        content_type=content_type,
        width=width,
        height=height,
        orientation="landscape" if width >= height else "portrait",
        animated=animated,
        frame_count=header.frame_count,
        original=original,
        content_hash=content_hash,
        objects_digest=digest(content_hash, options, quality, bounds),
        placeholder=placeholder,
        webp=versions.get("image/webp"),
        avif=versions.get("image/avif"),
    )


def conversions_wanted(content_type: str, animated: bool, options: UploadOptions) -> list[str]:
    """The versions to make through env.IMAGES. A version in the original's own format would
    be stored under the original's key (images/{orientation}/{id}.{ext}) and replace it: the
    original stands for that version. Animated images keep only their original."""
    if animated:
        return []
    return [
        mime
        for flag, mime in (
            (options.generate_webp, "image/webp"),
            (options.generate_avif, "image/avif"),
        )
        if flag and mime != content_type
    ]


async def derived_images(
    env: Env,
    source: ByteSource,
    content_type: str,
    animated: bool,
    options: UploadOptions,
    quality: int,
    bounds: dict,
    original_output: ImageOutputOptions | None = None,
) -> tuple[str, dict[str, bytes], bytes | None]:
    """Through env.IMAGES, concurrently: the ThumbHash placeholder, the versions
    `conversions_wanted` names ({mime: bytes}) and, when `original_output` is given, the
    original re-encoded so, each from its own `source.stream()`. Every conversion runs to
    its end before the first error is raised: none outlives the upload."""
    wanted = conversions_wanted(content_type, animated, options)
    jobs: list[Awaitable[str | bytes]] = [_placeholder(env, source)]
    jobs += [_convert(env, source, bounds, {"format": mime, "quality": quality}) for mime in wanted]
    if original_output is not None:
        jobs.append(_convert(env, source, None, original_output))
    # The placeholder (str), the versions (bytes), the original (bytes).
    results: list[Any] = await asyncio.gather(*jobs, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    reencoded = results.pop() if original_output is not None else None
    return results[0], dict(zip(wanted, results[1:], strict=True)), reencoded


def digest(content_hash: str, options: UploadOptions, quality: int, bounds: dict) -> str:
    """What decides the stored objects: the bytes and every option the steps above read
    (quality as resolved from the settings). Same digest, same objects — up to an encoder
    that is not byte-for-byte deterministic, which is why uploads share by this recipe and
    not by comparing encoder outputs (services/images/store.py). Bump `v` whenever the
    pipeline changes what it stores."""
    recipe = {
        # 2: a re-encoded original's versions are made from the upload, not from it
        "v": 2,
        "bytes": content_hash,
        "quality": quality,
        "bounds": bounds,
        "webp": options.generate_webp,
        "avif": options.generate_avif,
        "animation": options.preserve_animation,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def _reread(data: bytes, fmt: str) -> ImageHeader:
    if sniff(data) != fmt:
        raise RuntimeError(f"env.IMAGES returned {sniff(data)} where {fmt} was asked for")
    return read_header(data, fmt)


def must_reencode(header: ImageHeader) -> bool:
    """Whether the original's pixels must change to be stored: an EXIF orientation to
    apply, a CMYK JPEG, an AVIF with EXIF/XMP items (imaging/metadata.py)."""
    return (
        header.orientation != 1
        or (header.format == "jpeg" and header.components == 4)
        or bool(header.private_items)
    )


def reencoded_output(header: ImageHeader) -> ImageOutputOptions:
    """How such an original is re-encoded: its own format, upright, without metadata."""
    output: ImageOutputOptions = {"format": FORMATS[header.format][1]}
    if header.format in ("jpeg", "webp", "avif"):
        output["quality"] = ORIGINAL_QUALITY
    return output


async def _stored_original(env: Env, data: bytes, header: ImageHeader):
    """The bytes to store as the original, and their header."""
    fmt = header.format
    if must_reencode(header):
        encoded = await _convert(env, byte_source(data), None, reencoded_output(header))
        return encoded, _reread(encoded, fmt)
    if fmt not in STRIPPERS:
        return data, header
    try:
        return STRIPPERS[fmt](data), header
    except FormatError as exc:
        raise invalid_image_error(fmt, exc) from None


async def _placeholder(env: Env, original: ByteSource) -> str:
    side = PLACEHOLDER_SIDE
    png = await _convert(
        env, original, {"width": side, "height": side, "fit": "scale-down"}, {"format": "image/png"}
    )
    return thumbhash_from_png(png)


async def _convert(env: Env, source: ByteSource, transform: dict | None, output: dict) -> bytes:
    """One env.IMAGES call; its input errors become 4xx ApiErrors."""
    try:
        builder = env.IMAGES.input(source.stream())  # a stream: workerd reads bytes as text
        if transform:
            builder = builder.transform(transform)
        result = await builder.output(output)
        return bytes(await result.response().bytes())
    except Exception as exc:
        mapped = _images_error(exc)
        if mapped is None:
            raise
        raise mapped from None


def _images_error(exc: Exception) -> ApiError | None:
    """Cloudflare Images errors read "IMAGES_TRANSFORM_ERROR 9412: ..."; 9401 (bad options)
    is our own bug and stays a 500, 9413 is too large, other 94xx are bad input."""
    match = re.search(r"IMAGES_\w+_ERROR (94\d\d)", str(exc))
    if match is None or match.group(1) == "9401":
        return None
    if match.group(1) == "9413":
        return ApiError(413, "Image too large to process", code="FILE_TOO_LARGE")
    return ApiError(
        400, "Invalid image: it could not be decoded (corrupt or truncated)", code="INVALID_REQUEST"
    )


def check_options(options: UploadOptions, settings) -> tuple[int, dict]:
    quality = settings.image_quality if options.quality is None else options.quality
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ApiError(400, "quality must be an integer from 1 to 100", code="INVALID_REQUEST")
    # Always bounded: a 20000x300 panorama passes the pixel limit but no WebP encoder
    # (16383 px a side) nor Cloudflare Images (12000) can output it at full size.
    bounds = {"width": MAX_OUTPUT_SIDE, "height": MAX_OUTPUT_SIDE, "fit": "scale-down"}
    for key, value in (("width", options.max_width), ("height", options.max_height)):
        if value in (None, 0):
            continue  # CattoPic sends 0 for "no limit"
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (1 <= value <= MAX_OUTPUT_SIDE)
        ):
            raise ApiError(
                400,
                f"max{key.title()} must be an integer from 1 to {MAX_OUTPUT_SIDE}",
                code="INVALID_REQUEST",
            )
        bounds[key] = value
    return quality, bounds  # scale-down never upscales
