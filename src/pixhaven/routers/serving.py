"""Public serving: CattoPic `/r2/{path}`, `/cdn-cgi/image/{options}/{source}`, PixelFlare's
`POST /v1/images/{id}/variants`, and the PixelFlare CDN paths.

Two routers: `router` (specific paths, register anywhere) and `cdn_router`, whose
`/{owner}/{album}/{filename}[/{variant}]` and `/{shortId}` patterns match almost anything,
so app.py must register it LAST; API prefixes are also refused inside it
(services/cdn.RESERVED_PREFIXES), so `/v1/anything` never becomes an image lookup.
Logic lives in services/cdn.py.
"""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..dependencies import env_of, get_settings
from ..models.common import ERROR_RESPONSES, ErrorEnvelope
from ..security.auth import Identity, require
from ..services import cdn
from ..services.images import base_url
from ..settings import Settings

NOT_FOUND = {404: {"model": ErrorEnvelope, "description": "Not found (or not public)"}}
router = APIRouter(tags=["Serving"], responses=NOT_FOUND)
cdn_router = APIRouter(tags=["PixelFlare CDN"], responses=NOT_FOUND)
OBJECT = {"description": "The image bytes (206 for a Range, 304 for a matching ETag)",
          "content": {"image/*": {}}}


@router.head("/r2/{path:path}", include_in_schema=False)
@router.get("/r2/{path:path}", summary="Get an image file (CattoPic)",
                  response_class=JSONResponse, responses={200: OBJECT})
async def r2_object(path: str, request: Request, settings: Settings = Depends(get_settings)):
    return await cdn.serve_r2(env_of(request), request, path, settings)


@router.head("/cdn-cgi/image/{options}/{source:path}", include_in_schema=False)
@router.get("/cdn-cgi/image/{options}/{source:path}",
                  summary="Image Resizing URL form (width, height, fit, format, quality, gravity, dpr)",
                  response_class=JSONResponse, responses={200: OBJECT})
async def cdn_cgi_image(options: str, source: str, request: Request,
                        settings: Settings = Depends(get_settings)):
    return await cdn.serve_transformation(env_of(request), request, options, source, settings)


class VariantsRequest(BaseModel):
    variants: list[str] = Field(min_length=1, max_length=16, examples=[["w512", "thumb"]])


@router.post("/v1/images/{image_id}/variants", status_code=202, tags=["PixelFlare"],
             summary="Generate variants (PixelFlare)", responses=ERROR_RESPONSES)
async def generate_variants(image_id: str, body: VariantsRequest, request: Request,
                            identity: Identity = Depends(require("images:write")),
                            settings: Settings = Depends(get_settings)):
    return await cdn.request_variants(env_of(request), identity.owner, image_id, body.variants,
                                      base_url(request, settings), settings)


@cdn_router.head("/{owner}/{album}/{filename}", include_in_schema=False)
@cdn_router.get("/{owner}/{album}/{filename}",
                      summary="An image by CDN path (PixelFlare; album `_` = none)",
                      response_class=JSONResponse, responses={200: OBJECT})
async def cdn_original(owner: str, album: str, filename: str, request: Request,
                       settings: Settings = Depends(get_settings)):
    return await cdn.serve_cdn_path(env_of(request), request, owner, album, filename, None,
                                    settings)


@cdn_router.head("/{owner}/{album}/{filename}/{variant}", include_in_schema=False)
@cdn_router.get("/{owner}/{album}/{filename}/{variant}",
                      summary="A variant by CDN path (PixelFlare)",
                      response_class=JSONResponse, responses={200: OBJECT})
async def cdn_variant(owner: str, album: str, filename: str, variant: str, request: Request,
                      settings: Settings = Depends(get_settings)):
    return await cdn.serve_cdn_path(env_of(request), request, owner, album, filename, variant,
                                    settings)


@cdn_router.head("/{short_id}", include_in_schema=False)
@cdn_router.get("/{short_id}", summary="An image by short id",
                      response_class=JSONResponse, responses={200: OBJECT})
async def cdn_short(short_id: str, request: Request):
    return await cdn.serve_short_id(env_of(request), request, short_id)
