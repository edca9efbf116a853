"""CattoPic's public `GET /api/random`: a 302 to a random image
(services/delivery/random_image.py)."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from pixhaven.errors import ApiError
from pixhaven.models.common import errors
from pixhaven.routers.requests import EnvDep, SettingsDep
from pixhaven.services.delivery import random_image
from pixhaven.services.images.keys import base_url, object_url
from pixhaven.timeutil import now_iso

router = APIRouter(tags=["CattoPic"])

NO_CACHE = "no-cache, no-store, must-revalidate"
# Schema-only (services/delivery/random_image.py checks, case-insensitively; empty means unset).
ORIENTATION_SCHEMA = {
    "anyOf": [{"type": "string", "enum": ["landscape", "portrait", "auto", ""]}, {"type": "null"}]
}
FORMAT_SCHEMA = {
    "anyOf": [{"type": "string", "enum": ["original", "webp", "avif", ""]}, {"type": "null"}]
}


@router.get(
    "/api/random",
    status_code=302,
    summary="Redirect to a random image (CattoPic)",
    response_class=RedirectResponse,
    responses={
        302: {
            "description": "Location: the chosen image's URL (no body)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **errors(
            400,
            404,
            e400="Invalid tags, orientation or format",
            e404="No images found matching criteria",
        ),
    },
)
async def random(
    request: Request,
    settings: SettingsDep,
    env: EnvDep,
    tags: str | None = Query(
        None, description="comma-separated; all must match", examples=["landscape,nature"]
    ),
    exclude: str | None = Query(
        None, description="comma-separated tags to exclude", examples=["blurry,test"]
    ),
    orientation: str | None = Query(
        None,
        description="landscape, portrait or auto (portrait for mobile User-Agents); default auto",
        json_schema_extra=ORIENTATION_SCHEMA,
    ),
    format: str | None = Query(
        None,
        description="original, webp or avif; default: negotiated from Accept",
        json_schema_extra=FORMAT_SCHEMA,
    ),
):
    query = random_image.parse_query(tags, exclude, orientation, request.headers.get("user-agent"))
    random_image.validate_format(format)
    row = await random_image.pick(env.DB, query, now_iso())
    if row is None:
        raise ApiError(
            404, "No images found matching criteria", headers={"Cache-Control": NO_CACHE}
        )
    version = random_image.choose_version(row, format, request.headers.get("accept"))
    location = object_url(base_url(request, settings), random_image.key_for(row, version))
    return RedirectResponse(
        location, status_code=302, headers={"Cache-Control": NO_CACHE, "Vary": "Accept, User-Agent"}
    )
