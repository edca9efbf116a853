"""Pictify: `POST /gif` (animated GIF from frames), `POST /pdf/render` (one page) and
`POST /pdf/multi-page` (one page per document). Scope `render`.

The answer is JSON with 201, as Pictify's `POST /image` answers (routers/pictify.py): the GIF is stored as an image
`{url, id, createdAt, width, height}` (plus `frames`), the PDF under `renders/{uuid}.pdf`
`{url, id, createdAt, pages, width, height, pageSizes}`; the URLs are public. A client that
sends `Accept: image/gif` / `Accept: application/pdf` (and not `application/json`) gets the
file itself in the response instead (200). Logic lives in services/gif_pdf.py.
"""

import json

from fastapi import APIRouter, Depends, Request, Response

from ..dependencies import env_of, settings_of
from ..errors import ApiError
from ..models.common import ERROR_RESPONSES, errors, request_body
from ..models.pictify import GifBody, PdfPageBody, PdfPagesBody
from ..security.auth import Identity, require
from ..services import gif_pdf
from ..services.images import base_url

router = APIRouter(tags=["Pictify"], responses=ERROR_RESPONSES)
FILE_HEADERS = {"Cache-Control": "no-store"}


async def _json(request: Request):
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body must be JSON",
                       details={"errors": [{"field": "", "message": "invalid JSON"}]}) from None


def _file(content: bytes, media_type: str, name: str) -> Response:
    return Response(content, media_type=media_type, headers={
        **FILE_HEADERS, "Content-Disposition": f'inline; filename="{name}"'})


GIF_EXAMPLE = {"width": 400, "height": 200, "background": "#0b1020", "delay": 500, "loop": 0,
               "frames": [{"components": [{"type": "text", "text": "3", "fontSize": 96,
                                           "color": "#ffffff", "x": 170, "y": 40}]},
                          {"components": [{"type": "text", "text": "2", "fontSize": 96,
                                           "color": "#ffffff", "x": 170, "y": 40}],
                           "delay": 800}]}
FILES = errors(413, 422, 503, e413="A remote image is too large",
               e422="HTML or URL input (not rendered by this deployment), or a refused "
                    "remote image",
               e503="Fonts are not installed in the bucket")


@router.post("/gif", summary="Generate an animated GIF from frames (Pictify)", status_code=201,
             responses={200: {"content": {"image/gif": {}},
                              "description": "The GIF itself (Accept: image/gif)"}, **FILES},
             openapi_extra=request_body(GifBody, example=GIF_EXAMPLE))
async def generate_gif(request: Request, identity: Identity = Depends(require("render"))):
    settings = settings_of(request)
    env = env_of(request)
    documents, delays, loop = gif_pdf.parse_gif(await _json(request), settings.max_components)
    content = await gif_pdf.render_gif(env, settings, documents, delays, loop)
    detail = {"output": "gif", "frames": len(documents), "bytes": len(content)}
    if gif_pdf.wants_bytes(request.headers.get("accept"), "image/gif"):
        await gif_pdf.record_file_usage(env, identity, detail)
        return _file(content, "image/gif", "render.gif")
    answer = await gif_pdf.store_gif(env, settings, identity, content,
                                     base_url(request, settings), detail)
    return {**answer, "frames": len(documents)}


async def _pdf(request: Request, identity: Identity, documents) -> Response | dict:
    settings = settings_of(request)
    env = env_of(request)
    content = await gif_pdf.render_pdf(env, settings, documents)
    if gif_pdf.wants_bytes(request.headers.get("accept"), "application/pdf"):
        await gif_pdf.record_file_usage(env, identity, {"output": "pdf", "pages": len(documents),
                                                        "bytes": len(content)})
        return _file(content, "application/pdf", "render.pdf")
    return await gif_pdf.store_pdf(env, identity, content, documents,
                                   base_url(request, settings))


PDF_RESPONSES = {200: {"content": {"application/pdf": {}},
                       "description": "The PDF itself (Accept: application/pdf)"}, **FILES}


@router.post("/pdf/render", summary="Generate a one-page PDF from a document (Pictify)",
             status_code=201, responses=PDF_RESPONSES, openapi_extra=request_body(PdfPageBody))
async def render_pdf(request: Request, identity: Identity = Depends(require("render"))):
    documents = gif_pdf.parse_pdf_page(await _json(request), settings_of(request).max_components)
    return await _pdf(request, identity, documents)


@router.post("/pdf/multi-page", summary="Generate a PDF with one page per document (Pictify)",
             status_code=201, responses=PDF_RESPONSES,
             openapi_extra=request_body(PdfPagesBody))
async def render_multi_page(request: Request, identity: Identity = Depends(require("render"))):
    documents = gif_pdf.parse_pdf_pages(await _json(request), settings_of(request).max_components)
    return await _pdf(request, identity, documents)
