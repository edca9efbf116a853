"""Pictify generation: `POST /image` (a component document, or a template uid with
variables), and the HTML/URL inputs this deployment refuses with a 422
(`html`/`url` on /image, `/image/canvas`, `/image/agent-screenshot`, `/gif/capture`).

Answer: `201 Created` with `{url, id, createdAt, width, height, format}` — a stored image is
a new resource (Pictify's document lists both 200 and 201; 201 is what "created" means).
Scope `render`. Logic lives in services/generation.py.
"""

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from pixhaven.dependencies import env_of, settings_of
from pixhaven.errors import ApiError
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import IDEMPOTENCY_KEY, GenerateImageBody
from pixhaven.security.auth import Identity, require
from pixhaven.services.images.keys import base_url
from pixhaven.services.rendering import idempotency, templates
from pixhaven.services.rendering import render as generation

router = APIRouter(tags=["Pictify"], responses=ERROR_RESPONSES)

ANSWER = {
    201: {
        "description": "Rendered and stored",
        "content": {
            "application/json": {
                "example": {
                    "url": "https://pixhaven.example/r2/images/landscape/…png",
                    "id": "0b6c…",
                    "createdAt": "2024-01-15T10:30:00.000Z",
                    "width": 1200,
                    "height": 630,
                    "format": "png",
                }
            }
        },
    },
    **errors(
        404,
        409,
        413,
        422,
        503,
        e404="No such template (for this owner)",
        e409="A request with this Idempotency-Key is still running",
        e413="A remote image is too large",
        e422="HTML/URL input (not supported), a refused remote image, or an "
        "Idempotency-Key reused with another request",
        e503="Fonts are not installed in the bucket",
    ),
}
BODY = {**request_body(GenerateImageBody), "parameters": [IDEMPOTENCY_KEY]}


async def json_body(request: Request) -> Any:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400,
            "The request body must be JSON",
            details={"errors": [{"field": "", "message": "invalid JSON"}]},
        ) from None
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "The request body must be a JSON object",
            details={"errors": [{"field": "", "message": "expected an object"}]},
        )
    return body


def answer(status: int, body: dict, replayed: bool) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)


async def generate(
    request: Request, identity: Identity, body: dict, template_uid: str | None, route: str
) -> JSONResponse:
    """Shared by POST /image and POST /templates/{uid}/render."""
    env, settings = env_of(request), settings_of(request)
    media_type = generation.media_type_of(body.get("format"))

    async def produce():
        if template_uid is not None:
            template = await templates.get(env, identity.owner, template_uid)
            document = templates.fill(template, body.get("variables"))
        else:
            document = {key: body[key] for key in templates.CANVAS_KEYS if key in body}
        document = generation.apply_size(document, body)
        stored = await generation.render_and_store(
            env,
            settings,
            identity.owner,
            identity.key_id,
            base_url(request, settings),
            document,
            media_type,
            template_uid,
        )
        return 201, stored

    status, stored, replayed = await idempotency.idempotent(
        env, identity.owner, request.headers.get("idempotency-key"), route, body, produce
    )
    return answer(status, stored, replayed)


@router.post(
    "/image",
    summary="Generate an image (Pictify)",
    status_code=201,
    responses=ANSWER,
    openapi_extra=BODY,
)
async def create_image(request: Request, identity: Identity = Depends(require("render"))):
    body = await json_body(request)
    for field in generation.HTML_INPUTS:
        if body.get(field) is not None:
            raise generation.html_not_supported(f"The `{field}` input")
    template_uid = generation.template_uid_of(body)
    if template_uid is None and not isinstance(body.get("components"), list):
        raise ApiError(
            400,
            "Send a component document (width, height, background, "
            "components) or a template uid with variables",
            details={
                "errors": [{"field": "components", "message": "required unless template is given"}]
            },
        )
    return await generate(request, identity, body, template_uid, "POST /image")


@router.get(
    "/image/renders/{render_id}.svg",
    summary="Download an SVG render (Pictify)",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The SVG, as an attachment"},
        **errors(404, e404="No such render"),
    },
)
async def svg_render(render_id: str, request: Request):
    data, headers = await generation.serve_svg(env_of(request), render_id)
    return Response(data, media_type="image/svg+xml", headers=headers)


def _refuse(what: str):
    async def handler(identity: Identity = Depends(require("render"))):
        raise generation.html_not_supported(what)

    return handler


for _path, _what, _summary in (
    ("/image/canvas", "Rendering FabricJS canvases", "Image from a FabricJS canvas"),
    ("/image/agent-screenshot", "AI screenshots of URLs", "AI-powered screenshot"),
    ("/gif/capture", "Capturing GIFs from URLs", "Capture a GIF from a URL"),
):
    router.add_api_route(
        _path,
        _refuse(_what),
        methods=["POST"],
        status_code=422,
        summary=f"{_summary} (Pictify; not supported: 422)",
        responses=errors(422, e422="Not supported by this deployment"),
    )
