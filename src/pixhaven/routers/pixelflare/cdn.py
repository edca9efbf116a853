"""PixelFlare CDN paths: `/{owner}/{album}/{filename}[/{variant}]` and `/{shortId}`.

These patterns match almost anything, so app.py must register this router LAST; API
prefixes are also refused inside it (services/delivery/cdn_paths.RESERVED_PREFIXES), so
`/v1/anything` never becomes an image lookup. Logic lives in services/delivery/cdn_paths.py.
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pixhaven.models.serving import GENERATED, NOT_FOUND, OBJECT_RESPONSES, SHORT_ID_RESPONSES
from pixhaven.routers.direct_route import DirectRoute
from pixhaven.routers.requests import EnvDep, SettingsDep
from pixhaven.services.delivery import cdn_paths as cdn

cdn_router = APIRouter(tags=["PixelFlare CDN"], responses=NOT_FOUND, route_class=DirectRoute)


@cdn_router.head("/{owner}/{album}/{filename}", include_in_schema=False)
@cdn_router.get(
    "/{owner}/{album}/{filename}",
    summary="An image by CDN path (PixelFlare; album `_` = none)",
    response_class=JSONResponse,
    responses=OBJECT_RESPONSES,
)
async def cdn_original(
    owner: str,
    album: str,
    filename: str,
    request: Request,
    settings: SettingsDep,
    env: EnvDep,
):
    return await cdn.serve_cdn_path(env, request, owner, album, filename, None, settings)


@cdn_router.head("/{owner}/{album}/{filename}/{variant}", include_in_schema=False)
@cdn_router.get(
    "/{owner}/{album}/{filename}/{variant}",
    summary="A variant by CDN path (PixelFlare)",
    response_class=JSONResponse,
    responses=GENERATED,
)
async def cdn_variant(
    owner: str,
    album: str,
    filename: str,
    variant: str,
    request: Request,
    settings: SettingsDep,
    env: EnvDep,
):
    return await cdn.serve_cdn_path(env, request, owner, album, filename, variant, settings)


@cdn_router.head("/{short_id}", include_in_schema=False)
@cdn_router.get(
    "/{short_id}",
    summary="An image by short id",
    response_class=JSONResponse,
    responses=SHORT_ID_RESPONSES,
)
async def cdn_short(short_id: str, request: Request, env: EnvDep):
    return await cdn.serve_short_id(env, request, short_id)
