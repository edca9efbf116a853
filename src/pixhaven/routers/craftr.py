"""Craftr: `POST /api/v1/image` renders a component document; `Accept` picks the format.

`image/svg+xml` (the default, also for `*/*` and `image/*`), `image/png`, `image/jpeg`,
`image/webp`, `image/avif`. Scope `render`. At most `MAX_COMPONENTS` components per image.
"""

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ..dependencies import env_of, settings_of
from ..errors import ApiError
from ..models.common import ERROR_RESPONSES
from ..render.document import Document, DocumentError, validate_document
from ..security.auth import Identity, require

router = APIRouter(tags=["Craftr"], responses=ERROR_RESPONSES)

MEDIA_TYPES = ("image/svg+xml", "image/png", "image/jpeg", "image/webp", "image/avif")
DEFAULT_MEDIA_TYPE = "image/svg+xml"
RESPONSE_HEADERS = {"Content-Disposition": "inline",
                    "Cache-Control": "public, max-age=31536000"}


def negotiate(accept: str | None) -> str:
    """The supported type the client prefers most (q-values honoured, first wins ties)."""
    if not accept or not accept.strip():
        return DEFAULT_MEDIA_TYPE
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        media = media.lower()
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in MEDIA_TYPES:
            chosen = media
        elif media in ("*/*", "image/*"):
            chosen = DEFAULT_MEDIA_TYPE
        else:
            continue
        candidate = (-quality, position, chosen)
        if best is None or candidate < best:
            best = candidate
    if best is None:
        raise ApiError(406, "None of the accepted types can be produced",
                       code="NOT_ACCEPTABLE", details={"supported": list(MEDIA_TYPES)})
    return best[2]


def _schema() -> dict[str, Any]:
    """The document's JSON schema with its definitions inlined (for /openapi.json)."""
    schema = Document.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return inline(schema)


@router.post(
    "/api/v1/image",
    summary="Render components to an image (Craftr)",
    response_class=Response,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES},
                     "description": "The image, in the type the Accept header asked for"},
               406: {"description": "No acceptable output type"},
               422: {"description": "A remote image URL was refused or could not be fetched"},
               503: {"description": "Fonts are not installed in the bucket"}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": _schema()}}}},
)
async def render_image(request: Request, identity: Identity = Depends(require("render"))):
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body must be JSON",
                       details={"errors": [{"field": "", "message": "invalid JSON"}]}) from None
    settings = settings_of(request)
    media_type = negotiate(request.headers.get("accept"))
    try:
        document = validate_document(body, settings.max_components)
    except DocumentError as exc:
        raise ApiError(exc.status, exc.message, details=exc.details) from None

    from ..render.engine import render
    from ..render.fonts import FontsNotInstalled

    try:
        content = await render(env_of(request), document, media_type,
                               quality=settings.image_quality,
                               max_image_bytes=settings.max_upload_bytes,
                               max_image_pixels=settings.max_upload_pixels)
    except DocumentError as exc:
        raise ApiError(exc.status, exc.message, details=exc.details) from None
    except FontsNotInstalled as exc:
        raise ApiError(503, "Fonts are not installed in the bucket: run "
                            "`pixhaven fonts install` (see README)",
                       code="FONTS_NOT_INSTALLED",
                       details={"missing": exc.key, "reason": exc.reason}) from None
    return Response(content, media_type=media_type, headers=RESPONSE_HEADERS)
