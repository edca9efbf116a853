"""Splinterpic collections: `GET/POST /api/collections`, `GET/DELETE /api/collections/{id}`,
`GET /api/collections/{id}/images`. `{id}` is a collection's id or its slug.

Collections are the rows PixelFlare calls albums (routers/pixelflare_albums.py): each answer
carries both products' fields (id, name, description, image_count, created_at, updated_at,
slug, title).
"""

from fastapi import APIRouter, Depends, Request

from pixhaven.dependencies import env_of, get_settings
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.splinterpic import CreateCollectionBody
from pixhaven.routers.cattopic.images import json_object, page_params
from pixhaven.routers.forms import query_int
from pixhaven.security.auth import Identity, require
from pixhaven.services.images import albums, api_images
from pixhaven.services.images.keys import base_url
from pixhaven.settings import Settings

router = APIRouter(prefix="/api/collections", tags=["Splinterpic"], responses=ERROR_RESPONSES)

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
NOT_FOUND = errors(404, e404="No such collection (by id or slug)")


def _offset_params(request: Request) -> tuple[int, int]:
    """Splinterpic pagination: `limit` (default 20, at most 100) and `offset`."""
    return (
        min(query_int(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT),
        query_int(request, "offset", 0, 0),
    )


def _one(collection: dict) -> dict:
    # Splinterpic clients read the fields at the top level; `collection` holds them too.
    return {**collection, "success": True, "collection": collection}


@router.get("", summary="List collections (limit/offset)")
async def list_collections(request: Request, identity: Identity = Depends(require("images:read"))):
    limit, offset = _offset_params(request)
    collections, total = await albums.list_collections(
        env_of(request).DB, identity.owner, limit, offset
    )
    return {
        "success": True,
        "collections": collections,
        "pagination": {
            "limit": limit,
            "offset": offset,
            "total": total,
            "has_more": offset + len(collections) < total,
        },
    }


@router.post(
    "",
    status_code=201,
    summary="Create a collection (slug derived from the name)",
    responses=errors(409, e409="No free slug could be found for this name"),
    openapi_extra=request_body(CreateCollectionBody),
)
async def create_collection(
    request: Request, identity: Identity = Depends(require("images:write"))
):
    body = await json_object(request)
    return _one(await albums.create_collection(env_of(request).DB, identity.owner, body))


@router.get("/{collection_id}", summary="Get a collection by id or slug", responses=NOT_FOUND)
async def get_collection(
    collection_id: str, request: Request, identity: Identity = Depends(require("images:read"))
):
    db = env_of(request).DB
    row = await albums.find_collection(db, identity.owner, collection_id)
    return _one(await albums.resource(db, identity.owner, row))


@router.get(
    "/{collection_id}/images",
    summary="List a collection's images (like /api/images)",
    responses=NOT_FOUND,
)
async def list_collection_images(
    collection_id: str,
    request: Request,
    identity: Identity = Depends(require("images:read")),
    settings: Settings = Depends(get_settings),
):
    db = env_of(request).DB
    row = await albums.find_collection(db, identity.owner, collection_id)
    limit, offset, page = page_params(request)
    rows, total = await api_images.list_page(
        db, identity.owner, limit=limit, offset=offset, album_id=row["id"]
    )
    return {
        "success": True,
        "collection_id": row["id"],
        "images": await api_images.shape(db, rows, base_url(request, settings)),
        "page": page,
        "limit": limit,
        "total": total,
        "totalPages": (total + limit - 1) // limit,
        "pagination": {
            "limit": limit,
            "offset": offset,
            "total": total,
            "has_more": offset + len(rows) < total,
        },
    }


@router.delete(
    "/{collection_id}", summary="Delete a collection (its images stay)", responses=NOT_FOUND
)
async def delete_collection(
    collection_id: str, request: Request, identity: Identity = Depends(require("images:write"))
):
    db = env_of(request).DB
    row = await albums.find_collection(db, identity.owner, collection_id)
    gone = await albums.delete_album(db, identity.owner, row)
    return {
        "success": True,
        "message": "Collection deleted",
        "id": gone["id"],
        "deleted": True,
        "collection": gone,
    }
