"""Checking image bytes before any decode: size, type by magic bytes, header, pixel limit
(every frame counted), then a bounded-memory decode check. Errors are ApiError with a
message CattoPic clients can show as is."""

from __future__ import annotations

from pixhaven.errors import ApiError
from pixhaven.imaging.formats import (
    FormatError,
    ImageHeader,
    looks_like_svg,
    read_header,
    sniff,
)
from pixhaven.imaging.verify import (
    TooLargeToDecode,
    decode_check_pixels,
    jpeg_decode_input,
    verify_decodes,
)

__all__ = ["check_decodes", "check_image_bytes", "decode_check_pixels", "inspect_image_bytes"]

NAMES = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WebP", "avif": "AVIF"}
ALLOWED = "JPEG, PNG, GIF, WebP and AVIF"


def check_image_bytes(data: bytes, settings) -> ImageHeader:
    """Steps 1–3 alone, for image bytes that arrive other than by upload (remote component
    images): `settings` needs `max_upload_bytes` and `max_upload_pixels`. Raises ApiError."""
    header = inspect_image_bytes(data, settings)
    check_decodes(data, header)
    return header


def inspect_image_bytes(data: bytes, settings) -> ImageHeader:
    """Everything short of the decode check: limits, magic bytes, header, pixel limit. A
    caller holding a decode budget leases `decode_check_pixels(header)` before calling
    check_decodes."""
    if not data:
        raise ApiError(400, "The uploaded file is empty", code="INVALID_REQUEST")
    limit = settings.max_upload_bytes
    if len(data) > limit:
        raise ApiError(
            413,
            f"File too large: {len(data)} bytes exceeds the limit of "
            f"{limit} bytes ({limit / 1048576:g} MB)",
            code="FILE_TOO_LARGE",
            details={"size": len(data), "maxFileSize": limit},
        )
    fmt = allowed_format(data)
    header = parse_header(data, fmt)
    check_pixel_limit(header, settings)
    if fmt == "jpeg":
        try:  # the bound on coded data: no decode, so before any decode budget is asked
            jpeg_decode_input(data)
        except FormatError as exc:
            raise invalid_image_error(fmt, exc) from None
    return header


def allowed_format(data: bytes) -> str:
    """The format the file's magic bytes name (its first 4 KiB are enough), or the 415 of a
    file that is not one of the allowed image formats."""
    fmt = sniff(data)
    if fmt is not None:
        return fmt
    if looks_like_svg(data):
        raise ApiError(
            415,
            f"SVG files are not accepted (they can carry scripts); upload a {ALLOWED} image",
            code="INVALID_FILE_TYPE",
        )
    raise ApiError(
        415,
        f"Unsupported file type: the file is not a {ALLOWED} image",
        code="INVALID_FILE_TYPE",
        details={"supportedFormats": ["jpeg", "png", "gif", "webp", "avif"]},
    )


def check_pixel_limit(header: ImageHeader, settings) -> None:
    """The 413 of an image past MAX_UPLOAD_PIXELS, every frame counted."""
    max_pixels = settings.max_upload_pixels
    if header.total_pixels > max_pixels:
        frames = f" x {header.frame_count} frames" if header.frame_count > 1 else ""
        raise ApiError(
            413,
            f"Image too large: {header.width}x{header.height} pixels{frames} "
            f"exceeds the limit of {max_pixels} pixels",
            code="FILE_TOO_LARGE",
            details={
                "width": header.width,
                "height": header.height,
                "frames": header.frame_count,
                "maxPixels": max_pixels,
            },
        )


def check_decodes(data: bytes, header: ImageHeader) -> None:
    """The bounded decode check (verify.py) as ApiErrors: 400 corrupt, 413 too large."""
    try:
        verify_decodes(data, header)
    except FormatError as exc:
        raise invalid_image_error(header.format, exc) from None
    except TooLargeToDecode:
        raise ApiError(
            413,
            f"Image too large to decode: {header.width}x{header.height} pixels",
            code="FILE_TOO_LARGE",
        ) from None


def parse_header(data: bytes, fmt: str) -> ImageHeader:
    try:
        return read_header(data, fmt)
    except FormatError as exc:
        raise invalid_image_error(fmt, exc) from None


def invalid_image_error(fmt: str, exc: Exception) -> ApiError:
    return ApiError(400, f"Invalid {NAMES[fmt]} image: {exc}", code="INVALID_REQUEST")
