"""Pictify: `POST /gif` (animated GIF from frames of component documents, or from `html`/
`url` stepped by the browser), `POST /gif/capture` (a URL), `POST /pdf/render` (one document
or `html`/`url`), `POST /pdf/multi-page` (one page per document or per HTML page) and
`GET /pdf/presets`. Scope `render`. The browser inputs are services/rendering/html_gif.py
and html_pdf.py; the GIF's answer adds Pictify's `{gif: {...}}`, the PDF's `PdfResponse`'s
fields.

The answer is JSON with 200, as Pictify's `POST /image` answers (routers/pictify/images.py), and,
like it, replayed for a repeated `Idempotency-Key`: the GIF is stored as an image
`{url, id, createdAt, width, height}` (plus `frames`), the PDF under `renders/{uuid}.pdf`
`{url, id, createdAt, pages, width, height, pageSizes}`; the URLs are public. A client that
sends `Accept: image/gif` / `Accept: application/pdf` (and not `application/json`) gets the
file itself in the response instead (200; rendered anew each time, nothing is stored, so
there is nothing to replay). Logic lives in services/rendering/gif_pdf.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from pixhaven.errors import invalid
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import (
    IDEMPOTENCY_KEY,
    GifBody,
    GifCaptureBody,
    PdfPageBody,
    PdfPagesBody,
)
from pixhaven.routers.pictify.rendering import idempotent_answer, template_of
from pixhaven.routers.requests import (
    FIELD_LIST_BODY_ERRORS,
    CanRender,
    EnvDep,
    SettingsDep,
    read_json,
)
from pixhaven.security.auth import Identity
from pixhaven.services.images.keys import base_url
from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import (
    gif_pdf,
    html_gif,
    html_pdf,
    template_render,
    templates,
)
from pixhaven.services.rendering.own_sources import own_images
from pixhaven.services.rendering.render import template_uid_of
from pixhaven.settings import Settings

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env


router = APIRouter(tags=["Pictify"], responses=ERROR_RESPONSES)
FILE_HEADERS = {"Cache-Control": "no-store"}


async def _file_answer(env: Env, identity: Identity, body: dict, kind: str, render) -> Response:
    """The file itself (`Accept: image/gif` or `application/pdf`), rendered anew: its usage
    recorded, and a failed render emitted as `render.failed` like the JSON answers."""
    try:
        content, detail = await render()
    except Exception as exc:
        await webhooks.render_failed(env, identity.owner, kind, template_of(body), exc)
        raise
    await gif_pdf.record_file_usage(env, identity, detail)
    if kind == "gif":
        return _file(content, "image/gif", "render.gif")
    return _file(content, "application/pdf", "render.pdf")


def _file(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={**FILE_HEADERS, "Content-Disposition": f'inline; filename="{name}"'},
    )


GIF_EXAMPLE = {
    "width": 400,
    "height": 200,
    "background": "#0b1020",
    "delay": 500,
    "loop": 0,
    "frames": [
        {
            "components": [
                {"type": "text", "text": "3", "fontSize": 96, "color": "#ffffff", "x": 170, "y": 40}
            ]
        },
        {
            "components": [
                {"type": "text", "text": "2", "fontSize": 96, "color": "#ffffff", "x": 170, "y": 40}
            ],
            "delay": 800,
        },
    ],
}
FILES = errors(
    409,
    413,
    422,
    502,
    503,
    504,
    e409="A request with this Idempotency-Key is still running",
    e413="A remote image is too large, or the browser's output has too many pixels",
    e422="The page could not be loaded or its URL is not allowed (NAVIGATION_FAILED), a "
    "refused remote image, or an Idempotency-Key reused with another request",
    e502="The browser failed (BROWSER_FAILED)",
    e503="Fonts are not installed in the bucket, or no browser is available for html/url "
    "(BROWSER_NOT_AVAILABLE; README, HTML rendering)",
    e504="The page did not render within its time limit (RENDER_TIMEOUT)",
)
BROWSER_FILES = errors(
    409,
    413,
    422,
    502,
    503,
    504,
    e409="A request with this Idempotency-Key is still running",
    e413="The frames together have too many pixels",
    e422="The page could not be loaded or its URL is not allowed (NAVIGATION_FAILED), or an "
    "Idempotency-Key reused with another request",
    e502="The browser failed (BROWSER_FAILED)",
    e503="No browser is available (BROWSER_NOT_AVAILABLE; README, HTML rendering)",
    e504="The page did not render within its time limit (RENDER_TIMEOUT)",
)


@router.post(
    "/gif",
    summary="Generate an animated GIF from frames (Pictify)",
    status_code=200,
    responses={
        200: {"content": {"image/gif": {}}, "description": "The GIF itself (Accept: image/gif)"},
        **FILES,
    },
    openapi_extra={**request_body(GifBody, example=GIF_EXAMPLE), "parameters": [IDEMPOTENCY_KEY]},
)
async def generate_gif(request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    uid = template_uid_of(body) if isinstance(body, dict) else None
    if uid is not None and all(body.get(f) is None for f in ("html", "url", "frames")):
        # A template's GIF (Pictify's `template` + `variables`; the SDK's render_gif).
        template = await templates.get(env, identity.owner, uid)
        if templates.kind_of(template) != "document":
            page = await template_render.browser_page(env, template, body.get("variables"))
            recorded = template_render.browser_gif_body(template, page, body)
            return await _browser_gif(request, env, settings, identity, recorded, capture=False)
        body = template_render.gif_documents(template, body)
    if isinstance(body, dict) and (body.get("html") is not None or body.get("url") is not None):
        if body.get("frames") is not None:
            raise invalid(
                "Send html or url, or frames of component documents, not both",
                field="html",
                as_list=True,
            )
        return await _browser_gif(request, env, settings, identity, body, capture=False)
    documents, delays, loop = gif_pdf.parse_gif(body, settings.max_components)

    async def render():
        content = await gif_pdf.render_gif(
            env, settings, documents, delays, loop, own_images(env, settings, request)
        )
        return content, {"output": "gif", "frames": len(documents), "bytes": len(content)}

    if gif_pdf.wants_bytes(request.headers.get("accept"), "image/gif"):
        return await _file_answer(env, identity, body, "gif", render)

    async def produce():
        content, detail = await render()
        stored = await gif_pdf.store_gif(
            env, settings, identity, content, base_url(request, settings), detail
        )
        return 200, {**stored, "frames": len(documents)}

    return await idempotent_answer(
        request, env, identity, "POST /gif", body, produce, renders="gif"
    )


@router.post(
    "/gif/capture",
    summary="Capture a GIF from a URL (Pictify)",
    status_code=200,
    responses={
        200: {"content": {"image/gif": {}}, "description": "The GIF itself (Accept: image/gif)"},
        **BROWSER_FILES,
    },
    openapi_extra={**request_body(GifCaptureBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def capture_gif(request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    return await _browser_gif(request, env, settings, identity, body, capture=True)


async def _browser_gif(
    request: Request, env: Env, settings: Settings, identity: Identity, body, *, capture: bool
) -> Response:
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", field="", as_list=True)
    if gif_pdf.wants_bytes(request.headers.get("accept"), "image/gif"):

        async def recorded():
            return await html_gif.render_file(env, body, capture=capture)

        return await _file_answer(env, identity, body, "gif", recorded)

    async def produce():
        stored = await html_gif.render_and_store(
            env,
            settings,
            identity.owner,
            identity.key_id,
            base_url(request, settings),
            body,
            capture=capture,
        )
        return 200, stored

    route = "POST /gif/capture" if capture else "POST /gif"
    return await idempotent_answer(request, env, identity, route, body, produce, renders="gif")


async def _pdf(
    request: Request,
    env: Env,
    settings: Settings,
    identity: Identity,
    route: str,
    body: dict,
    documents,
) -> Response:
    async def drawn():
        own = own_images(env, settings, request)
        content = await gif_pdf.render_pdf(env, settings, documents, own)
        return content, {"output": "pdf", "pages": len(documents), "bytes": len(content)}

    if gif_pdf.wants_bytes(request.headers.get("accept"), "application/pdf"):
        return await _file_answer(env, identity, body, "pdf", drawn)

    async def produce():
        content, _ = await drawn()
        return 200, await gif_pdf.store_pdf(
            env, identity, content, documents, base_url(request, settings)
        )

    return await idempotent_answer(request, env, identity, route, body, produce, renders="pdf")


async def _html_pdf(
    request: Request, env: Env, settings: Settings, identity: Identity, route: str, body: dict
) -> Response:
    multi = route == "POST /pdf/multi-page"
    if gif_pdf.wants_bytes(request.headers.get("accept"), "application/pdf"):

        async def printed():
            content, shape = await html_pdf.render(env, body, multi)
            return content, {"output": "pdf", "pages": shape["pageCount"], "bytes": len(content)}

        return await _file_answer(env, identity, body, "pdf", printed)

    async def produce():
        stored = await html_pdf.render_and_store(
            env, identity.owner, identity.key_id, base_url(request, settings), body, multi
        )
        return 200, stored

    return await idempotent_answer(request, env, identity, route, body, produce, renders="pdf")


async def _template_pdf(
    request: Request,
    env: Env,
    settings: Settings,
    identity: Identity,
    route: str,
    body: dict,
    uid: str,
) -> Response:
    """A template's PDF (`templateUid` with `variables`, or with `variableSets` on
    `/pdf/multi-page`): an HTML or FabricJS template printed by the browser, a component
    template drawn."""
    multi = route == "POST /pdf/multi-page"
    template = await templates.get(env, identity.owner, uid)
    if templates.kind_of(template) != "document":  # HTML or FabricJS: the browser prints
        printed = await template_render.browser_pdf_body(env, template, body, multi, False)
        return await _html_pdf(request, env, settings, identity, route, printed)
    documents = template_render.pdf_documents(template, body, multi, settings.max_components)
    return await _pdf(request, env, settings, identity, route, body, documents)


@router.get(
    "/pdf/presets",
    summary="PDF page size presets (Pictify)",
    responses={
        200: {
            "description": "Each preset's page size: width and height in CSS px (96 to the "
            "inch, the unit of customSize and margins), with millimetres and points",
            "content": {
                "application/json": {
                    "example": {
                        "presets": {
                            "A4": {
                                "width": 794,
                                "height": 1123,
                                "unit": "px",
                                "widthMm": 210,
                                "heightMm": 297,
                                "widthPt": 595,
                                "heightPt": 842,
                            }
                        }
                    }
                }
            },
        }
    },
)
async def pdf_presets(identity: CanRender):
    return {"presets": html_pdf.presets()}


PDF_RESPONSES = {
    200: {
        "content": {"application/pdf": {}},
        "description": "The PDF itself (Accept: application/pdf)",
    },
    **FILES,
}


@router.post(
    "/pdf/render",
    summary="Generate a one-page PDF from a document (Pictify)",
    status_code=200,
    responses=PDF_RESPONSES,
    openapi_extra={**request_body(PdfPageBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def render_pdf(request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    uid = template_uid_of(body) if isinstance(body, dict) else None
    if uid is not None:
        return await _template_pdf(request, env, settings, identity, "POST /pdf/render", body, uid)
    if isinstance(body, dict) and (body.get("html") is not None or body.get("url") is not None):
        return await _html_pdf(request, env, settings, identity, "POST /pdf/render", body)
    documents = gif_pdf.parse_pdf_page(body, settings.max_components)
    return await _pdf(request, env, settings, identity, "POST /pdf/render", body, documents)


@router.post(
    "/pdf/multi-page",
    summary="Generate a PDF with one page per document (Pictify)",
    status_code=200,
    responses=PDF_RESPONSES,
    openapi_extra={**request_body(PdfPagesBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def render_multi_page(
    request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    route = "POST /pdf/multi-page"
    uid = template_uid_of(body) if isinstance(body, dict) else None
    if uid is not None:
        return await _template_pdf(request, env, settings, identity, route, body, uid)
    pages = body.get("pages") if isinstance(body, dict) else None
    if isinstance(pages, list) and any(isinstance(page, str) for page in pages):
        return await _html_pdf(request, env, settings, identity, "POST /pdf/multi-page", body)
    documents = gif_pdf.parse_pdf_pages(body, settings.max_components)
    return await _pdf(request, env, settings, identity, "POST /pdf/multi-page", body, documents)
