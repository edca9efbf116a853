"""Craftr: `POST /api/v1/image` renders a component document; `Accept` picks the format.

`image/svg+xml` (the default, also for `*/*` and `image/*`), `image/png`, `image/jpeg`,
`image/webp`, `image/avif`. Scope `render`. At most `MAX_COMPONENTS` components per image and
`RENDER_MONTHLY_LIMIT` renders per owner per month.
"""

from fastapi import APIRouter, Request, Response

from pixhaven.errors import ApiError
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.render.document import Document
from pixhaven.routers.requests import (
    FIELD_LIST_BODY_ERRORS,
    CraftrCanRender,
    EnvDep,
    SettingsDep,
    read_json,
)
from pixhaven.services.rendering.own_sources import own_images
from pixhaven.services.rendering.render import render_document
from pixhaven.services.rendering.usage import check_monthly_quota, record_usage

router = APIRouter(tags=["Craftr"], responses=ERROR_RESPONSES)

MEDIA_TYPES = ("image/svg+xml", "image/png", "image/jpeg", "image/webp", "image/avif")
DEFAULT_MEDIA_TYPE = "image/svg+xml"
RESPONSE_HEADERS = {"Content-Disposition": "inline", "Cache-Control": "public, max-age=31536000"}


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
        raise ApiError(
            406,
            "None of the accepted types can be produced",
            code="NOT_ACCEPTABLE",
            details={"supported": list(MEDIA_TYPES)},
        )
    return best[2]


@router.post(
    "/api/v1/image",
    summary="Render components to an image (Craftr)",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in MEDIA_TYPES},
            "description": "The image, in the type the Accept header asked for",
        },
        **errors(
            406,
            413,
            422,
            429,
            503,
            e406="No acceptable output type",
            e413="A remote image is too large",
            e429="RENDER_MONTHLY_LIMIT reached; `retryAfter` says when it resets",
            e422="A remote image URL was refused or could not be fetched",
            e503="Fonts are not installed in the bucket",
        ),
    },
    openapi_extra=request_body(Document),
)
async def render_image(
    request: Request, identity: CraftrCanRender, settings: SettingsDep, env: EnvDep
):
    # Any JSON value: render_document says what is wrong with one that is not a document.
    body = await read_json(request, FIELD_LIST_BODY_ERRORS, object_only=False)
    media_type = negotiate(request.headers.get("accept"))
    await check_monthly_quota(env, identity.owner, settings.render_monthly_limit)
    content, width, height = await render_document(
        env, settings, body, media_type, own_images(env, settings, request)
    )
    await record_usage(
        env,
        identity.owner,
        identity.key_id,
        {
            "api": "craftr",
            "format": media_type,
            "width": width,
            "height": height,
            "bytes": len(content),
        },
    )
    return Response(content, media_type=media_type, headers=RESPONSE_HEADERS)
