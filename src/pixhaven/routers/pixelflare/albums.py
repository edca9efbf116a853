"""PixelFlare albums (`/v1/albums`, addressed by slug) and `GET /v1/tags`.

Albums are the same rows Splinterpic calls collections (routers/splinterpic/collections.py).
"""

from fastapi import APIRouter, Request

from pixhaven.models.common import ERROR_RESPONSES, answer, errors, request_body
from pixhaven.models.pixelflare import AlbumList, CreateAlbumBody, TagUseList, UpdateAlbumBody
from pixhaven.routers.native_json import NativeJSONResponse
from pixhaven.routers.requests import (
    PLAIN_BODY_ERRORS,
    CanReadImages,
    CanWriteImages,
    EnvDep,
    read_json,
)
from pixhaven.services.images import albums
from pixhaven.services.images import tags as tag_management

router = APIRouter(prefix="/v1", tags=["PixelFlare"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such album")
SLUG_TAKEN = "An album with this slug exists"


@router.get(
    "/tags",
    summary="List tags with the number of visible images using each",
    openapi_extra=answer(TagUseList),
)
async def list_tags(identity: CanReadImages, env: EnvDep):
    tags = await tag_management.list_tags(env.DB, identity.owner)
    return NativeJSONResponse(
        {"data": [{"tag": tag["name"], "count": tag["count"]} for tag in tags]}
    )


@router.get("/albums", summary="List albums", openapi_extra=answer(AlbumList))
async def list_albums(identity: CanReadImages, env: EnvDep):
    return NativeJSONResponse({"data": await albums.list_albums(env.DB, identity.owner)})


@router.post(
    "/albums",
    status_code=201,
    summary="Create an album (409 if the slug is taken)",
    responses=errors(409, e409=SLUG_TAKEN),
    openapi_extra=request_body(CreateAlbumBody),
)
async def create_album(request: Request, identity: CanWriteImages, env: EnvDep):
    body = await read_json(request, PLAIN_BODY_ERRORS)
    return await albums.create_album(env.DB, identity.owner, body)


@router.get("/albums/{slug}", summary="Get an album", responses=NOT_FOUND)
async def get_album(slug: str, identity: CanReadImages, env: EnvDep):
    db = env.DB
    return await albums.resource(
        db, identity.owner, await albums.find_by_slug(db, identity.owner, slug)
    )


@router.patch(
    "/albums/{slug}",
    summary="Update an album's slug, title or description",
    responses=errors(404, 409, e404="No such album", e409=SLUG_TAKEN),
    openapi_extra=request_body(UpdateAlbumBody),
)
async def update_album(slug: str, request: Request, identity: CanWriteImages, env: EnvDep):
    db = env.DB
    row = await albums.find_by_slug(db, identity.owner, slug)
    body = await read_json(request, PLAIN_BODY_ERRORS)
    return await albums.update_album(db, identity.owner, row, body)


@router.delete(
    "/albums/{slug}", summary="Delete an album (its images stay, in no album)", responses=NOT_FOUND
)
async def delete_album(slug: str, identity: CanWriteImages, env: EnvDep):
    db = env.DB
    row = await albums.find_by_slug(db, identity.owner, slug)
    return await albums.delete_album(db, identity.owner, row)
