"""`/api/images` and `/api/upload/single`: CattoPic's image endpoints, which also serve
Splinterpic clients (SPEC §4: `page` or `offset`, superset answers, soft delete)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, UploadFile

from pixhaven.errors import invalid
from pixhaven.models.cattopic import (
    IMAGE_ID,
    ApiImageAnswer,
    ApiImagePage,
    UpdateImageBody,
    UploadForm,
)
from pixhaven.models.common import ERROR_RESPONSES, answer, errors, request_body
from pixhaven.routers.api_images import cattopic_image, image_page, shape_api_images
from pixhaven.routers.cattopic.forms import form_bool, form_int, read_upload_form
from pixhaven.routers.native_json import NativeJSONResponse
from pixhaven.routers.requests import (
    PLAIN_BODY_ERRORS,
    CanReadImages,
    CanWriteImages,
    EnvDep,
    SettingsDep,
    file_bytes,
    page_params,
    read_json,
)
from pixhaven.services.images import api_images
from pixhaven.services.images import updates as image_updates
from pixhaven.services.images.keys import base_url
from pixhaven.services.images.lookup import owned_image
from pixhaven.services.images.pipeline import MAX_OUTPUT_SIDE, UploadOptions, process_upload
from pixhaven.services.images.store import NewImage
from pixhaven.services.images.tag_names import clean_tag_list, clean_tag_name
from pixhaven.settings import Settings

router = APIRouter(prefix="/api", tags=["CattoPic", "Splinterpic"], responses=ERROR_RESPONSES)

# CattoPic's `format` filter (its app's "all / gif / webp / avif / original"): gif is the
# stored type; webp and avif mean "has that version", original "has neither", as in CattoPic's
# server. jpeg, jpg and png filter on the stored type (Pixhaven's own, for Splinterpic clients).
# Any other value is ignored, as CattoPic's server ignores it.
FORMAT_FILTERS: dict[str, dict[str, Any]] = {
    "gif": {"formats": ("gif",)},
    "webp": {"version": "webp"},
    "avif": {"version": "avif"},
    "original": {"version": "none"},
    "jpeg": {"formats": ("jpg",)},
    "jpg": {"formats": ("jpg",)},
    "png": {"formats": ("png",)},
}


# CattoPic answers 400 for a malformed id (Path's extra is schema-only: the handler checks).
ImageId = Annotated[
    str, Path(description="The image's UUID", json_schema_extra={"pattern": IMAGE_ID})
]
NOT_FOUND = errors(404, e404="No such image (or not the caller's, or deleted/expired)")


@router.post(
    "/upload/single",
    summary="Upload one image (CattoPic)",
    responses=errors(
        413,
        415,
        e413="File or image too large",
        e415="Not a JPEG, PNG, GIF, WebP or AVIF image (by content)",
    ),
    openapi_extra=request_body(UploadForm, "multipart/form-data"),
)
async def upload_single(
    request: Request, identity: CanWriteImages, settings: SettingsDep, env: EnvDep
):
    form = await read_upload_form(request)
    upload: UploadFile = form["file"]
    options = UploadOptions(
        quality=form_int(form, "quality", low=1, high=100),
        # CattoPic's "no limit" (its app's default size option) is 0: no bound, like absent.
        max_width=form_int(form, "maxWidth", low=0, high=MAX_OUTPUT_SIDE) or None,
        max_height=form_int(form, "maxHeight", low=0, high=MAX_OUTPUT_SIDE) or None,
        generate_webp=form_bool(form, "generateWebp", True),
        generate_avif=form_bool(form, "generateAvif", True),
        preserve_animation=form_bool(form, "preserveAnimation", True),
    )
    tags = clean_tag_list(form.get("tags"))
    expiry = form_int(form, "expiryMinutes", low=0, high=image_updates.MAX_EXPIRY_MINUTES)
    data = await file_bytes(upload, settings)
    processed = await process_upload(env, data, settings, options)
    row, tags_now = await api_images.upload(
        env,
        processed,
        NewImage(
            owner=identity.owner,
            original_name=upload.filename or "",
            tags=tags,
            expiry_minutes=expiry or None,
        ),
    )
    shaped = cattopic_image(row, tags_now, base_url(request, settings))
    return {
        "success": True,
        "result": {
            "id": row["id"],
            "status": "success",
            "urls": shaped["urls"],
            "orientation": row["orientation"],
            "tags": tags_now,
            "sizes": shaped["sizes"],
            "expiryTime": row["expires_at"],
            "format": row["format"],
            "width": row["width"],
            "height": row["height"],
            "placeholder": row["placeholder"],
        },
    }


@router.get(
    "/images",
    summary="List images (CattoPic pages or Splinterpic offsets)",
    openapi_extra=answer(ApiImagePage),
)
async def list_images(
    request: Request, identity: CanReadImages, settings: SettingsDep, env: EnvDep
):
    limit, offset, page = page_params(request)
    query = request.query_params
    filters: dict[str, Any] = {}
    if query.get("tag") and (tag := clean_tag_name(query["tag"])):  # cleans to nothing: ignored
        filters["tag"] = tag
    if query.get("orientation"):
        if query["orientation"] not in ("landscape", "portrait"):
            raise invalid("orientation must be landscape or portrait", field="orientation")
        filters["orientation"] = query["orientation"]
    filters.update(FORMAT_FILTERS.get((query.get("format") or "all").lower(), {}))
    if query.get("collection_id"):
        filters["album_id"] = query["collection_id"]
    rows, total = await api_images.list_page(
        env.DB, identity.owner, limit=limit, offset=offset, **filters
    )
    page_answer = await image_page(
        request, settings, rows, total=total, limit=limit, offset=offset, page=page
    )
    return NativeJSONResponse({"success": True, **page_answer})


async def _image_answer(request: Request, settings: Settings, row: dict) -> NativeJSONResponse:
    image = (await shape_api_images(request, settings, [row]))[0]
    # Splinterpic clients read the image's fields at the top level, CattoPic's under "image".
    return NativeJSONResponse({**image, "success": True, "image": image})


@router.get(
    "/images/{image_id}",
    summary="Get one image",
    responses=NOT_FOUND,
    openapi_extra=answer(ApiImageAnswer),
)
async def get_image(
    request: Request,
    image_id: ImageId,
    identity: CanReadImages,
    settings: SettingsDep,
    env: EnvDep,
):
    row = await owned_image(env.DB, identity.owner, image_id)
    return await _image_answer(request, settings, row)


@router.put(
    "/images/{image_id}",
    summary="Update tags and expiry (CattoPic)",
    responses=NOT_FOUND,
    openapi_extra={**request_body(UpdateImageBody), **answer(ApiImageAnswer)},
)
async def update_image(
    request: Request,
    image_id: ImageId,
    identity: CanWriteImages,
    settings: SettingsDep,
    env: EnvDep,
):
    row = await owned_image(env.DB, identity.owner, image_id)
    body = await read_json(request, PLAIN_BODY_ERRORS)
    changes: dict[str, Any] = {}
    if "tags" in body:
        changes["tags"] = clean_tag_list(body["tags"])
    if "expiryMinutes" in body:
        minutes = body["expiryMinutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes < 0:
            raise invalid("expiryMinutes must be a non-negative number", field="expiryMinutes")
        if not minutes <= image_updates.MAX_EXPIRY_MINUTES:  # NaN too
            raise invalid(
                f"expiryMinutes must be between 0 and {image_updates.MAX_EXPIRY_MINUTES}",
                field="expiryMinutes",
            )
        changes["expiry_minutes"] = minutes
    row = await image_updates.update_image(env, row, **changes)
    return await _image_answer(request, settings, row)


@router.delete(
    "/images/{image_id}", summary="Delete an image (soft delete, restorable)", responses=NOT_FOUND
)
async def delete_image(image_id: ImageId, identity: CanWriteImages, env: EnvDep):
    row = await owned_image(env.DB, identity.owner, image_id)
    await image_updates.soft_delete(env, row)
    return {"success": True, "message": "Image deleted", "id": row["id"], "deleted": True}
