"""Render a validated document to one output type: one layout, then one drawing of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.interop import byte_stream
from pixhaven.render.document import Document
from pixhaven.render.fonts import LIBRARY, FontLibrary
from pixhaven.render.layout import SourceRules, laid_out

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

MEDIA_TYPES = ("image/svg+xml", "image/png", "image/jpeg", "image/webp", "image/avif")


async def render(
    env: Env,
    document: Document,
    media_type: str,
    *,
    quality: int = 80,
    sources: SourceRules | None = None,
    library: FontLibrary = LIBRARY,
) -> bytes:
    """`sources`: what image sources may cost (render/layout.SourceRules); their decoded
    pixels are held until the canvas is drawn."""
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"unsupported output type {media_type!r}")

    async with laid_out(env, document, sources or SourceRules(), library) as layout:
        if media_type == "image/svg+xml":
            from pixhaven.render.svg import render_svg

            return render_svg(layout)
        # Imported here, not above: an SVG render never loads Pillow (less Worker memory).
        from pixhaven.render import raster

        canvas, opaque, flat = raster.draw(layout), layout.opaque, layout.flat
        del layout  # the decoded sources go, and their pixels back to the budget
    if media_type != "image/avif":
        return raster.encode(canvas, media_type, quality, opaque, flat)
    # AVIF: Pillow in Pyodide has no AVIF encoder, the Images binding has one. The PNG is
    # only a step on the way: written the fastest way whatever the drawing.
    png = raster.encode(canvas, "image/png", quality, opaque, flat=True)
    avif = env.IMAGES.input(byte_stream(png))  # a stream: workerd reads bytes as text
    result = await avif.output({"format": "image/avif", "quality": quality})
    return bytes(await result.response().bytes())
