"""Pictify bindings: `/bindings` CRUD (answers in the `{binding: …}` envelope, fields also at
the top level as the docs show them), `POST /bindings/{uid}/refresh`, the public image URL
`GET /bindings/{uid}/image` and the push receiver `POST /bindings/{uid}/webhook`.

Scopes as templates: `templates:read` to list and read, `templates:write` to create, update
and delete, `render` to refresh. Owner-scoped. The image URL needs no key (the binding's
unguessable uid is its address, like Pictify's CDN URL); a push needs the binding's own
secret. Logic lives in services/bindings/.
"""

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import IDEMPOTENCY_KEY, BindingBody, UpdateBindingBody
from pixhaven.routers.pictify.rendering import idempotent_answer
from pixhaven.routers.pictify.shapes import answer
from pixhaven.routers.requests import (
    FIELD_LIST_BODY_ERRORS,
    CanReadTemplates,
    CanRender,
    CanWriteTemplates,
    EnvDep,
    SettingsDep,
    read_json,
)
from pixhaven.services.bindings import definition, refresh
from pixhaven.services.images.keys import base_url
from pixhaven.services.rendering import idempotency

router = APIRouter(tags=["Pictify bindings"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such binding (for this owner)")
IDEMPOTENT = errors(
    409,
    422,
    e409="A request with this Idempotency-Key is still running, or the binding is paused",
    e422="An Idempotency-Key reused with another request",
)


def wrapped(binding: dict) -> dict:
    """Pictify's `{binding: …}` envelope, the fields also at the top level (the docs)."""
    return {"success": True, **binding, "binding": binding}


@router.get("/bindings", summary="List bindings (Pictify)")
async def list_bindings(
    request: Request,
    identity: CanReadTemplates,
    settings: SettingsDep,
    env: EnvDep,
    page: int = Query(1, ge=1, le=100_000),
    limit: int = Query(20, ge=1, le=100),
    template_id: str | None = Query(None, alias="templateId", max_length=200),
    template_uid: str | None = Query(None, alias="templateUid", max_length=200),
    status: definition.Status | None = None,
):
    return await definition.list_page(
        env,
        identity.owner,
        base_url(request, settings),
        page,
        limit,
        template_id or template_uid,
        status,
    )


@router.post(
    "/bindings",
    summary="Create a binding (Pictify)",
    status_code=201,
    responses={**IDEMPOTENT, **errors(404, e404="No such template (for this owner)")},
    openapi_extra={**request_body(BindingBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def create_binding(
    request: Request, identity: CanWriteTemplates, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)

    async def produce():
        base = base_url(request, settings)
        return 201, wrapped(await definition.create(env, settings, identity.owner, base, body))

    # A retried create with the same Idempotency-Key answers the first binding (and its
    # secret, to the same owner) instead of making a second.
    return await idempotent_answer(request, env, identity, "POST /bindings", body, produce)


@router.get("/bindings/{uid}", summary="Get a binding (Pictify)", responses=NOT_FOUND)
async def get_binding(
    uid: str, request: Request, identity: CanReadTemplates, settings: SettingsDep, env: EnvDep
):
    row = await definition.get(env, identity.owner, uid)
    return wrapped(definition.shape(row, base_url(request, settings), with_data=True))


@router.put(
    "/bindings/{uid}",
    summary="Update a binding (Pictify)",
    responses={**NOT_FOUND, **errors(404, e404="No such binding or template (for this owner)")},
    openapi_extra=request_body(UpdateBindingBody),
)
async def update_binding(
    uid: str, request: Request, identity: CanWriteTemplates, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    base = base_url(request, settings)
    row, redefined = await definition.update(env, settings, identity.owner, uid, base, body)
    if redefined and row["status"] != "paused" and row["image_id"] is not None:
        await refresh.queue_refresh(env, row, always=True)  # the image shows the new definition
    return wrapped(definition.shape(row, base))


@router.delete("/bindings/{uid}", summary="Delete a binding (Pictify)", responses=NOT_FOUND)
async def delete_binding(uid: str, identity: CanWriteTemplates, env: EnvDep):
    row = await definition.get(env, identity.owner, uid)
    await definition.delete(env, identity.owner, uid)
    await refresh.discard(env, row["image_id"])  # after the row: the URL stops serving it first
    return {"success": True, "uid": uid, "deleted": True}


@router.post(
    "/bindings/{uid}/refresh",
    summary="Re-render a binding now (Pictify)",
    status_code=202,
    responses={**NOT_FOUND, **IDEMPOTENT},
    openapi_extra={"parameters": [IDEMPOTENCY_KEY]},
)
async def refresh_binding(
    uid: str, request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    async def produce():
        row = await definition.get(env, identity.owner, uid)
        if row["status"] == "paused":
            raise refresh.paused(uid)
        await refresh.queue_refresh(env, row, always=True)
        url = definition.image_url(base_url(request, settings), uid)
        return 202, {"success": True, "status": "refreshing", "uid": uid, "imageUrl": url}

    route = f"POST /bindings/{uid}/refresh"
    return await idempotent_answer(request, env, identity, route, {}, produce)


IMAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The latest render (Content-Type of its format; ETag; Cache-Control)",
        "content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}},
    },
    304: {"description": "Not modified (If-None-Match)"},
    **errors(
        404,
        409,
        416,
        502,
        e409="The binding is paused and has not rendered yet",
        e502="The last refresh failed (onError serve_error), or no image could be rendered",
    ),
}


@router.get(
    "/bindings/{uid}/image",
    summary="A binding's image (Pictify's stable image URL; no API key)",
    responses=IMAGE,
    response_class=JSONResponse,
)
async def binding_image(uid: str, request: Request, settings: SettingsDep, env: EnvDep):
    return await refresh.serve_image(env, settings, request, uid)


@router.post(
    "/bindings/{uid}/webhook",
    summary="Push data to a binding (its secret as Authorization: Bearer)",
    status_code=202,
    responses={**NOT_FOUND, **IDEMPOTENT},
    openapi_extra={
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"description": "the data (JSON)"}}},
        },
    },
)
async def push_to_binding(uid: str, request: Request, settings: SettingsDep, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS, object_only=False, optional=True)
    row = await refresh.authorized_push(env, request, uid)

    async def produce():
        await refresh.accept_push(env, row, body)
        url = definition.image_url(base_url(request, settings), uid)
        return 202, {"success": True, "status": "refreshing", "uid": uid, "imageUrl": url}

    # The binding's owner is the Idempotency-Key's namespace, as an API key's owner is.
    status, stored, replayed = await idempotency.idempotent(
        env,
        row["owner"],
        request.headers.get("idempotency-key"),
        f"POST /bindings/{uid}/webhook",
        body,
        produce,
    )
    return answer(status, stored, replayed)
