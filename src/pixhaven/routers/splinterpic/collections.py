"""Splinterpic collections: `GET/POST /api/collections`, `GET/DELETE /api/collections/{id}`,
`GET /api/collections/{id}/images`. `{id}` is a collection's id or its slug.

Collections are the rows PixelFlare calls albums (routers/pixelflare/albums.py): each answer
carries both products' fields (id, name, description, image_count, created_at, updated_at,
slug, title).
"""

from fastapi import APIRouter, Request

from pixhaven.models.common import ERROR_RESPONSES, answer, errors, request_body
from pixhaven.models.splinterpic import CollectionImagePage, CollectionList, CreateCollectionBody
from pixhaven.routers.api_images import image_page
from pixhaven.routers.native_json import NativeJSONResponse
from pixhaven.routers.requests import (
    DEFAULT_LIMIT,
    SPLINTERPIC_BODY_ERRORS,
    CanReadImages,
    CanWriteImages,
    EnvDep,
    SettingsDep,
    offset_params,
    page_params,
    read_json,
)
from pixhaven.services.images import albums, api_images

router = APIRouter(prefix="/api/collections", tags=["Splinterpic"], responses=ERROR_RESPONSES)

NOT_FOUND = errors(404, e404="No such collection (by id or slug)")


def _one(collection: dict) -> dict:
    # Splinterpic clients read the fields at the top level; `collection` holds them too.
    return {**collection, "success": True, "collection": collection}


@router.get("", summary="List collections (limit/offset)", openapi_extra=answer(CollectionList))
async def list_collections(request: Request, identity: CanReadImages, env: EnvDep):
    limit, offset = offset_params(request)
    collections, total = await albums.list_collections(env.DB, identity.owner, limit, offset)
    return NativeJSONResponse(
        {
            "success": True,
            "collections": collections,
            "pagination": {
                "limit": limit,
                "offset": offset,
                "total": total,
                "has_more": offset + len(collections) < total,
            },
        }
    )


@router.post(
    "",
    status_code=201,
    summary="Create a collection (slug derived from the name)",
    responses=errors(409, e409="No free slug could be found for this name"),
    openapi_extra=request_body(CreateCollectionBody),
)
async def create_collection(request: Request, identity: CanWriteImages, env: EnvDep):
    body = await read_json(request, SPLINTERPIC_BODY_ERRORS)
    return _one(await albums.create_collection(env.DB, identity.owner, body))


@router.get("/{collection_id}", summary="Get a collection by id or slug", responses=NOT_FOUND)
async def get_collection(collection_id: str, identity: CanReadImages, env: EnvDep):
    db = env.DB
    row = await albums.find_collection(db, identity.owner, collection_id)
    return _one(await albums.resource(db, identity.owner, row))


@router.get(
    "/{collection_id}/images",
    summary="List a collection's images (like /api/images)",
    responses=NOT_FOUND,
    openapi_extra=answer(CollectionImagePage),
)
async def list_collection_images(
    collection_id: str,
    request: Request,
    identity: CanReadImages,
    settings: SettingsDep,
    env: EnvDep,
):
    db = env.DB
    row = await albums.find_collection(db, identity.owner, collection_id)
    limit, offset, page = page_params(request, DEFAULT_LIMIT)  # Splinterpic's 20
    rows, total = await api_images.list_page(
        db, identity.owner, limit=limit, offset=offset, album_id=row["id"]
    )
    page_answer = await image_page(
        request, settings, rows, total=total, limit=limit, offset=offset, page=page
    )
    return NativeJSONResponse({"success": True, "collection_id": row["id"], **page_answer})


@router.delete(
    "/{collection_id}", summary="Delete a collection (its images stay)", responses=NOT_FOUND
)
async def delete_collection(collection_id: str, identity: CanWriteImages, env: EnvDep):
    db = env.DB
    row = await albums.find_collection(db, identity.owner, collection_id)
    gone = await albums.delete_album(db, identity.owner, row)
    return {
        "success": True,
        "message": "Collection deleted",
        "id": gone["id"],
        "deleted": True,
        "collection": gone,
    }
