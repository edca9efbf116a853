"""PixelFlare images: `/v1/images` (two-step upload, cursor list, get, edit, soft delete,
restore) and `PUT /v1/uploads/{id}`, the signed upload route (its signature is its only
credential). Logic lives in services/images/direct_uploads.py and
services/images/pixelflare_resource.py. Pixhaven's additions for browsers (the console):
`thumbnail_url`, the detail's `versions`/`variants`, and `GET /v1/images/{id}/view/{name}`,
the signed view route (services/delivery/view_urls.py).

Choices where the PixelFlare document is silent (README documents them):
- `GET /v1/images/{id}` answers 404 for unknown, foreign, malformed, pending and deleted
  ids; `?include_deleted=true` shows a deleted one (as the list's flag does).
- `DELETE` answers 200 with the resource (`deleted_at` set): clients that expect no body
  ignore it, clients that read JSON get one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import Field

from pixhaven.models.cattopic import IMAGE_ID
from pixhaven.models.common import ERROR_RESPONSES, ParsedBody, answer, errors
from pixhaven.models.pixelflare import (
    CreateImageRequest,
    PixelFlareImageDetail,
    PixelFlareImageList,
    UpdateImageRequest,
)
from pixhaven.models.serving import OBJECT_RESPONSES
from pixhaven.routers.native_json import NativeJSONResponse
from pixhaven.routers.pixelflare.shapes import pixelflare_image, pixelflare_images, with_variants
from pixhaven.routers.requests import (
    CanReadImages,
    CanWriteImages,
    EnvDep,
    SettingsDep,
    raw_body_bytes,
)
from pixhaven.services.delivery import cdn_paths, view_urls
from pixhaven.services.delivery.variants import VARIANTS
from pixhaven.services.images import direct_uploads, lookup, upload_limits
from pixhaven.services.images import pixelflare_resource as service
from pixhaven.services.images import updates as image_updates
from pixhaven.services.images.keys import base_url
from pixhaven.services.images.upload_urls import check_signature, make_upload_url
from pixhaven.settings import Settings
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env


router = APIRouter(tags=["PixelFlare"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such image (or not the caller's, pending, or deleted)")
FILENAME_TAKEN = "Another image in this album already has this filename"


def signed_url_parameters(source: str) -> list[dict]:
    """The query parameters of a URL this API signed (`expires`, `signature`), documented."""
    return [
        {
            "name": name,
            "in": "query",
            "required": True,
            "schema": {"type": "string"},
            "description": f"From {source}",
        }
        for name in ("expires", "signature")
    ]


UPLOAD = {
    "parameters": signed_url_parameters("upload_url"),
    "requestBody": {
        "required": True,
        "description": "The image file's bytes",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
}
VIEW = {"parameters": signed_url_parameters("the signed URL (thumbnail_url, versions, variants)")}
RENDITIONS = [*view_urls.VERSIONS, *VARIANTS]


async def _resources(
    env: Env, request: Request, settings: Settings, rows: list[dict]
) -> list[dict]:
    """PixelFlare's image resource for each row (routers/pixelflare/shapes.py), with the
    `thumbnail_url` a browser can load (services/delivery/view_urls.py)."""
    tags, album_slugs = await lookup.tags_and_album_slugs(env.DB, rows)
    base, now = base_url(request, settings), utcnow()
    return [
        {**resource, "thumbnail_url": view_urls.thumbnail_url(base, row, settings, now)}
        for resource, row in zip(
            pixelflare_images(rows, tags, album_slugs, base), rows, strict=True
        )
    ]


async def _resource(env: Env, request: Request, settings: Settings, row: dict) -> dict:
    return (await _resources(env, request, settings, [row]))[0]


@router.post(
    "/v1/images",
    status_code=201,
    summary="Create an image and get its upload URL",
    responses=errors(
        409,
        429,
        503,
        e409="Another image in this album already has this filename (CONFLICT)",
        e429="Upload rate limit (UPLOAD_RATE_PER_MINUTE, UPLOAD_DAILY_LIMIT); see Retry-After",
        e503="Uploads are not configured (no signing secret)",
    ),
)
async def create_image(
    body: CreateImageRequest,
    request: Request,
    identity: CanWriteImages,
    settings: SettingsDep,
    env: EnvDep,
):
    filename = service.check_filename(body.filename) if body.filename is not None else None
    slug = service.check_slug(body.album) if body.album is not None else None
    tags = service.check_tags(body.tags)
    alt = service.check_alt(body.alt)
    base = base_url(request, settings)
    now = utcnow()
    # A filename the album already has is refused (409) before the upload is counted.
    await direct_uploads.refuse_taken_filename(env.DB, identity.owner, filename, slug)
    # Validated: the upload is counted against the owner's limits (or refused with 429),
    # then writes happen (the album, if new, then the row).
    await upload_limits.spend_upload(env, settings, identity.owner, identity.key_id)
    album_id = await service.album_id_for(env.DB, identity.owner, slug)
    row = await direct_uploads.create_pending(
        env,
        owner=identity.owner,
        filename=filename,
        album_id=album_id,
        tags=tags,
        alt=alt,
        is_private=body.is_private,
    )
    upload = make_upload_url(settings, base, row["id"], now)
    return {
        **await _resource(env, request, settings, row),
        "upload_url": upload.url,
        "upload_expires_at": iso(upload.expires_at),
        "upload_method": "PUT",
    }


@router.put(
    "/v1/uploads/{image_id}",
    summary="Upload the bytes of a created image (the signed upload_url; no bearer token)",
    openapi_extra=UPLOAD,
    responses=errors(
        403,
        409,
        410,
        413,
        415,
        503,
        e403="Invalid or expired upload URL",
        e409="Already uploaded, an upload is in progress, or another image completed into "
        "the album with this filename meanwhile (CONFLICT)",
        e410="This upload URL is no longer valid",
        e413="File or image too large",
        e415="Not a JPEG, PNG, GIF, WebP or AVIF image (by content)",
        e503="Uploads are not configured (no signing secret)",
    ),
)
async def upload_bytes(image_id: str, request: Request, settings: SettingsDep, env: EnvDep):
    check_signature(
        settings,
        image_id,
        request.query_params.get("expires"),
        request.query_params.get("signature"),
        utcnow(),
    )
    row = await direct_uploads.waiting_upload(env.DB, image_id)
    data = await raw_body_bytes(request, settings)
    completed = await direct_uploads.complete_upload(env, settings, row, data)
    return await _resource(env, request, settings, completed)


@router.get(
    "/v1/images",
    summary="List images (cursor pagination, newest first)",
    openapi_extra=answer(PixelFlareImageList),
)
async def list_images(
    request: Request, identity: CanReadImages, settings: SettingsDep, env: EnvDep
):
    query = request.query_params
    rows, next_cursor = await service.list_images(
        env.DB,
        identity.owner,
        limit=service.parse_limit(query.get("limit")),
        cursor=query.get("cursor") or None,
        album=query.get("album") or None,
        tag=query.get("tag") or None,
        include_deleted=service.parse_flag(query.get("include_deleted"), "include_deleted"),
        deleted_only=service.parse_flag(query.get("deleted_only"), "deleted_only"),
        orientation=service.parse_orientation(query.get("orientation")),
        formats=service.parse_formats(query.get("format")),
    )
    resources = await _resources(env, request, settings, rows)
    return NativeJSONResponse({"data": resources, "next_cursor": next_cursor})


@router.get(
    "/v1/images/{image_id}",
    summary="Get an image",
    responses=NOT_FOUND,
    openapi_extra=answer(PixelFlareImageDetail),
)
async def get_image(
    image_id: str,
    request: Request,
    identity: CanReadImages,
    settings: SettingsDep,
    env: EnvDep,
):
    include_deleted = service.parse_flag(
        request.query_params.get("include_deleted"), "include_deleted"
    )
    row = await service.owned_image(
        env,
        settings,
        identity.owner,
        image_id,
        include_deleted=include_deleted,
        complete_pending=True,
    )
    # The detail view's renditions: every version and variant, loadable by a browser.
    urls = view_urls.rendition_urls(base_url(request, settings), row, settings, utcnow())
    return NativeJSONResponse({**await _resource(env, request, settings, row), **urls})


@router.patch(
    "/v1/images/{image_id}",
    summary="Update filename, album, tags, alt, privacy",
    responses=errors(404, 409, e404=NOT_FOUND[404]["description"], e409=FILENAME_TAKEN),
)
async def update_image(
    image_id: str,
    body: UpdateImageRequest,
    request: Request,
    identity: CanWriteImages,
    settings: SettingsDep,
    env: EnvDep,
):
    row = await service.owned_image(env, settings, identity.owner, image_id)
    changes = await service.plan_update(env.DB, row, body.model_dump(), body.model_fields_set)
    if changes:
        row = await image_updates.update_image(env, row, **changes)
    return await _resource(env, request, settings, row)


@router.delete(
    "/v1/images/{image_id}",
    summary="Soft delete an image (restorable), or cancel a pending upload",
    responses=NOT_FOUND,
)
async def delete_image(
    image_id: str,
    request: Request,
    identity: CanWriteImages,
    settings: SettingsDep,
    env: EnvDep,
):
    row = await service.owned_image(
        env, settings, identity.owner, image_id, include_unfinished=True
    )
    if row["status"] != "ready":
        # Cancelled: gone at once, its upload URL answers 410. The answer is the upload as
        # it was (its tags included), deleted.
        answer = await _resource(env, request, settings, row)
        cancelled_at = await direct_uploads.cancel_upload(env, row)
        if cancelled_at is not None:
            return {**answer, "deleted_at": cancelled_at}
        row = await service.owned_image(env, settings, identity.owner, image_id)  # completed
    return await _resource(env, request, settings, await service.soft_delete(env, row))


@router.post(
    "/v1/images/{image_id}/restore",
    summary="Restore a soft-deleted image",
    responses=errors(
        404,
        409,
        410,
        e404="No such image (or not the caller's)",
        e409="Another image of the album now has this filename (CONFLICT); rename or "
        "delete it first",
        e410="Past the retention period: purged",
    ),
)
async def restore_image(
    image_id: str,
    request: Request,
    identity: CanWriteImages,
    settings: SettingsDep,
    env: EnvDep,
):
    row = await service.owned_image(env, settings, identity.owner, image_id, include_deleted=True)
    row = await image_updates.restore(env, row, settings.soft_delete_retention_days)
    return await _resource(env, request, settings, row)


class VariantsRequest(ParsedBody):
    variants: list[str] = Field(
        min_length=1,
        max_length=16,
        examples=[["w512", "thumb"]],
        json_schema_extra={"items": {"type": "string", "enum": list(VARIANTS)}},
    )


@router.post(
    "/v1/images/{image_id}/variants",
    status_code=202,
    summary="Generate variants (PixelFlare)",
    responses={
        **ERROR_RESPONSES,
        **errors(
            404,
            409,
            e404="No such image (or not the caller's, or deleted)",
            e409="The image's upload is not complete",
        ),
    },
)
async def generate_variants(
    body: VariantsRequest,
    request: Request,
    image_id: Annotated[str, PathParam(json_schema_extra={"pattern": IMAGE_ID})],
    identity: CanWriteImages,
    settings: SettingsDep,
    env: EnvDep,
):
    queued = await cdn_paths.request_variants(env, identity.owner, image_id, body.variants)
    base = base_url(request, settings)
    resource = pixelflare_image(queued.row, queued.tags, base, queued.album_slug)
    urls = view_urls.variant_view_urls(base, queued.row, queued.names, settings, utcnow())
    return with_variants(resource, urls)


@router.head("/v1/images/{image_id}/view/{name}", include_in_schema=False)
@router.get(
    "/v1/images/{image_id}/view/{name}",
    summary="An image's version or variant by signed view URL (no bearer token)",
    response_class=JSONResponse,
    openapi_extra=VIEW,
    responses={
        **OBJECT_RESPONSES,
        **errors(
            403,
            404,
            429,
            e403="Invalid or expired view URL",
            e404="No such image or rendition (or purged, or not uploaded)",
            e429="Variant misses are rate limited (100 a minute per IP)",
        ),
    },
)
async def view_image(
    request: Request,
    image_id: Annotated[str, PathParam(json_schema_extra={"pattern": IMAGE_ID})],
    name: Annotated[str, PathParam(json_schema_extra={"enum": RENDITIONS})],
    settings: SettingsDep,
    env: EnvDep,
):
    return await view_urls.serve_view(env, request, settings, image_id, name, utcnow())
