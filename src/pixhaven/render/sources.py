"""Image component sources: http(s) URLs, data URLs and bare base64, decoded with the
upload limits.

Remote URLs go through net/fetch.py (http(s) only, no private, loopback,
link-local, CGNAT or metadata addresses, re-checked on each redirect, size and time limits);
the bytes of every source are then checked like uploads (magic-byte type, byte and pixel
limits, bounded decode check: a truncated or lying image is a 400).
Only raster formats are accepted (JPEG, PNG, GIF, WebP, AVIF, recognised from their bytes);
an SVG is never embedded. Errors name the component: 400 for an unusable URL or image, 422
for a refused destination or a failed fetch, 413 past the byte or pixel limit.

Decoding happens here, in process on both runtimes, so it leases its pixels from the
decode budget (pixhaven.decode_budget) of the render first, and decodes no larger than the
component's box needs (drawn at most EMBED_SCALE times its size): a JPEG through libjpeg's
DCT scaling (`draft`), other formats `reduce`d right after decoding.
"""

import base64
import binascii
import io
import re
import warnings
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

from PIL import Image, ImageOps

from pixhaven.decode_budget import Account, DecodeTooLarge
from pixhaven.errors import ApiError
from pixhaven.render.document import DocumentError

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")
# The largest scale a source is drawn at: SVG and PDF embed it at twice its box.
EMBED_SCALE = 2
REDUCIBLE_MODES = ("L", "LA", "RGB", "RGBA")
# Reads an http(s) URL that names one of this deployment's own images: its bytes, None for a
# URL that is not one of ours (fetched as a remote one), or a DocumentError (the component's
# index) for one of ours that serves nothing. Given by the caller (services/rendering), since
# the renderer knows neither the database nor the serving rules.
OwnSource = Callable[[str, int], Awaitable[bytes | None]]
_DATA_URL = re.compile(
    r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.-]+)*)(;base64)?,(.*)", re.DOTALL | re.IGNORECASE
)


def source_error(index: int, message: str, status: int = 400) -> DocumentError:
    """The error of component `index`'s `src`, in the document's error shape."""
    return _error(index, message, status)


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


async def decode(
    data: bytes,
    index: int,
    max_pixels: int,
    *,
    box: tuple[float, float] | None = None,
    pixels: Account | None = None,
) -> Image.Image:
    """First frame, EXIF orientation applied, as RGBA; metadata is not carried over. With a
    `box`, no larger than drawing it there needs; with `pixels`, the decode is leased from
    that account (kept until the account is released: the image lives as long)."""
    try:
        with warnings.catch_warnings():  # the pixel limits are ours, checked right below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        with image:
            frames = getattr(image, "n_frames", 1)
            if image.width * image.height * frames > max_pixels:
                raise _error(index, f"image larger than {max_pixels} pixels", 413)
            image.seek(0)
            need = None
            if box is not None:
                need = (max(1, round(box[0] * EMBED_SCALE)), max(1, round(box[1] * EMBED_SCALE)))
                # Stored turned by 90°? (Pillow's PNG getexif() would decode the whole
                # image looking for an eXIf chunk after the pixels: only one before counts.)
                exif = image.format != "PNG" or "exif" in image.info
                turned = exif and image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
                if image.format == "JPEG":  # libjpeg decodes at 1/2, 1/4 or 1/8
                    image.draft(image.mode, (need[1], need[0]) if turned else need)
            lease = None
            if pixels is not None:
                try:
                    lease = await pixels.lease(image.width * image.height, "image component")
                except DecodeTooLarge as exc:
                    raise _too_large(index, exc) from None
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            # Shrink before converting (a 100 MP RGB image is never also made RGBA in full);
            # palette and 16-bit images have to be converted first.
            decoded = image if image.mode in REDUCIBLE_MODES else image.convert("RGBA")
            decoded = _reduced(decoded, need)
            keep = decoded.mode == "RGBA" and decoded is not image  # else: a new RGBA image
            rgba = decoded if keep else decoded.convert("RGBA")
            if lease is not None:
                lease.shrink(rgba.width * rgba.height)
            return rgba
    except (DocumentError, ApiError):
        raise
    except Image.DecompressionBombError:
        raise _error(index, f"image larger than {max_pixels} pixels", 413) from None
    except Exception:
        raise _error(index, "not a supported image (JPEG, PNG, GIF, WebP or AVIF)") from None


def _reduced(image: Image.Image, need: tuple[int, int] | None) -> Image.Image:
    """Shrunk by the largest whole factor that keeps both sides at least `need`."""
    if need is None:
        return image
    factor = min(image.width // need[0], image.height // need[1])
    return image.reduce(factor) if factor >= 2 else image


def is_remote(src: str) -> bool:
    return src.strip()[:8].lower().startswith(("http://", "https://"))


async def remote_bytes(src: str, index: int, max_bytes: int, max_pixels: int) -> bytes:
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


async def check_bytes(
    data: bytes, index: int, max_bytes: int, max_pixels: int, pixels: Account | None = None
) -> None:
    """A data URL's or base64 source's bytes, checked like an upload (remote ones are
    checked by net/fetch.py): 413 past a limit, 400 for anything else refused. What the
    decode check holds is leased from `pixels` while it runs."""
    from types import SimpleNamespace

    from pixhaven.imaging import inspect

    try:
        header = inspect.inspect_image_bytes(
            data, SimpleNamespace(max_upload_bytes=max_bytes, max_upload_pixels=max_pixels)
        )
        lease = None
        if pixels is not None:
            lease = await pixels.lease(inspect.decode_check_pixels(header), "image component")
        try:
            inspect.check_decodes(data, header)
        finally:
            if lease is not None:
                lease.release()
    except DecodeTooLarge as exc:
        raise _too_large(index, exc) from None
    except ApiError as exc:
        if exc.status == 503:
            raise
        raise _error(index, exc.error, 413 if exc.status == 413 else 400) from None


def _too_large(index: int, exc: DecodeTooLarge) -> DocumentError:
    return _error(
        index,
        f"image needs {exc.pixels} decoded pixels, more than this server decodes at once "
        f"({exc.limit}, MAX_DECODED_PIXELS)",
        413,
    )


async def load_source(
    src: str,
    index: int,
    max_bytes: int,
    max_pixels: int,
    *,
    box: tuple[float, float] | None = None,
    pixels: Account | None = None,
    own: OwnSource | None = None,
) -> Image.Image:
    """Any source (remote, data URL, base64) → decoded first frame, RGBA (see decode).
    A URL `own` recognises as one of this deployment's images is read through it (never
    fetched over the network) and its bytes are checked like a data URL's."""
    own_data = await own(src.strip(), index) if own is not None and is_remote(src) else None
    if own_data is not None:
        data = own_data
        await check_bytes(data, index, max_bytes, max_pixels, pixels)
    elif is_remote(src):
        data = await remote_bytes(src, index, max_bytes, max_pixels)
    else:
        data = source_bytes(src, index, max_bytes)
        await check_bytes(data, index, max_bytes, max_pixels, pixels)
    return await decode(data, index, max_pixels, box=box, pixels=pixels)
