"""Public object serving: CattoPic `/r2/{path}` and `/cdn-cgi/image/{options}/{source}`
(the URL form of Cloudflare Image Resizing). Logic lives in services/delivery/cdn_paths.py.
"""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from pixhaven.models.serving import GENERATED, NOT_FOUND, R2_KEY, R2_OBJECT
from pixhaven.routers.direct_route import DirectRoute
from pixhaven.routers.requests import EnvDep, SettingsDep
from pixhaven.services.delivery import cdn_paths as cdn

router = APIRouter(tags=["Serving"], responses=NOT_FOUND, route_class=DirectRoute)


@router.head("/r2/{path:path}", include_in_schema=False)
@router.get(
    "/r2/{path:path}",
    summary="Get an image file (CattoPic)",
    response_class=JSONResponse,
    responses={**GENERATED, 200: R2_OBJECT},
)
async def r2_object(
    request: Request,
    path: Annotated[str, PathParam(json_schema_extra=R2_KEY)],
    settings: SettingsDep,
    env: EnvDep,
):
    return await cdn.serve_r2(env, request, path, settings)


@router.head("/cdn-cgi/image/{options}/{source:path}", include_in_schema=False)
@router.get(
    "/cdn-cgi/image/{options}/{source:path}",
    summary="Image Resizing URL form (width, height, fit, format, quality, gravity, dpr)",
    response_class=JSONResponse,
    responses=GENERATED,
)
async def cdn_cgi_image(
    options: str, source: str, request: Request, settings: SettingsDep, env: EnvDep
):
    return await cdn.serve_transformation(env, request, options, source, settings)
