"""Public serving: CattoPic `/r2/{path}`, `/cdn-cgi/image/{options}/{source}`, PixelFlare's
`POST /v1/images/{id}/variants`, and the PixelFlare CDN paths.

Two routers: `router` (specific paths, register anywhere) and `cdn_router`, whose
`/{owner}/{album}/{filename}[/{variant}]` and `/{shortId}` patterns match almost anything,
so app.py must register it LAST; API prefixes are also refused inside it
(services/cdn.RESERVED_PREFIXES), so `/v1/anything` never becomes an image lookup.
Logic lives in services/cdn.py.
"""

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..dependencies import env_of, get_settings
from ..models.common import ERROR_RESPONSES, errors
from ..models.cattopic import IMAGE_ID
from ..security.auth import Identity, require
from ..services import cdn
from ..services.images import base_url
from ..services.variants import VARIANTS
from ..settings import Settings

NOT_FOUND = errors(404, e404="Not found (or not public)")
router = APIRouter(tags=["Serving"], responses=NOT_FOUND)
cdn_router = APIRouter(tags=["PixelFlare CDN"], responses=NOT_FOUND)
OBJECT = {"description": "The image bytes (206 for a Range, 304 for a matching ETag)",
          "content": {"image/*": {}}}
R2_OBJECT = {"description": "The image (or rendered PDF) bytes",
             "content": {"image/*": {}, "application/pdf": {}}}
# services/serving.object_response: ETag/If-None-Match, single byte ranges.
OBJECT_RESPONSES = {
    200: OBJECT,
    206: {"description": "The requested byte range (Content-Range)",
          "content": {"image/*": {}, "application/pdf": {}}},
    304: {"description": "Not modified (If-None-Match matched the ETag; no body)"},
    **errors(400, 416, e400="Invalid path (traversal, control characters)",
             e416="Range not satisfiable"),
}
SHORT_ID_RESPONSES = {key: value for key, value in OBJECT_RESPONSES.items() if key != 400}
# The keys /r2/ serves (services/serving.parse_key); anything else is a 404, and traversal
# or control characters a 400.
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_EXT = "(jpg|png|gif|webp|avif)"
R2_KEY = {"pattern": f"^(images/(landscape|portrait)/{_UUID}\\.{_EXT}"
                     f"|variants/{_UUID}/[a-z0-9][a-z0-9-]{{0,63}}\\.{_EXT}"
                     f"|renders/{_UUID}\\.pdf)$",
          "examples": ["images/landscape/550e8400-e29b-41d4-a716-446655440000.webp"],
          "description": "The object key, slashes literal (an encoded %2F is refused: 400)"}
# Variants made on first request are rate limited per client (services/variants.py).
GENERATED = {**OBJECT_RESPONSES, **errors(
    400, 416, 429, e400="Invalid path, or an invalid or unsupported image option",
    e416="Range not satisfiable", e429="Too many variant misses (Retry-After: 60)")}


@router.head("/r2/{path:path}", include_in_schema=False)
@router.get("/r2/{path:path}", summary="Get an image file (CattoPic)",
                  response_class=JSONResponse, responses={**GENERATED, 200: R2_OBJECT})
async def r2_object(request: Request, path: str = PathParam(json_schema_extra=R2_KEY),
                    settings: Settings = Depends(get_settings)):
    return await cdn.serve_r2(env_of(request), request, path, settings)


@router.head("/cdn-cgi/image/{options}/{source:path}", include_in_schema=False)
@router.get("/cdn-cgi/image/{options}/{source:path}",
                  summary="Image Resizing URL form (width, height, fit, format, quality, gravity, dpr)",
                  response_class=JSONResponse, responses=GENERATED)
async def cdn_cgi_image(options: str, source: str, request: Request,
                        settings: Settings = Depends(get_settings)):
    return await cdn.serve_transformation(env_of(request), request, options, source, settings)


class VariantsRequest(BaseModel):
    variants: list[str] = Field(min_length=1, max_length=16, examples=[["w512", "thumb"]],
                                json_schema_extra={"items": {"type": "string",
                                                             "enum": list(VARIANTS)}})


@router.post("/v1/images/{image_id}/variants", status_code=202, tags=["PixelFlare"],
             summary="Generate variants (PixelFlare)",
             responses={**ERROR_RESPONSES, **errors(
                 404, 409, e404="No such image (or not the caller's, or deleted)",
                 e409="The image's upload is not complete")})
async def generate_variants(body: VariantsRequest, request: Request,
                            image_id: str = PathParam(json_schema_extra={"pattern": IMAGE_ID}),
                            identity: Identity = Depends(require("images:write")),
                            settings: Settings = Depends(get_settings)):
    return await cdn.request_variants(env_of(request), identity.owner, image_id, body.variants,
                                      base_url(request, settings), settings)


@cdn_router.head("/{owner}/{album}/{filename}", include_in_schema=False)
@cdn_router.get("/{owner}/{album}/{filename}",
                      summary="An image by CDN path (PixelFlare; album `_` = none)",
                      response_class=JSONResponse, responses=OBJECT_RESPONSES)
async def cdn_original(owner: str, album: str, filename: str, request: Request,
                       settings: Settings = Depends(get_settings)):
    return await cdn.serve_cdn_path(env_of(request), request, owner, album, filename, None,
                                    settings)


@cdn_router.head("/{owner}/{album}/{filename}/{variant}", include_in_schema=False)
@cdn_router.get("/{owner}/{album}/{filename}/{variant}",
                      summary="A variant by CDN path (PixelFlare)",
                      response_class=JSONResponse, responses=GENERATED)
async def cdn_variant(owner: str, album: str, filename: str, variant: str, request: Request,
                      settings: Settings = Depends(get_settings)):
    return await cdn.serve_cdn_path(env_of(request), request, owner, album, filename, variant,
                                    settings)


@cdn_router.head("/{short_id}", include_in_schema=False)
@cdn_router.get("/{short_id}", summary="An image by short id",
                      response_class=JSONResponse, responses=SHORT_ID_RESPONSES)
async def cdn_short(short_id: str, request: Request):
    return await cdn.serve_short_id(env_of(request), request, short_id)
