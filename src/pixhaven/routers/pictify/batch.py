"""Pictify batch rendering: `POST /templates/{uid}/batch-render` (202),
`GET /templates/batch/{id}/results`, `POST /templates/batch/{id}/cancel`.

Scope `render` for all three.
Owner-scoped. Logic lives in services/rendering/batch.py.
"""

from typing import Literal

from fastapi import APIRouter, Query, Request

from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import IDEMPOTENCY_KEY, BatchRenderBody
from pixhaven.routers.pictify.rendering import idempotent_answer
from pixhaven.routers.requests import (
    FIELD_LIST_BODY_ERRORS,
    CanRender,
    EnvDep,
    SettingsDep,
    read_json,
)
from pixhaven.services.images.keys import base_url
from pixhaven.services.rendering import batch as batch_render

router = APIRouter(tags=["Pictify batch"], responses=ERROR_RESPONSES)
BATCH = {
    "description": "The batch: {id, batchId, status (pending, processing, completed,"
    " partial, failed, cancelled), message, template, templateUid, format, total, completed,"
    " failed, cancelled, pending, progress, totalItems, completedItems, failedItems,"
    " totalCount, completedCount, failedCount, cancelledCount, createdAt, updatedAt,"
    " finishedAt, completedAt}"
}


@router.post(
    "/templates/{uid}/batch-render",
    summary="Start a batch render (Pictify)",
    status_code=202,
    responses={202: BATCH, **errors(404, e404="No such template (for this owner)")},
    openapi_extra={**request_body(BatchRenderBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def start_batch(
    uid: str, request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)

    async def produce():
        return 202, await batch_render.start(
            env, settings, identity.owner, identity.key_id, base_url(request, settings), uid, body
        )

    route = f"POST /templates/{uid}/batch-render"
    return await idempotent_answer(request, env, identity, route, body, produce)


@router.get(
    "/templates/batch/{batch_id}/results",
    summary="Get a batch's results (Pictify)",
    responses={
        200: {
            "description": "The batch with `results`: one per item, in order, {index,"
            " status, success, url, id, …, variables (names), variableValues | error};"
            " `errors` (the failed items), `batch` and `pagination` as Pictify's docs show"
        },
        **errors(404, e404="No such batch (for this owner)"),
    },
)
async def batch_results(
    batch_id: str,
    identity: CanRender,
    env: EnvDep,
    page: int = Query(1, ge=1, le=100_000),
    limit: int = Query(batch_render.MAX_ITEMS, ge=1, le=batch_render.MAX_ITEMS),
    status: Literal["completed", "failed", "cancelled", "queued", "running"] | None = Query(
        None, description="Only the items in this status"
    ),
):
    return await batch_render.results(env, identity.owner, batch_id, page, limit, status)


@router.post(
    "/templates/batch/{batch_id}/cancel",
    summary="Cancel a batch (Pictify)",
    responses={200: BATCH, **errors(404, e404="No such batch (for this owner)")},
    openapi_extra={"parameters": [IDEMPOTENCY_KEY]},
)
async def cancel_batch(batch_id: str, request: Request, identity: CanRender, env: EnvDep):
    async def produce():
        return 200, await batch_render.cancel(env, identity.owner, batch_id)

    # Every Pictify POST honours Idempotency-Key: a retried cancel answers what the first saw.
    route = f"POST /templates/batch/{batch_id}/cancel"
    return await idempotent_answer(request, env, identity, route, {}, produce)
