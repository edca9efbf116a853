"""Pictify `POST /gif`, `POST /pdf/render`, `POST /pdf/multi-page`: request bodies to
validated documents, rendering, storing. The router only hands over the JSON body.

GIF body:
    {"width": 600, "height": 315, "background": "#ffffff",   # defaults every frame inherits
     "delay": 500,            # default per-frame delay in ms ("duration" is accepted too)
     "loop": 0,               # NETSCAPE repeat count, 0 = forever (the default)
     "frames": [{"components": [...], "delay": 300}, ...]}
Every frame is a component document (Craftr's schema); all frames share the GIF's size.

PDF bodies: `/pdf/render` takes one document (one page); `/pdf/multi-page` takes
`{"pages": [document, ...]}`, each page its own size (top-level width/height/background are
defaults, as for GIF frames).

Pictify's HTML and URL inputs (`html`, `url`, `pages` of HTML) are the browser's:
services/rendering/html_gif.py and html_pdf.py; the router sends them there.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pixhaven.errors import ApiError, invalid
from pixhaven.render.document import Document, DocumentError, validate_document
from pixhaven.services.rendering.render import render_errors, source_rules

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

MAX_FRAMES = 100
MAX_GIF_PIXELS = 30_000_000  # width × height × frames: bounds the Worker's memory
MAX_GIF_FRAME_PIXELS = 4_194_304  # one frame (2048 × 2048): its RGBA drawing is 16 MB
MAX_PAGES = 50
DEFAULT_DELAY_MS = 100
MAX_DELAY_MS = 655_350  # GIF stores centiseconds in 16 bits
INHERITED = ("width", "height", "background")


def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", field="", as_list=True)
    return body


def _documents(
    body: dict, field: str, items: Any, limit: int, max_components: int | None, what: str
) -> list[Document]:
    if not isinstance(items, list) or not items:
        raise invalid(f"`{field}` must be a non-empty list of documents", field=field, as_list=True)
    if len(items) > limit:
        raise invalid(
            f"Too many {what}s: {len(items)} (the limit is {limit})",
            field=field,
            as_list=True,
            limit=limit,
            count=len(items),
        )
    defaults = {key: body[key] for key in INHERITED if key in body}
    documents = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid(
                f"{field}[{index}] must be a JSON object (a component document)",
                field=f"{field}[{index}]",
                as_list=True,
            )
        try:
            documents.append(validate_document({**defaults, **item}, max_components))
        except DocumentError as exc:
            raise ApiError(
                exc.status, f"{field}[{index}]: {exc.message}", details={**exc.details, what: index}
            ) from None
    return documents


def _delay(value: Any, field: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= MAX_DELAY_MS
    ):
        raise invalid(
            f"`{field}` must be a number of milliseconds from 0 to {MAX_DELAY_MS}",
            field=field,
            as_list=True,
        )
    return float(value)


def _frame_delay(item: dict, prefix: str, default: float) -> float:
    for key in ("delay", "duration"):
        if key in item and item[key] is not None:
            return _delay(item[key], f"{prefix}{key}")
    return default


def parse_gif(body: Any, max_components: int | None) -> tuple[list[Document], list[float], int]:
    body = _object(body)
    default = _frame_delay(body, "", DEFAULT_DELAY_MS)
    loop = body.get("loop", 0)
    if loop is None:
        loop = 0
    if isinstance(loop, bool) or not isinstance(loop, int) or not 0 <= loop <= 0xFFFF:
        raise invalid(
            "`loop` must be an integer from 0 (forever) to 65535", field="loop", as_list=True
        )
    frames = body.get("frames")
    documents = _documents(body, "frames", frames, MAX_FRAMES, max_components, "frame")
    delays = [_frame_delay(item, f"frames[{index}].", default) for index, item in enumerate(frames)]
    width, height = documents[0].width, documents[0].height
    for index, document in enumerate(documents):
        if (document.width, document.height) != (width, height):
            raise invalid(
                f"frames[{index}] is {document.width}x{document.height}; every frame "
                f"must have the GIF's size, {width}x{height}",
                field=f"frames[{index}]",
                as_list=True,
                frame=index,
            )
    if width * height > MAX_GIF_FRAME_PIXELS:
        raise invalid(
            f"GIF frames too large: {width}x{height} pixels exceeds {MAX_GIF_FRAME_PIXELS} "
            "pixels per frame",
            field="width",
            as_list=True,
            maxFramePixels=MAX_GIF_FRAME_PIXELS,
        )
    if width * height * len(documents) > MAX_GIF_PIXELS:
        raise invalid(
            f"GIF too large: {width}x{height} pixels x {len(documents)} frames exceeds "
            f"{MAX_GIF_PIXELS} pixels in all",
            field="frames",
            as_list=True,
            maxPixels=MAX_GIF_PIXELS,
        )
    return documents, delays, loop


def parse_pdf_page(body: Any, max_components: int | None) -> list[Document]:
    body = _object(body)
    try:
        return [validate_document(body, max_components)]
    except DocumentError as exc:
        raise ApiError(exc.status, exc.message, details=exc.details) from None


def parse_pdf_pages(body: Any, max_components: int | None) -> list[Document]:
    body = _object(body)
    return _documents(body, "pages", body.get("pages"), MAX_PAGES, max_components, "page")


async def render_gif(env: Env, settings, documents, delays, loop, own=None) -> bytes:
    from pixhaven.render.gif import render_gif as draw

    with render_errors():
        return await draw(
            env,
            documents,
            delays,
            loop,
            sources=source_rules(settings, own),
        )


async def render_pdf(env: Env, settings, documents, own=None) -> bytes:
    from pixhaven.render.pdf import render_pdf as draw

    with render_errors():
        return await draw(
            env,
            documents,
            sources=source_rules(settings, own),
        )


def wants_bytes(accept: str | None, media_type: str) -> bool:
    """True when the client asks for the file itself (`Accept: application/pdf`, or
    `image/gif`) rather than JSON."""
    if not accept:
        return False
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return media_type in types and "application/json" not in types


async def store_gif(env: Env, settings, identity, content: bytes, base: str, detail: dict) -> dict:
    from pixhaven.services.rendering.store import store_image_render

    return await store_image_render(
        env,
        settings,
        identity.owner,
        identity.key_id,
        content,
        name="render.gif",
        base=base,
        detail=detail,
    )


async def store_pdf(
    env: Env, identity, content: bytes, documents: list[Document], base: str
) -> dict:
    from pixhaven.services.rendering.store import store_pdf_render

    return await store_pdf_render(
        env,
        identity.owner,
        identity.key_id,
        content,
        pages=[(d.width, d.height) for d in documents],
        base=base,
    )


async def record_file_usage(env: Env, identity, detail: dict) -> None:
    from pixhaven.services.rendering.usage import record_usage

    await record_usage(env, identity.owner, identity.key_id, detail)
