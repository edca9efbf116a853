"""Render a validated document to one output type: one layout, then one drawing of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.decode_budget import BUDGET
from pixhaven.interop import byte_stream
from pixhaven.render.document import Document
from pixhaven.render.fonts import LIBRARY, FontLibrary
from pixhaven.render.layout import build_layout

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.render.sources import OwnSource

MEDIA_TYPES = ("image/svg+xml", "image/png", "image/jpeg", "image/webp", "image/avif")


async def render(
    env: Env,
    document: Document,
    media_type: str,
    *,
    quality: int = 80,
    max_image_bytes: int = 70 * 1024 * 1024,
    max_image_pixels: int = 100_000_000,
    max_decoded_pixels: int = 0,
    decode_wait_seconds: float = 0,
    library: FontLibrary = LIBRARY,
    own: OwnSource | None = None,
) -> bytes:
    """`max_decoded_pixels`/`decode_wait_seconds`: the decode budget the image sources
    lease from (pixhaven.decode_budget; 0: none), held until the canvas is drawn."""
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"unsupported output type {media_type!r}")
    from pixhaven.render import raster

    async with BUDGET.account(max_decoded_pixels, decode_wait_seconds) as pixels:
        layout = await build_layout(
            env,
            document,
            max_image_bytes=max_image_bytes,
            max_image_pixels=max_image_pixels,
            library=library,
            pixels=pixels,
            own=own,
        )
        if media_type == "image/svg+xml":
            from pixhaven.render.svg import render_svg

            return render_svg(layout)
        canvas, opaque = raster.draw(layout), layout.opaque
        del layout  # the decoded sources go, and their pixels back to the budget
    if media_type != "image/avif":
        return raster.encode(canvas, media_type, quality, opaque)
    # AVIF: Pillow in Pyodide has no AVIF encoder, the Images binding has one.
    png = raster.encode(canvas, "image/png", quality, opaque)
    avif = env.IMAGES.input(byte_stream(png))  # a stream: workerd reads bytes as text
    result = await avif.output({"format": "image/avif", "quality": quality})
    return bytes(await result.response().bytes())
