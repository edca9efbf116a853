"""One template rendered the way Pictify's clients ask for it, whatever its kind (HTML,
FabricJS or component document): `POST /templates/{uid}/render`, `multi-size-render`, and the PDF
routes given a `templateUid`.

- Output: `format` (or `fileExtension`) png | jpeg | jpg | webp | avif | pdf (and svg for
  component templates); without one, the template's `outputFormat` decides (pdf → pdf,
  else png).
- Layouts (services/rendering/template_meta.py): `layout: name` or `layouts: [names]`
  (at most 20) render one image per layout; a name the template does not have is reported
  in `errors[]` beside the others' `results[]` (a 400 when none renders).
- PDF: `variables` make one page, `variableSets` one page per set (at most 50). `options`
  as `POST /pdf/render`'s (`preset`, `customSize`, `margins`, `title`; services/rendering/
  html_pdf.py); without a preset the page is the template's own size. An HTML template is
  printed by the browser, a FabricJS template's drawing printed as an image fitted to the
  page's width (at most 20 pages); a component template is drawn as a vector PDF (page size
  from the preset; margins are a browser-only option).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pixhaven.errors import ApiError, invalid
from pixhaven.render.document import Document, DocumentError, validate_document
from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import (
    fabric_templates,
    gif_pdf,
    html_pdf,
    html_templates,
    templates,
)
from pixhaven.services.rendering import render as generation
from pixhaven.services.rendering.template_meta import (
    DEFAULT_LAYOUT,
    MAX_LAYOUTS,
    available_layouts,
)

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.render.sources import OwnSource
    from pixhaven.settings import Settings

IMAGE_FORMATS = ("png", "jpeg", "jpg", "webp", "avif")
MAX_PAGES = html_pdf.MAX_PAGES  # Pictify's variableSets: at most 100
# A FabricJS page travels to the printer as a PNG inside the page: fewer of them, so the
# request stays a few MB.
MAX_FABRIC_PAGES = 20


@dataclass(frozen=True)
class Renderer:
    """Who renders and where the results go: the caller, the public base URL of answers,
    and how this deployment's own image URLs are read."""

    env: Env
    settings: Settings
    owner: str
    key_id: str | None
    base: str
    own: OwnSource | None = None


def output_of(template: dict, body: dict) -> str:
    """The render's format: the request's `format`/`fileExtension`, else the template's."""
    field = "format" if body.get("format") is not None else "fileExtension"
    value = body.get(field)
    if value is None:
        return "pdf" if template.get("output_format") == "pdf" else "png"
    drawn = templates.kind_of(template) == "document"  # the renderer also draws SVG
    allowed = IMAGE_FORMATS + ("pdf",) + (("svg",) if drawn else ())
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise invalid(f"{field} must be one of {', '.join(allowed)}", field=field, as_list=True)
    return value.strip().lower()


def layouts_of(body: dict) -> list[str]:
    """The layout names a request asks for (`layouts`, or one `layout`; else `default`)."""
    names = body.get("layouts")
    if names is None:
        single = body.get("layout")
        if single is None:
            return [DEFAULT_LAYOUT]
        names, field = [single], "layout"
    else:
        field = "layouts"
    if (
        not isinstance(names, list)
        or not 1 <= len(names) <= MAX_LAYOUTS
        or not all(isinstance(name, str) and name for name in names)
    ):
        raise invalid(f"{field} must name 1 to {MAX_LAYOUTS} layouts", field=field, as_list=True)
    return list(dict.fromkeys(names))


async def render_image(
    renderer: Renderer, template: dict, body: dict, fmt: str, size: tuple | None = None
) -> dict:
    """One stored image of the template (at `size` when given): `POST /image`'s answer."""
    request = {**body, "format": fmt}
    request.pop("fileExtension", None)
    if size is not None:
        request.update(width=size[0], height=size[1])
    r = renderer
    browser_render = templates.BROWSER_RENDERS.get(templates.kind_of(template))
    if browser_render is not None:  # HTML and FabricJS templates: drawn by the browser
        return await browser_render(r.env, r.settings, r.owner, r.key_id, r.base, template, request)
    document = generation.apply_size(templates.fill(template, body.get("variables")), request)
    return await generation.render_and_store(
        r.env,
        r.settings,
        r.owner,
        r.key_id,
        r.base,
        document,
        generation.media_type_of(fmt),
        template["uid"],
        r.own,
    )


def _item(stored: dict, layout: dict) -> dict:
    item = {
        key: stored[key]
        for key in ("url", "id", "width", "height", "format", "createdAt", "pages")
        if key in stored
    }
    return {"layout": layout["name"], "name": layout["label"], **item}


def with_results(first: dict, template: dict, results: list[dict], errors: list[dict]) -> dict:
    """The answer: the first render's own fields (`POST /image`'s), and what Pictify's SDK,
    MCP server and n8n node read: `results[]`, `errors[]`, the totals, `templateUid`."""
    return {
        **first,
        "templateUid": template["uid"],
        "results": results,
        "errors": errors,
        "totalLayouts": len(results) + len(errors),
        "totalRendered": len(results),
        "totalErrors": len(errors),
    }


async def render(renderer: Renderer, template: dict, body: dict) -> dict:
    """`POST /templates/{uid}/render`: every requested layout, or the PDF."""
    fmt = output_of(template, body)
    layouts = {layout["name"]: layout for layout in available_layouts(template)}
    if fmt == "pdf" or body.get("variableSets") is not None:
        if fmt != "pdf":
            raise invalid(
                "variableSets makes a multi-page PDF: format must be pdf",
                field="variableSets",
                as_list=True,
            )
        multi = body.get("variableSets") is not None
        stored = {**await render_pdf(renderer, template, body, multi), "format": "pdf"}
        page = {**layouts[DEFAULT_LAYOUT], "width": stored["width"], "height": stored["height"]}
        return with_results(stored, template, [_item(stored, page)], [])
    results, errors, first = [], [], None
    for name in layouts_of(body):
        layout = layouts.get(name)
        if layout is None:
            errors.append({"layout": name, "error": f"The template has no layout {name!r}"})
            continue
        size = None if name == DEFAULT_LAYOUT else (layout["width"], layout["height"])
        stored = await render_image(renderer, template, body, fmt, size)
        first = first or stored
        results.append(_item(stored, {**layout, **_size_of(stored)}))
    if first is None:
        raise ApiError(
            400,
            "None of the requested layouts exists: see the template's layouts",
            details={"errors": errors, "layouts": sorted(layouts)},
        )
    return with_results(first, template, results, errors)


def _size_of(stored: dict) -> dict:
    return {key: stored[key] for key in ("width", "height") if key in stored}


async def multi_size(renderer: Renderer, template: dict, body: dict) -> dict:
    """`POST /templates/{uid}/multi-size-render {sizes: [{preset | width+height, label}]}`:
    one image per size, each result with its `size` (as Pictify's MCP server reads it)."""
    sizes = body.get("sizes")
    if not isinstance(sizes, list) or not 1 <= len(sizes) <= MAX_LAYOUTS:
        raise invalid(f"sizes must be a list of 1 to {MAX_LAYOUTS} sizes", field="sizes")
    fmt = output_of(template, body)
    if fmt in ("pdf", "svg"):
        raise invalid("format must be png, jpeg, webp or avif", field="format", as_list=True)
    layouts = {layout["name"]: layout for layout in available_layouts(template)}
    wanted = [_size(item, index, layouts) for index, item in enumerate(sizes)]
    results = []
    for size in wanted:
        stored = await render_image(renderer, template, body, fmt, (size["width"], size["height"]))
        results.append({**stored, "size": size})
    return {
        "success": True,
        "templateUid": template["uid"],
        "results": results,
        "totalRendered": len(results),
    }


def _size(item: Any, index: int, layouts: dict[str, dict]) -> dict:
    where = f"sizes[{index}]"
    if not isinstance(item, dict):
        raise invalid(f"{where} must be {{preset}} or {{width, height}}", field=where)
    label = item.get("label")
    if label is not None and not isinstance(label, str):
        raise invalid(f"{where}.label must be a string", field=f"{where}.label", as_list=True)
    preset = item.get("preset")
    if preset is not None:
        if preset not in layouts:
            raise invalid(
                f"{where}.preset: the template has no layout {preset!r}",
                field=f"{where}.preset",
                as_list=True,
                layouts=sorted(layouts),
            )
        width, height = layouts[preset]["width"], layouts[preset]["height"]
    else:
        width, height = item.get("width"), item.get("height")
        for key, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 4096:
                raise invalid(
                    f"{where}.{key} must be a whole number of px from 10 to 4096",
                    field=f"{where}.{key}",
                    as_list=True,
                )
    size = {"width": width, "height": height, "preset": preset}
    if label is not None:
        size["label"] = label
    return size


def variable_sets(body: dict, multi: bool) -> list[Any]:
    """The page's variables: `variables` for one page, `variableSets` for several."""
    if not multi:
        return [body.get("variables")]
    sets = body.get("variableSets")
    if not isinstance(sets, list) or not 1 <= len(sets) <= MAX_PAGES:
        raise invalid(
            f"variableSets must be a list of 1 to {MAX_PAGES} objects of variables",
            field="variableSets",
            as_list=True,
        )
    return sets


def pdf_options(template: dict, body: dict, own_size: bool = True) -> dict:
    """The request's `options` (or the MCP server's top-level `preset`); without a page size,
    the template's own (`own_size`; else `POST /pdf/render`'s default, A4)."""
    options = body.get("options")
    options = dict(options) if isinstance(options, dict) else ({} if options is None else options)
    if not isinstance(options, dict):
        return options  # html_pdf.paper says what is wrong with it
    if body.get("preset") is not None and options.get("preset") is None:
        options["preset"] = body["preset"]
    if own_size and options.get("preset") is None and options.get("customSize") is None:
        document = template["document"]
        width = max(html_pdf.MIN_SIDE, min(html_pdf.MAX_SIDE, document.get("width") or 1200))
        height = max(html_pdf.MIN_SIDE, min(html_pdf.MAX_SIDE, document.get("height") or 630))
        options.update(preset="custom", customSize={"width": width, "height": height})
    return options


async def browser_pdf_body(
    env: Env, template: dict, body: dict, multi: bool, own_size: bool = True
) -> dict:
    """An HTML or FabricJS template's PDF request as `POST /pdf/render` (or
    `/pdf/multi-page`) takes it: the page(s) and the options. An HTML template's page is
    its filled HTML; a FabricJS template's is its drawing (a PNG), fitted to the page's
    width."""
    sets = variable_sets(body, multi)
    if not html_templates.is_html(template) and len(sets) > MAX_FABRIC_PAGES:
        raise invalid(
            f"A FabricJS template's PDF has at most {MAX_FABRIC_PAGES} pages",
            field="variableSets",
            as_list=True,
        )
    pages = [await browser_page(env, template, values) for values in sets]
    options = pdf_options(template, body, own_size)
    filled = {"pages": pages} if multi else {"html": pages[0]}
    return {**filled, "options": options, "templateUid": template["uid"]}


async def browser_page(env: Env, template: dict, variables: Any) -> str:
    """The page the browser prints or records for an HTML or FabricJS template: the filled
    HTML, or the FabricJS drawing (a PNG) fitted to the page's width."""
    if html_templates.is_html(template):
        return html_templates.filled(template, variables)
    return _image_page(await fabric_templates.render_png(env, template, variables))


def browser_gif_body(template: dict, page: str, body: dict) -> dict:
    """`POST /gif {template, variables, …}` for an HTML or FabricJS template as the `html`
    body the browser records: the page at the request's size, else the template's."""
    document = template["document"]
    gif = {key: body[key] for key in GIF_FIELDS if body.get(key) is not None}
    return {
        "width": document.get("width"),
        "height": document.get("height"),
        **gif,
        "html": page,
    }


GIF_FIELDS = ("width", "height", "quality", "frameDurationSeconds", "waitForSelector")


def gif_documents(template: dict, body: dict) -> dict:
    """`POST /gif {template, variables}` for a component template: the body of a one-frame
    component GIF (the filled document at the request's size)."""
    document = generation.apply_size(templates.fill(template, body.get("variables")), body)
    return {"frames": [document], "loop": 0}


def _image_page(png: bytes) -> str:
    source = "data:image/png;base64," + base64.b64encode(png).decode()
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0}'
        "img{display:block;width:100%;height:auto}</style></head>"
        f'<body><img src="{source}"></body></html>'
    )


def pdf_documents(template: dict, body: dict, multi: bool, max_components: int) -> list[Document]:
    """A component template's PDF pages: the filled document per variable set, sized to
    the preset when one is given."""
    given = body.get("options")
    options: dict = given if isinstance(given, dict) else {}
    explicit = options.get("preset") or options.get("customSize") or body.get("preset")
    size = None
    if explicit:
        if options.get("margins") is not None:
            raise invalid(
                "options.margins apply to HTML templates: a document's page is its canvas",
                field="options.margins",
                as_list=True,
            )
        _, _, (width, height), _ = html_pdf.paper(pdf_options(template, body))
        size = {"width": round(width), "height": round(height)}
    documents = []
    for index, values in enumerate(variable_sets(body, multi)):
        document = templates.fill(template, values)
        try:
            documents.append(validate_document({**document, **(size or {})}, max_components))
        except DocumentError as exc:
            raise ApiError(
                exc.status, f"page {index}: {exc.message}", details={**exc.details, "page": index}
            ) from None
    return documents


async def render_pdf(renderer: Renderer, template: dict, body: dict, multi: bool) -> dict:
    """The template as a stored PDF: `POST /pdf/render`'s answer."""
    r = renderer
    if templates.kind_of(template) != "document":
        printed = await browser_pdf_body(r.env, template, body, multi)
        return await html_pdf.render_and_store(r.env, r.owner, r.key_id, r.base, printed, multi)
    documents = pdf_documents(template, body, multi, r.settings.max_components)
    content = await gif_pdf.render_pdf(r.env, r.settings, documents, r.own)
    stored = await gif_pdf.store_pdf(r.env, r, content, documents, r.base)
    answer = {"success": True, **stored, "format": "pdf", "template": template["uid"]}
    await webhooks.emit(r.env, r.owner, "render.completed", answer)
    return answer
