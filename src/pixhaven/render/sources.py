"""Image component sources: http(s) URLs, data URLs and bare base64, decoded with the
upload limits.

Remote URLs go through net/fetch.py (http(s) only, no private, loopback,
link-local, CGNAT or metadata addresses, re-checked on each redirect, size and time limits)
and are then checked like uploads (magic-byte type, byte and pixel limits, bounded decode).
Only raster formats are accepted (JPEG, PNG, GIF, WebP, AVIF, recognised from their bytes);
an SVG is never embedded. Errors name the component: 400 for an unusable URL, 422 for a
refused destination or a failed fetch, 413 past the byte or pixel limit.
"""

import base64
import binascii
import io
import re
from urllib.parse import unquote_to_bytes

from PIL import Image, ImageOps

from pixhaven.render.document import DocumentError

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")
_DATA_URL = re.compile(
    r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.-]+)*)(;base64)?,(.*)", re.DOTALL | re.IGNORECASE
)


def _error(index: int, message: str, status: int = 400) -> DocumentError:
    return DocumentError(
        f"Invalid component {index} (image): src: {message}",
        {"errors": [{"component": index, "type": "image", "field": "src", "message": message}]},
        status,
    )


def source_bytes(src: str, index: int, max_bytes: int) -> bytes:
    src = src.strip()
    lowered = src[:8].lower()
    if lowered.startswith(("http://", "https://")):
        raise _error(index, "remote URLs are loaded by load_source, not source_bytes", 500)
    match = _DATA_URL.fullmatch(src)
    try:
        if match:
            if match.group(3):
                data = base64.b64decode("".join(match.group(4).split()), validate=True)
            else:
                data = unquote_to_bytes(match.group(4))
        elif ":" in src[:12]:
            raise _error(index, "must be an http(s) URL, a data: URL or base64 data")
        else:
            data = base64.b64decode("".join(src.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _error(index, "invalid base64 data") from None
    if len(data) > max_bytes:
        raise _error(index, f"image larger than {max_bytes} bytes", 413)
    return data


def decode(data: bytes, index: int, max_pixels: int) -> Image.Image:
    """First frame, EXIF orientation applied, as RGBA; metadata is not carried over."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            frames = getattr(image, "n_frames", 1)
            if image.width * image.height * frames > max_pixels:
                raise _error(index, f"image larger than {max_pixels} pixels", 413)
            image.seek(0)
            image.load()
            oriented = ImageOps.exif_transpose(image)
            return oriented.convert("RGBA")
    except DocumentError:
        raise
    except Image.DecompressionBombError:
        raise _error(index, f"image larger than {max_pixels} pixels", 413) from None
    except Exception:
        raise _error(index, "not a supported image (JPEG, PNG, GIF, WebP or AVIF)") from None


def load(src: str, index: int, max_bytes: int, max_pixels: int) -> Image.Image:
    return decode(source_bytes(src, index, max_bytes), index, max_pixels)


def is_remote(src: str) -> bool:
    return src.strip()[:8].lower().startswith(("http://", "https://"))


async def remote_bytes(src: str, index: int, max_bytes: int, max_pixels: int) -> bytes:
    from pixhaven.errors import ApiError
    from pixhaven.net import fetch as remote_fetch
    from pixhaven.net.errors import RemoteFetchError

    try:
        return await remote_fetch.fetch_image(
            src.strip(), max_bytes=max_bytes, max_pixels=max_pixels
        )
    except RemoteFetchError as exc:
        raise _error(
            index, f"cannot use {src.strip()[:200]!r}: {exc.message}", exc.status
        ) from None
    except ApiError as exc:  # the upload checks refused the bytes
        status = exc.status if exc.status in (400, 413) else 422
        raise _error(
            index, f"the image at {src.strip()[:200]!r} was refused: {exc.error}", status
        ) from None


async def load_source(src: str, index: int, max_bytes: int, max_pixels: int) -> Image.Image:
    """Any source (remote, data URL, base64) → decoded first frame, RGBA."""
    if is_remote(src):
        data = await remote_bytes(src, index, max_bytes, max_pixels)
    else:
        data = source_bytes(src, index, max_bytes)
    return decode(data, index, max_pixels)
