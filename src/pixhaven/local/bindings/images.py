"""Local stand-in for Cloudflare's Images binding (`env.IMAGES`), backed by Pillow.

Surface (as the Workers Python SDK exposes it):

    info = await images.info(data)            # {"format", "fileSize", "width", "height"}
    result = await images.input(data).transform({...}).transform({...}).output({...})
    result.contentType()                       # "image/webp"
    result.image()                             # BodyStream: `await s.read()`, `async for`
    result.response()                          # ImageResponse: .status, .headers, .body (bytes)

`data` is a stream, as workerd's binding takes a `ReadableStream`: the local R2 body stream,
another result's `image()`, `pixhaven.interop.byte_stream(data)` (all `BodyStream`s), or any
async iterable of byte chunks or object with an async `read()`. Bytes, or anything else that
is not a stream, fail as on workerd, which reads such a source as text: `info()` and
`output()` raise ImagesError 9412 (a bytearray or tuple is a TypeError at the call, as the
SDK refuses to send one).

Semantics follow developers.cloudflare.com/images (transform-images, partials/fit, gravity,
rotate, flip, metadata, anim):
- EXIF orientation is applied on decode, as Cloudflare does ("EXIF rotation is applied even if
  the metadata is discarded"); an embedded colour profile is converted to sRGB; output
  carries neither EXIF nor a profile. `info()` reports the dimensions
  stored in the file header, before orientation.
- Each `.transform()` is one step, applied in call order. Within a step: flip, rotate
  (clockwise), resize/fit, background, blur; `width`/`height` refer to axes after rotation.
- Animated GIF/WebP keep their frames when the output is GIF or WebP (Cloudflare's `anim`
  defaults to true); every other output, or `anim: False`, uses the first frame.
- Invalid input raises ImagesError with Cloudflare's code 9412, oversized input 9413, bad
  options 9401; messages are shaped like workerd's ("IMAGES_TRANSFORM_ERROR 9412: ...").
Choices where the docs are silent: `fit: pad` fills with white unless `background` is given;
JPEG output flattens transparency onto white (or the output `background`); `blur: n` is a
Gaussian blur of radius n/2; perceptual qualities map to 90/80/65/50; PNG stays lossless
(no PNG8 when `quality` is set).
Deviations: gravity `auto`/`entropy`/`face` crop around the centre; `draw()`, `trim`,
`sharpen`, `brightness`, `contrast`, `gamma`, `border`, `zoom` and raw `rgb`/`rgba` output
are not emulated and raise 9401 rather than being silently ignored.

Memory (Cloudflare decodes outside the Worker; here it is this process):
- Conversions of the same input asked for together (an upload's placeholder, WebP and AVIF)
  share one decode: oriented, in sRGB, at the largest size any of them needs. A JPEG is
  decoded reduced by libjpeg's DCT scaling (`draft`) when every output is smaller, other
  formats are `reduce`d right after decoding; an output smaller than the shared decode (the
  placeholder beside full-size versions) is `reduce`d from it before it is resampled.
- AVIF is encoded with the settings in local/bindings/avif.py (chosen against sharp).
- Each decode leases its pixels from the process's decoded-pixel budget
  (pixhaven.decode_budget, `max_decoded_pixels`): past it the call waits, then raises the
  budget's 503; an input needing more than the whole budget raises its 413.
- Decodes and conversions run on at most CONVERSION_THREADS threads, one per core, so
  concurrent uploads queue for the CPU instead of all holding encoders at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import http.client
import inspect
import io
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from PIL import Image, ImageCms, ImageColor, ImageFilter, ImageOps, ImageSequence

from pixhaven.decode_budget import BUDGET, Lease
from pixhaven.local.bindings.avif import avif_save_args
from pixhaven.local.bindings.jsvalues import JsDict, check_sendable
from pixhaven.local.bindings.r2_objects import BodyStream

if TYPE_CHECKING:
    from pixhaven.bindings.images import ImageInfo

FORMAT_TO_MIME = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
}
MIME_TO_FORMAT = {mime: fmt for fmt, mime in FORMAT_TO_MIME.items()}
# Only these decoders ever see user bytes: it keeps garbage away from exotic plugins.
INPUT_FORMATS = tuple(FORMAT_TO_MIME)
ANIMATED_OUTPUTS = {"GIF", "WEBP"}
FITS = {"scale-down", "contain", "cover", "crop", "pad", "squeeze"}
TRANSFORM_KEYS = {"width", "height", "fit", "gravity", "rotate", "flip", "blur", "background"}
# Cloudflare's perceptual quality levels have no published numbers; these are our choice.
PERCEPTUAL_QUALITY = {"high": 90, "medium-high": 80, "medium-low": 65, "low": 50}
DEFAULT_QUALITY = 85  # Cloudflare's documented default
# Decodes and encodes are CPU-bound: more threads than cores only adds encoders in memory.
CONVERSION_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: concurrent.futures.ThreadPoolExecutor | None = None


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = concurrent.futures.ThreadPoolExecutor(
            CONVERSION_THREADS, thread_name_prefix="pixhaven-images"
        )
    return _POOL


class ImagesError(Exception):
    """What the binding raises; on Workers the JS ImagesError surfaces with this message."""

    def __init__(self, code: int, message: str, operation: str = "TRANSFORM"):
        super().__init__(f"IMAGES_{operation}_ERROR {code}: {message}")
        self.code = code


class ImageResponse:
    """Stands in for the SDK's Response. Deviation: `body` is the bytes, not a stream, so it
    can be handed to the local R2 `put` or an HTTP response directly; `await bytes()` is the
    call that works on both runtimes."""

    def __init__(self, body: bytes, content_type: str):
        self.status = 200
        self.ok = True
        # A case-insensitive header mapping, as the SDK's Response.headers is.
        self.headers = http.client.HTTPMessage()
        self.headers["content-type"] = content_type
        self.body = body

    async def bytes(self) -> bytes:
        return self.body


class ImageTransformationResult:
    def __init__(self, data: bytes, content_type: str):
        self._data = data
        self._content_type = content_type

    def contentType(self) -> str:
        return self._content_type

    def image(self) -> BodyStream:
        # The same read-once stream type as an R2 body, so it can go straight to `put`.
        return BodyStream(self._data)

    def response(self) -> ImageResponse:
        return ImageResponse(self._data, self._content_type)


class ImageTransformer:
    """Builder returned by `LocalImages.input`. Nothing is read or decoded until `output()`,
    and option errors surface there too, where Cloudflare reports them."""

    def __init__(self, images: LocalImages, data: Any):
        self._images = images
        self._data = data
        self._steps: list[dict] = []

    def transform(self, options: dict | None = None, **kwargs) -> ImageTransformer:
        # Keyword arguments are how the SDK passes a trailing options object.
        self._steps.append({**(options or {}), **kwargs})
        return self

    async def output(self, options: dict | None = None, **kwargs) -> ImageTransformationResult:
        _require_stream(self._data, "TRANSFORM")
        options = {**(options or {}), **kwargs}
        data = await self._images._read_input(self._data)
        encoded, mime = await self._images._render(data, self._steps, options)
        return ImageTransformationResult(encoded, mime)


@dataclass(eq=False)
class _Decode:
    """One decode of one input, shared by the conversions that ask for it together."""

    key: tuple[bytes, bool]
    need: tuple[int, int] | None  # the largest size a user needs (None: full size)
    users: int = 0
    started: bool = False  # past it, a user needing more makes its own decode
    task: asyncio.Future | None = None
    lease: Lease | None = None
    frames: list[Image.Image] = field(default_factory=list)
    durations: list[int] = field(default_factory=list)
    loop: Any = None  # the animation's loop count

    def covers(self, need: tuple[int, int] | None) -> bool:
        return _larger(self.need, need) == self.need

    def release(self) -> None:
        self.frames = []
        if self.lease is not None:
            self.lease.release()


def _require_stream(data: Any, operation: str) -> None:
    """What workerd does with a source that is not a `ReadableStream`: it reads it as text,
    which the Images service cannot decode, so the call fails with 9412 where it reports input
    errors (`info()`, `output()`)."""
    if isinstance(data, (bytes, bytearray, memoryview, str)) or not (
        hasattr(data, "__aiter__") or hasattr(data, "read")
    ):
        raise ImagesError(
            9412,
            f"Input is not an image: a {type(data).__name__} source is not a ReadableStream "
            "and is read as text (pass a stream: an R2 body, or "
            "pixhaven.interop.byte_stream(data))",
            operation,
        )


class LocalImages:
    def __init__(
        self,
        max_input_bytes: int = 70 * 1024 * 1024,
        max_pixels: int = 100_000_000,
        max_animation_pixels: int = 50_000_000,
        max_side: int = 12_000,
        *,
        max_decoded_pixels: int = 0,
        decode_wait_seconds: float = 30,
    ):
        # Defaults are Cloudflare's published limits (70 MB, 100 MP, 50 MP for all frames of
        # an animation, 12,000 px per output side). Checking them from the header, before any
        # pixel is decoded, is what protects against decompression bombs.
        self.max_input_bytes = max_input_bytes
        self.max_pixels = max_pixels
        self.max_animation_pixels = max_animation_pixels
        self.max_side = max_side
        # This process's share: the decoded-pixel budget (0: none) and how long to wait.
        self.max_decoded_pixels = max_decoded_pixels
        self.decode_wait_seconds = decode_wait_seconds
        self._decodes: dict[tuple[bytes, bool], _Decode] = {}
        # How many decodes this binding has made: what conversions asked for together share
        # (the tests and benchmarks read it; Cloudflare's binding has no such count).
        self.decodes_made = 0

    async def info(self, data: Any) -> ImageInfo:
        check_sendable(data)
        _require_stream(data, "INFO")
        # A JsDict is what the SDK makes of the JS object; ImageInfo names its keys.
        raw = await self._read_input(data, operation="INFO")
        if _looks_like_svg(raw):
            return cast("ImageInfo", JsDict(format="image/svg+xml"))
        with self._open(raw, "INFO") as image:
            assert image.format is not None  # _open accepts only INPUT_FORMATS
            return cast(
                "ImageInfo",
                JsDict(
                    format=FORMAT_TO_MIME[image.format],
                    fileSize=len(raw),
                    width=image.width,
                    height=image.height,
                ),
            )

    def input(self, data: Any) -> ImageTransformer:
        check_sendable(data)
        return ImageTransformer(self, data)

    # -- input ------------------------------------------------------------------------------

    async def _read_input(self, data: Any, operation: str = "TRANSFORM") -> bytes:
        chunks: list[bytes] = []
        if isinstance(data, (bytes, bytearray, memoryview)):
            chunks.append(bytes(data))
        elif hasattr(data, "read"):
            content = data.read()
            if inspect.isawaitable(content):
                content = await content
            chunks.append(bytes(content))
        elif hasattr(data, "to_bytes"):
            chunks.append(bytes(data.to_bytes()))
        elif hasattr(data, "__aiter__"):
            total = 0
            async for chunk in data:
                chunks.append(bytes(chunk))
                total += len(chunk)
                if total > self.max_input_bytes:
                    break  # stop reading an endless stream; the check below reports it
        else:
            raise TypeError(f"Images input must be bytes or a stream, not {type(data).__name__}")
        raw = b"".join(chunks)
        if len(raw) > self.max_input_bytes:
            raise ImagesError(9413, "Input image exceeds the maximum file size", operation)
        return raw

    def _open(self, raw: bytes, operation: str) -> Image.Image:
        try:
            with warnings.catch_warnings():  # the area limits are checked right below
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(raw), formats=INPUT_FORMATS)
        except Image.DecompressionBombError as exc:
            raise ImagesError(9413, f"Input image is too large: {exc}", operation) from None
        except Exception:
            raise ImagesError(9412, "Input is not an image", operation) from None
        if image.width * image.height > self.max_pixels:
            image.close()
            raise ImagesError(9413, "Input image exceeds the maximum area", operation)
        return image

    # -- rendering: one shared decode, then the conversion, both on the pool ------------------

    async def _render(self, raw: bytes, steps: list[dict], options: dict) -> tuple[bytes, str]:
        target = _output_format(options)
        quality = _quality(options.get("quality"))
        if _looks_like_svg(raw):
            raise ImagesError(9412, "SVG input cannot be rasterized by the local emulation")
        with self._open(raw, "TRANSFORM") as source:
            frame_count = getattr(source, "n_frames", 1)
            animate = (
                frame_count > 1 and target in ANIMATED_OUTPUTS and options.get("anim") is not False
            )
            if animate and frame_count * source.width * source.height > self.max_animation_pixels:
                raise ImagesError(9413, "Animation exceeds the maximum total area")
            need = _needed_size(steps, _upright_size(source))
        decode = self._join_decode(raw, animate, need)
        try:
            assert decode.task is not None  # set by _join_decode
            await asyncio.shield(decode.task)
            frames = [_view(frame) for frame in decode.frames]  # each conversion its own
            return await asyncio.get_running_loop().run_in_executor(
                _pool(),
                self._convert,
                frames,
                need,
                decode.durations,
                decode.loop,
                steps,
                target,
                quality,
                options.get("background"),
            )
        finally:
            self._leave_decode(decode)

    def _join_decode(self, raw: bytes, animate: bool, need: tuple[int, int] | None) -> _Decode:
        """The decode this conversion shares: the one being gathered for the same input (its
        size raised to this need), one already made that is large enough, or a new one."""
        key = (hashlib.sha256(raw).digest(), animate)
        decode = self._decodes.get(key)
        if decode is not None and not decode.started:
            decode.need = _larger(decode.need, need)
        elif decode is None or not decode.covers(need):
            decode = _Decode(key, need)
            self._decodes[key] = decode
            decode.task = asyncio.ensure_future(self._decode(decode, raw, animate))
        decode.users += 1
        return decode

    def _leave_decode(self, decode: _Decode) -> None:
        decode.users -= 1
        if decode.users:
            return
        if self._decodes.get(decode.key) is decode:
            del self._decodes[decode.key]
        assert decode.task is not None
        if decode.task.done():
            decode.release()
        else:  # every user was cancelled: give the pixels back when the decode ends
            decode.task.add_done_callback(lambda task: _settle(task, decode))

    async def _decode(self, decode: _Decode, raw: bytes, animate: bool) -> None:
        # Conversions asked for in the same breath (asyncio.gather) join before it starts.
        await asyncio.sleep(0)
        decode.started = True
        self.decodes_made += 1
        with self._open(raw, "TRANSFORM") as source:
            frames = getattr(source, "n_frames", 1) if animate else 1
            width, height = _decoded_size(source, decode.need)
        decode.lease = await BUDGET.acquire(
            frames * width * height,
            limit=self.max_decoded_pixels,
            wait=self.decode_wait_seconds,
            what="image",
        )
        loop = asyncio.get_running_loop()
        decode.frames, decode.durations, decode.loop = await loop.run_in_executor(
            _pool(), self._decode_frames, raw, decode.need, animate
        )
        decode.lease.shrink(sum(frame.width * frame.height for frame in decode.frames))

    def _decode_frames(
        self, raw: bytes, need: tuple[int, int] | None, animate: bool
    ) -> tuple[list[Image.Image], list[int], Any]:
        """Frames oriented and in sRGB, no larger than `need` asks (runs on the pool)."""
        frames, durations = [], []
        with self._open(raw, "TRANSFORM") as source:
            try:
                if source.format == "JPEG" and need is not None:
                    source.draft(source.mode, _stored_size(source, need))
                for frame in ImageSequence.Iterator(source):
                    # An animation's frame is the decoder's canvas for the next one: copy it.
                    # A still image is ours alone, so orientation is applied in place.
                    image = frame.copy() if animate else frame
                    image.load()
                    ImageOps.exif_transpose(image, in_place=True)
                    image = _to_srgb(image, "RGBA" if _has_alpha(image) else "RGB")
                    # A view: closing the source must not take the pixels with it.
                    frames.append(_view(_reduced(image, need)))
                    durations.append(frame.info.get("duration", 100))
                    if not animate:
                        break
            except (OSError, SyntaxError, ValueError):
                # Truncated or corrupt pixel data only shows up when it is decoded.
                raise ImagesError(9412, "Input image could not be decoded") from None
            return frames, durations, source.info.get("loop")

    def _convert(
        self,
        frames: list[Image.Image],
        need: tuple[int, int] | None,
        durations: list[int],
        loop: Any,
        steps: list[dict],
        target: str,
        quality: int,
        background: Any,
    ) -> tuple[bytes, str]:
        """The transform steps and the encode of one output (runs on the pool)."""
        # A shared decode is as large as its largest user needs; a smaller output (the
        # upload's placeholder) is first reduced to its own need by whole factors, which is
        # cheaper than resampling every decoded pixel (12 MP to 100 px: 62 against 117 ms).
        frames = [_reduced(frame, need) for frame in frames]
        frames = [_for_output(self._apply(frame, steps), target, background) for frame in frames]
        buffer = io.BytesIO()
        save_args: dict[str, Any] = {}
        if target == "AVIF":
            save_args = avif_save_args(quality)
        elif target in ("JPEG", "WEBP"):
            save_args["quality"] = quality
        if len(frames) > 1:
            save_args.update(save_all=True, append_images=frames[1:], duration=durations)
            if loop is not None:
                save_args["loop"] = loop
            if target == "GIF":
                save_args["disposal"] = 2
        _view(frames[0]).save(buffer, target, **save_args)
        return buffer.getvalue(), FORMAT_TO_MIME[target]

    def _apply(self, image: Image.Image, steps: list[dict]) -> Image.Image:
        """Every step returns a new image: the decoded frame it starts from is shared."""
        for step in steps:
            image = self._apply_step(image, {k: v for k, v in step.items() if v is not None})
        return image

    def _apply_step(self, image: Image.Image, step: dict) -> Image.Image:
        unknown = set(step) - TRANSFORM_KEYS
        if unknown:
            raise ImagesError(9401, f"Unsupported transform option(s): {sorted(unknown)}")
        flip = step.get("flip")
        if flip is not None:
            if flip not in ("h", "v", "hv", "vh"):
                raise ImagesError(9401, f"Invalid flip: {flip!r}")
            if "h" in flip:
                image = ImageOps.mirror(image)
            if "v" in flip:
                image = ImageOps.flip(image)
        rotate = step.get("rotate", 0)
        if rotate not in (0, 90, 180, 270, 360):
            raise ImagesError(9401, f"Invalid rotate: {rotate!r} (use 90, 180 or 270)")
        clockwise = {
            90: Image.Transpose.ROTATE_270,
            180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_90,
        }
        if rotate % 360:
            image = image.transpose(clockwise[rotate % 360])
        image = self._resize(image, step)
        if "background" in step:
            image = _flatten(image, _parse_color(step["background"]))
        blur = step.get("blur")
        if blur is not None:
            if not isinstance(blur, (int, float)) or not 0 <= blur <= 250:
                raise ImagesError(9401, f"Invalid blur: {blur!r} (1 to 250)")
            if blur:
                image = image.filter(ImageFilter.GaussianBlur(blur / 2))
        return image

    def _resize(self, image: Image.Image, step: dict) -> Image.Image:
        width, height = _dimension(step, "width"), _dimension(step, "height")
        fit = step.get("fit", "scale-down")
        if fit not in FITS:
            raise ImagesError(9401, f"Invalid fit: {fit!r}")
        if width is None and height is None:
            return image
        for side in (width, height):
            if side is not None and side > self.max_side:
                raise ImagesError(9401, f"Requested dimension exceeds {self.max_side}px")
        src_w, src_h = image.size
        ratios = [r for r in (width and width / src_w, height and height / src_h) if r]
        if fit == "squeeze" and width and height:
            return image.resize((width, height), Image.Resampling.LANCZOS)
        if fit in ("cover", "crop") and width and height:
            scale = max(ratios) if fit == "cover" else min(max(ratios), 1.0)
            scaled = _scaled(image, scale)
            box_w, box_h = min(width, scaled.width), min(height, scaled.height)
            return _crop_to(scaled, box_w, box_h, step.get("gravity", "center"))
        scale = min(ratios)
        if fit in ("scale-down", "crop"):
            scale = min(scale, 1.0)  # these two never upscale
        scaled = _scaled(image, scale)
        if fit == "pad" and width and height:
            background = _parse_color(step.get("background", "#ffffff"))
            canvas = Image.new("RGBA", (width, height), background)
            offset = ((width - scaled.width) // 2, (height - scaled.height) // 2)
            canvas.alpha_composite(scaled.convert("RGBA"), offset)
            return canvas if background[3] < 255 else canvas.convert("RGB")
        return scaled


def _looks_like_svg(raw: bytes) -> bool:
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in raw[:4096].lower()


def _settle(task: asyncio.Future, decode: _Decode) -> None:
    """Release a decode nobody waits for any more (its error, if any, is nobody's now)."""
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" warning
    decode.release()


def _view(image: Image.Image) -> Image.Image:
    """Another Image over the same pixels: `save()` stores its options on the Image object,
    so two threads encoding one shared decode must not share the object (pixels are only
    read)."""
    return image._new(image.im)


def _larger(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    """The larger of two needs, None (full size) being the largest."""
    if a is None or b is None:
        return None
    return (max(a[0], b[0]), max(a[1], b[1]))


def _swaps_axes(image: Image.Image) -> bool:
    """EXIF orientation 5–8, read without decoding: Pillow's PNG `getexif()` decodes the
    whole image to look for an eXIf chunk after the pixel data, so for a PNG only one
    before it counts here (as for the header reader)."""
    if image.format == "PNG" and "exif" not in image.info:
        return False
    return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if _swaps_axes(image) else (width, height)


def _stored_size(image: Image.Image, need: tuple[int, int]) -> tuple[int, int]:
    """An upright size as the file stores it (before EXIF orientation)."""
    return (need[1], need[0]) if _swaps_axes(image) else need


def _decoded_size(image: Image.Image, need: tuple[int, int] | None) -> tuple[int, int]:
    """What _decode_frames will hold while decoding: a JPEG at its draft scale (Pillow picks
    the largest of 1/2, 1/4, 1/8 that keeps both sides at least `need`), others in full."""
    width, height = image.size
    if image.format != "JPEG" or need is None:
        return width, height
    want = _stored_size(image, need)
    scale = min(width // max(1, want[0]), height // max(1, want[1]))
    scale = next(s for s in (8, 4, 2, 1) if scale >= s or s == 1)
    return -(-width // scale), -(-height // scale)


def _reduced(image: Image.Image, need: tuple[int, int] | None) -> Image.Image:
    """`image` shrunk by the largest whole factor that keeps both sides at least `need`."""
    if need is None:
        return image
    factor = min(image.width // max(1, need[0]), image.height // max(1, need[1]))
    return image.reduce(factor) if factor >= 2 else image


def _needed_size(steps: list[dict], upright: tuple[int, int]) -> tuple[int, int] | None:
    """The smallest upright size the decode can have without changing what the first step
    resizes to (later steps start from its output); None when it needs every pixel."""
    if not steps:
        return None
    step = {k: v for k, v in steps[0].items() if v is not None}
    width, height = step.get("width"), step.get("height")
    if step.get("rotate", 0) in (90, 270):
        upright = (upright[1], upright[0])  # width/height name the axes after rotation
    try:
        ratios = [
            float(side) / full
            for side, full in ((width, upright[0]), (height, upright[1]))
            if side is not None and not isinstance(side, bool) and float(side) >= 1
        ]
    except (TypeError, ValueError):
        return None  # the step itself will refuse these options
    fit = step.get("fit", "scale-down")
    if not ratios or fit not in FITS:
        return None
    if fit == "squeeze" and len(ratios) == 2:
        scales = ratios
    elif fit in ("cover", "crop") and len(ratios) == 2:
        scales = [max(ratios)] * 2
    else:
        scales = [min(ratios)] * 2
    if max(scales) >= 1:
        return None
    need = (math.ceil(upright[0] * scales[0]), math.ceil(upright[1] * scales[1]))
    if step.get("rotate", 0) in (90, 270):
        need = (need[1], need[0])
    return need


def _to_srgb(image: Image.Image, mode: str) -> Image.Image:
    """Apply an embedded colour profile (as Cloudflare does), then work in plain RGB(A)."""
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        # 16-bit greyscale PNG: scale to 8 bits (a plain convert clips everything to white).
        image = image.convert("I").point(lambda value: value / 257).convert("L")
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source_profile, ImageCms.createProfile("sRGB"), outputMode=mode
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: fall back to reading the numbers as sRGB
    return image if image.mode == mode else image.convert(mode)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _dimension(step: dict, key: str) -> int | None:
    value = step.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1:
        raise ImagesError(9401, f"Invalid {key}: {value!r}")
    return int(round(value))


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def _crop_to(image: Image.Image, box_w: int, box_h: int, gravity: Any) -> Image.Image:
    """Crop a box_w x box_h window, placed by gravity (a side or an {x, y} focal point)."""
    focus_x, focus_y = 0.5, 0.5
    if isinstance(gravity, dict):
        focus_x, focus_y = float(gravity.get("x", 0.5)), float(gravity.get("y", 0.5))
    elif gravity in ("left", "right", "top", "bottom"):
        focus_x = {"left": 0.0, "right": 1.0}.get(gravity, 0.5)
        focus_y = {"top": 0.0, "bottom": 1.0}.get(gravity, 0.5)
    elif gravity not in ("center", "auto", "entropy", "face"):
        raise ImagesError(9401, f"Invalid gravity: {gravity!r}")
    left = round(focus_x * image.width - box_w / 2)
    top = round(focus_y * image.height - box_h / 2)
    left = min(max(left, 0), image.width - box_w)
    top = min(max(top, 0), image.height - box_h)
    return image.crop((left, top, left + box_w, top + box_h))


def _parse_color(value: Any) -> tuple[int, int, int, int]:
    """A CSS colour: names, #rgb/#rrggbb, rgb()/rgba() with commas or CSS4 spaces."""
    text = str(value).strip().lower()
    match = re.fullmatch(r"rgba?\(([^)]*)\)", text)
    try:
        if not match:
            rgba = ImageColor.getrgb(text)
            return rgba if len(rgba) == 4 else (*rgba, 255)
        parts = [p for p in re.split(r"[\s,/]+", match.group(1)) if p]
        red, green, blue = (
            int(float(p.rstrip("%")) * (2.55 if p.endswith("%") else 1)) for p in parts[:3]
        )
        alpha = 255
        if len(parts) > 3:
            raw = parts[3]
            fraction = float(raw.rstrip("%")) / 100 if raw.endswith("%") else float(raw)
            alpha = round(255 * fraction) if fraction <= 1 else min(255, round(fraction))
        return (red, green, blue, alpha)
    except (ValueError, TypeError):
        raise ImagesError(9401, f"Invalid background colour: {value!r}") from None


def _flatten(image: Image.Image, color: tuple[int, int, int, int]) -> Image.Image:
    if not _has_alpha(image):
        return image
    canvas = Image.new("RGBA", image.size, color)
    canvas.alpha_composite(image.convert("RGBA"))
    return canvas if color[3] < 255 else canvas.convert("RGB")


def _output_format(options: dict) -> str:
    mime = options.get("format")
    if mime is None:
        raise ImagesError(9401, "output() needs a format; there is no default")
    if mime not in MIME_TO_FORMAT:
        raise ImagesError(9401, f"Unsupported output format: {mime!r}")
    return MIME_TO_FORMAT[mime]


def _quality(value: Any) -> int:
    if value is None:
        return DEFAULT_QUALITY
    if isinstance(value, str) and value in PERCEPTUAL_QUALITY:
        return PERCEPTUAL_QUALITY[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 100:
        raise ImagesError(9401, f"Invalid quality: {value!r} (1 to 100)")
    return int(value)


def _for_output(image: Image.Image, target: str, background: Any) -> Image.Image:
    """Pick a mode the encoder takes; formats without alpha get flattened (white default)."""
    if target == "JPEG":
        return _flatten(image, _parse_color(background or "#ffffff")).convert("RGB")
    if background is not None:
        image = _flatten(image, _parse_color(background))
    return image
