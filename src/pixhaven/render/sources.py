"""Image component sources: data URLs and bare base64, decoded with the upload limits.

Remote `http(s)` URLs are refused with a 422 for now: fetching them safely (no private,
loopback, link-local or metadata addresses, re-checked on each redirect, size and time
limits) is not implemented yet. Only raster formats are accepted (JPEG, PNG, GIF, WebP,
AVIF, recognised from their bytes); an SVG is never embedded.
"""

import base64
import binascii
import io
import re
from urllib.parse import unquote_to_bytes

from PIL import Image, ImageOps

from .document import DocumentError

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.-]+)*)(;base64)?,(.*)",
                       re.DOTALL | re.IGNORECASE)


def _error(index: int, message: str, status: int = 400) -> DocumentError:
    return DocumentError(f"Invalid component {index} (image): src: {message}",
                         {"errors": [{"component": index, "type": "image", "field": "src",
                                      "message": message}]}, status)


def source_bytes(src: str, index: int, max_bytes: int) -> bytes:
    src = src.strip()
    lowered = src[:8].lower()
    if lowered.startswith(("http://", "https://")):
        raise _error(index, "remote image URLs are not supported by this deployment yet; "
                            "send the image as a base64 data URL", 422)
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
