"""Pictify templates: `/templates` CRUD, `GET /templates/{uid}/variables`,
`POST /templates/{uid}/render` (the same answer as `POST /image`).

Scopes: `templates:read` to list and read, `templates:write` to create, update and delete,
`render` to render. Owner-scoped. Logic lives in services/templates.py.
"""

from fastapi import APIRouter, Depends, Query, Request

from pixhaven.dependencies import env_of, settings_of
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import (
    IDEMPOTENCY_KEY,
    CreateTemplateBody,
    RenderTemplateBody,
    UpdateTemplateBody,
)
from pixhaven.routers.pictify.images import ANSWER, generate, json_body
from pixhaven.security.auth import Identity, require
from pixhaven.services.rendering import templates

router = APIRouter(tags=["Pictify templates"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such template (for this owner)")


@router.get("/templates", summary="List templates (Pictify)")
async def list_templates(
    request: Request,
    page: int = Query(1, ge=1, le=100_000),
    limit: int = Query(20, ge=1, le=100),
    identity: Identity = Depends(require("templates:read")),
):
    return await templates.list_page(env_of(request), identity.owner, page, limit)


@router.post(
    "/templates",
    summary="Create a template (Pictify)",
    status_code=201,
    openapi_extra=request_body(CreateTemplateBody),
)
async def create_template(
    request: Request, identity: Identity = Depends(require("templates:write"))
):
    return await templates.create(
        env_of(request),
        identity.owner,
        await json_body(request),
        settings_of(request).max_components,
    )


@router.get("/templates/{uid}", summary="Get a template (Pictify)", responses=NOT_FOUND)
async def get_template(
    uid: str, request: Request, identity: Identity = Depends(require("templates:read"))
):
    return templates.shape(await templates.get(env_of(request), identity.owner, uid))


@router.put(
    "/templates/{uid}",
    summary="Update a template (Pictify)",
    responses=NOT_FOUND,
    openapi_extra=request_body(UpdateTemplateBody),
)
async def update_template(
    uid: str, request: Request, identity: Identity = Depends(require("templates:write"))
):
    return await templates.update(
        env_of(request),
        identity.owner,
        uid,
        await json_body(request),
        settings_of(request).max_components,
    )


@router.delete("/templates/{uid}", summary="Delete a template (Pictify)", responses=NOT_FOUND)
async def delete_template(
    uid: str, request: Request, identity: Identity = Depends(require("templates:write"))
):
    await templates.delete(env_of(request), identity.owner, uid)
    return {"success": True, "uid": uid, "deleted": True}


@router.get(
    "/templates/{uid}/variables",
    summary="Get a template's variables (Pictify)",
    responses=NOT_FOUND,
)
async def template_variables(
    uid: str, request: Request, identity: Identity = Depends(require("templates:read"))
):
    row = await templates.get(env_of(request), identity.owner, uid)
    return {"success": True, "uid": uid, "variables": row["variables"]}


@router.post(
    "/templates/{uid}/render",
    summary="Render a template to an image (Pictify)",
    status_code=201,
    responses=ANSWER,
    openapi_extra={
        **request_body(RenderTemplateBody, required=False),
        "parameters": [IDEMPOTENCY_KEY],
    },
)
async def render_template(
    uid: str, request: Request, identity: Identity = Depends(require("render"))
):
    body = await json_body(request) if (await request.body()).strip() else {}
    return await generate(request, identity, body, uid, f"POST /templates/{uid}/render")
