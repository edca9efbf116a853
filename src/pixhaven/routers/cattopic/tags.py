"""CattoPic tag management: `GET/POST /api/tags`, `PUT/DELETE /api/tags/{name}`,
`POST /api/tags/batch`. Names in paths are URL-decoded and folded; names in bodies are
cleaned as CattoPic's server cleans them (services/images/tag_names.py: NFKC and case-folded,
every character other than letters of any script, digits, '-' and '_' removed, cut to 50),
and only a name that cleans to nothing is a 400."""

from fastapi import APIRouter, Request

from pixhaven.models.cattopic import BatchTagsBody, CreateTagBody, RenameTagBody, TagList
from pixhaven.models.common import ERROR_RESPONSES, answer, errors, request_body
from pixhaven.routers.native_json import NativeJSONResponse
from pixhaven.routers.requests import (
    PLAIN_BODY_ERRORS,
    CanReadImages,
    CanWriteImages,
    EnvDep,
    read_json,
)
from pixhaven.services.images import tags as tag_management

router = APIRouter(prefix="/api/tags", tags=["CattoPic"], responses=ERROR_RESPONSES)
NO_TAG = errors(404, e404="No such tag")


@router.get(
    "",
    summary="List tags with the number of visible images using each, by name",
    openapi_extra=answer(TagList),
)
async def list_tags(identity: CanReadImages, env: EnvDep):
    tags = await tag_management.list_tags(env.DB, identity.owner)
    # By name, as CattoPic's server sorts them (SQLite's binary order: code points, as here).
    return NativeJSONResponse({"success": True, "tags": sorted(tags, key=lambda tag: tag["name"])})


@router.post(
    "",
    summary="Create a tag (an existing tag is answered as it is)",
    openapi_extra=request_body(CreateTagBody),
)
async def create_tag(request: Request, identity: CanWriteImages, env: EnvDep):
    body = await read_json(request, PLAIN_BODY_ERRORS)
    tag = await tag_management.create_tag(env.DB, identity.owner, body.get("name"))
    return {"success": True, "tag": tag}


@router.post(
    "/batch",
    summary="Add and remove tags on many images at once",
    responses=errors(404, e404="Some images are not the caller's live images (nothing changed)"),
    openapi_extra=request_body(BatchTagsBody),
)
async def batch_update(request: Request, identity: CanWriteImages, env: EnvDep):
    body = await read_json(request, PLAIN_BODY_ERRORS)
    updated = await tag_management.batch_update(env.DB, identity.owner, body)
    return {"success": True, "updatedCount": updated}


@router.put(
    "/{name}",
    summary="Rename a tag on all its images (merging into an existing one)",
    responses=NO_TAG,
    openapi_extra=request_body(RenameTagBody),
)
async def rename_tag(name: str, request: Request, identity: CanWriteImages, env: EnvDep):
    body = await read_json(request, PLAIN_BODY_ERRORS)
    tag = await tag_management.rename_tag(env.DB, identity.owner, name, body.get("newName"))
    return {"success": True, "tag": tag}


@router.delete(
    "/{name}",
    summary="Delete a tag and the images carrying it (soft delete); an unknown tag deletes 0",
)
async def delete_tag(name: str, identity: CanWriteImages, env: EnvDep):
    deleted = await tag_management.delete_tag(env.DB, identity.owner, name)
    return {
        "success": True,
        "message": "Tag and associated images deleted",
        "deletedImages": deleted,
    }
