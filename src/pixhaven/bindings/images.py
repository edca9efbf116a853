"""The Images binding (`env.IMAGES`), as the Workers Python SDK exposes it
(docs/BINDINGS.md, "Images").

Types only: import under `if TYPE_CHECKING:`. `pixhaven.local.bindings.images.LocalImages`
satisfies `ImagesBinding`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, NotRequired, Protocol, TypeAlias, TypedDict

from pixhaven.bindings.js import JsObject, ReadableStream

ImageSource: TypeAlias = ReadableStream
"""An image to read: a stream, such as an R2 object's `body` (on Workers it goes to the
binding without entering Python), or bytes made one with `pixhaven.interop.byte_stream`.
Never bytes: workerd reads a source that is not a `ReadableStream` as text."""

ImageTransform: TypeAlias = JsObject
"""One `.transform()` step: `width`, `height`, `fit` (scale-down, contain, cover, crop, pad),
`rotate`, `blur`, `gravity`, `background`, `flip`."""

ImageOutputOptions: TypeAlias = JsObject
"""`.output()` options: `format` ("image/avif", "image/webp", "image/jpeg", "image/png",
"image/gif"), `quality`, `background`, `anim`."""


class ImageInfo(TypedDict):
    """What `info()` answers; SVG has the format only."""

    format: str
    fileSize: NotRequired[int]
    width: NotRequired[int]
    height: NotRequired[int]


class ImageResponse(Protocol):
    """A result as a JS `Response`; `await bytes()` reads the image on both runtimes."""

    def bytes(self) -> Awaitable[Any]:
        """The body: Python bytes locally, a `Uint8Array` proxy or bytes on Workers; pass
        it through `bytes(...)`."""


class ImageTransformationResult(Protocol):
    def response(self) -> ImageResponse: ...
    def contentType(self) -> str: ...
    def image(self) -> ReadableStream: ...


class ImageTransformer(Protocol):
    """The builder `input()` returns: nothing is read until `output()`, where bad options
    and bad input are reported."""

    def transform(self, options: ImageTransform, /) -> ImageTransformer: ...
    def output(self, options: ImageOutputOptions, /) -> Awaitable[ImageTransformationResult]: ...


class ImagesBinding(Protocol):
    """Errors raise an exception whose text reads `IMAGES_<OPERATION>_ERROR <code>: ...`
    (9412 not an image, 9413 too large, 9401 bad options)."""

    def info(self, stream: ImageSource, /) -> Awaitable[ImageInfo]: ...
    def input(self, stream: ImageSource, /) -> ImageTransformer: ...
