"""Pictify `POST /pdf/render` with `html` (or `url`) and `POST /pdf/multi-page` with
`pages: [html, ...]`: printed by the browser binding (the contract's `pdf` call) and stored
under `renders/{uuid}.pdf` like component-document PDFs (services/rendering/store.py).

`options` as Pictify's OpenAPI: `preset` (A4 | Letter | Legal | A3 | A5 | custom, default
A4; `custom` takes `customSize {width, height}` in CSS px, 96 to the inch), `margins {top,
bottom, left, right}` in CSS px, `title` (the PDF's title). Sizes in the answer
(`pageSize`) and in `GET /pdf/presets` are CSS px too, rounded, with the points (1/72 in)
the PDF itself records beside them.

One HTML document prints as many pages as its content needs. Several pages are joined into
one document, each in its own page-sized `<iframe srcdoc>` that breaks after itself: every
page keeps its own `<head>`, styles and body (none leaks into another), and each is exactly
one printed page (what does not fit is cut off, as on a fixed-size page).
"""

from __future__ import annotations

import html as markup
import re
from typing import TYPE_CHECKING, Any

from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import browser
from pixhaven.services.rendering.html import RENDER_TIMEOUT_MS, bad, source
from pixhaven.services.rendering.store import store_pdf_render

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

MM = 96 / 25.4  # CSS px per millimetre
# name -> (width, height) in CSS px, as Chromium prints them (its paper sizes are in inches).
PRESETS: dict[str, tuple[float, float]] = {
    "A4": (210 * MM, 297 * MM),
    "Letter": (8.5 * 96, 11 * 96),
    "Legal": (8.5 * 96, 14 * 96),
    "A3": (297 * MM, 420 * MM),
    "A5": (148 * MM, 210 * MM),
}
DEFAULT_PRESET = "A4"
MIN_SIDE, MAX_SIDE = 72, 10_000  # custom sizes, px (0.75 in to about 2.6 m)
MAX_PAGES = 100  # Pictify's variableSets allow 100 pages
MAX_MARGIN = 1000
PAGE_MARKER = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def presets() -> dict[str, Any]:
    """`GET /pdf/presets`: each preset's size in CSS px (the unit of customSize and
    margins), millimetres and points."""
    found: dict[str, Any] = {
        name: {
            "width": round(width),
            "height": round(height),
            "unit": "px",
            "widthMm": round(width / MM),
            "heightMm": round(height / MM),
            "widthPt": round(width * 0.75),
            "heightPt": round(height * 0.75),
        }
        for name, (width, height) in PRESETS.items()
    }
    found["custom"] = {
        "unit": "px",
        "description": f"options.customSize {{width, height}} in px, {MIN_SIDE} to {MAX_SIDE}",
    }
    return found


def _px(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise bad(field, f"a number of px from {low:g} to {high:g}")
    return float(value)


def paper(options: Any) -> tuple[dict[str, Any], str, tuple[float, float], dict | None]:
    """(contract fields, preset name, page size in px, margins in px) of `options`."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise bad("options", "an object: preset, customSize, margins, title")
    preset = options.get("preset") if options.get("preset") is not None else DEFAULT_PRESET
    if preset != "custom" and preset not in PRESETS:
        raise bad("options.preset", f"one of {', '.join(PRESETS)} or custom")
    if preset == "custom":
        size = options.get("customSize")
        if not isinstance(size, dict):
            raise bad("options.customSize", "{width, height} in px, for preset custom")
        width = _px(size.get("width"), "options.customSize.width", MIN_SIDE, MAX_SIDE)
        height = _px(size.get("height"), "options.customSize.height", MIN_SIDE, MAX_SIDE)
        fields: dict[str, Any] = {"paperWidth": width, "paperHeight": height}
    else:
        width, height = PRESETS[preset]
        fields = {"format": preset}
    margins = options.get("margins")
    if margins is not None:
        if not isinstance(margins, dict) or set(margins) - {"top", "bottom", "left", "right"}:
            raise bad("options.margins", "an object of top, bottom, left, right in px")
        margins = {
            side: _px(value, f"options.margins.{side}", 0, MAX_MARGIN)
            for side, value in margins.items()
            if value is not None
        }
        if (
            margins.get("left", 0) + margins.get("right", 0) >= width - 1
            or margins.get("top", 0) + margins.get("bottom", 0) >= height - 1
        ):
            raise bad("options.margins", "the margins leave no room on the page")
        fields["margin"] = margins
    return fields, preset, (width, height), margins


def title_of(options: Any) -> str | None:
    title = options.get("title") if isinstance(options, dict) else None
    if title is not None and (not isinstance(title, str) or len(title) > 1000):
        raise bad("options.title", "a string of at most 1000 characters")
    return title or None


def with_title(document: str, title: str) -> str:
    """`document` with a `<title>` in its head (a head's own title comes after and wins
    nothing: the first one is the document's), never before its doctype (that would put
    the page in quirks mode)."""
    element = f"<title>{markup.escape(title)}</title>"
    for tag in (r"<head(\s[^>]*)?>", r"<html(\s[^>]*)?>", r"<!doctype[^>]*>"):
        found = re.search(tag, document, re.IGNORECASE)
        if found:
            return document[: found.end()] + element + document[found.end() :]
    return element + document


def joined(pages: list[str], size: tuple[float, float], margins: dict | None, title) -> str:
    """One document, one page-sized iframe per page, each breaking after itself."""
    margins = margins or {}
    # The printable box, a pixel short so rounding never spills a page onto the next.
    width = int(size[0] - margins.get("left", 0) - margins.get("right", 0)) - 1
    height = int(size[1] - margins.get("top", 0) - margins.get("bottom", 0)) - 1
    head = f"<title>{markup.escape(title)}</title>" if title else ""
    sections = "".join(
        f'<section><iframe srcdoc="{markup.escape(page, quote=True)}"></iframe></section>'
        for page in pages
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>{head}<style>"
        "html, body { margin: 0; padding: 0; }"
        f"section {{ width: {width}px; height: {height}px; overflow: hidden; "
        "break-after: page; }"
        "section:last-child { break-after: auto; }"
        "iframe { display: block; width: 100%; height: 100%; border: 0; }"
        f"</style></head><body>{sections}</body></html>"
    )


def render_request(body: dict, multi: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract's pdf fields, and what the answer says about the paper."""
    fields, preset, size, margins = paper(body.get("options"))
    title = title_of(body.get("options"))
    if multi:
        pages = body.get("pages")
        if not isinstance(pages, list) or not pages or len(pages) > MAX_PAGES:
            raise bad("pages", f"a list of 1 to {MAX_PAGES} HTML pages")
        for index, page in enumerate(pages):
            if not isinstance(page, str):
                raise bad(f"pages[{index}]", "an HTML page, as are all the others")
        fields.update(html=joined(pages, size, margins, title))
    else:
        html, url = source(body)
        if url is not None and title:
            raise bad("options.title", "a url's PDF has the page's own title")
        fields.update(html=with_title(html, title) if html is not None and title else html)
        fields.update(url=url)
    fields.update(printBackground=True, timeout=RENDER_TIMEOUT_MS)
    shape = {
        "preset": preset,
        "pageSize": {"width": round(size[0]), "height": round(size[1])},
        "pageCountExpected": len(body["pages"]) if multi else None,
    }
    return fields, shape


def page_count(data: bytes) -> int:
    """Pages in a PDF the browser printed: its page objects (Chromium's PDFs keep them
    uncompressed)."""
    return len(PAGE_MARKER.findall(data))


async def render(env: Env, body: dict, multi: bool) -> tuple[bytes, dict]:
    fields, shape = render_request(body, multi)
    data = await browser.pdf(env, fields)
    if not data.startswith(b"%PDF-"):
        raise browser.failed("the browser's answer is not a PDF")
    shape["pageCount"] = page_count(data) or shape["pageCountExpected"] or 1
    del shape["pageCountExpected"]
    return data, shape


async def render_and_store(env: Env, owner: str, key_id, base: str, body: dict, multi: bool):
    data, shape = await render(env, body, multi)
    size = (shape["pageSize"]["width"], shape["pageSize"]["height"])
    stored = await store_pdf_render(
        env, owner, key_id, data, pages=[size] * shape["pageCount"], base=base
    )
    result = {"success": True, **stored, **shape}
    await webhooks.emit(env, owner, "render.completed", result)
    return result
