"""Pictify batch rendering: `POST /templates/{uid}/batch-render` (202),
`GET /templates/batch/{id}/results`, `POST /templates/batch/{id}/cancel`.

Scope `render` for all three.
Owner-scoped. Logic lives in services/batch_render.py.
"""

from fastapi import APIRouter, Depends, Request

from pixhaven.dependencies import env_of, settings_of
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import IDEMPOTENCY_KEY, BatchRenderBody
from pixhaven.routers.pictify.images import answer, json_body
from pixhaven.security.auth import Identity, require
from pixhaven.services.images.keys import base_url
from pixhaven.services.rendering import batch as batch_render
from pixhaven.services.rendering import idempotency

router = APIRouter(tags=["Pictify batch"], responses=ERROR_RESPONSES)
BATCH = {
    "description": "The batch: {id, status, template, format, total, completed, failed,"
    " cancelled, pending, createdAt, updatedAt, finishedAt}"
}


@router.post(
    "/templates/{uid}/batch-render",
    summary="Start a batch render (Pictify)",
    status_code=202,
    responses={202: BATCH, **errors(404, e404="No such template (for this owner)")},
    openapi_extra={**request_body(BatchRenderBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def start_batch(uid: str, request: Request, identity: Identity = Depends(require("render"))):
    env, settings = env_of(request), settings_of(request)
    body = await json_body(request)

    async def produce():
        return 202, await batch_render.start(
            env, settings, identity.owner, identity.key_id, base_url(request, settings), uid, body
        )

    status, started, replayed = await idempotency.idempotent(
        env,
        identity.owner,
        request.headers.get("idempotency-key"),
        f"POST /templates/{uid}/batch-render",
        body,
        produce,
    )
    return answer(status, started, replayed)


@router.get(
    "/templates/batch/{batch_id}/results",
    summary="Get a batch's results (Pictify)",
    responses={
        200: {
            "description": "The batch with `results`: one per item, in "
            "order, {index, status, url, id, … | error}"
        },
        **errors(404, e404="No such batch (for this owner)"),
    },
)
async def batch_results(
    batch_id: str, request: Request, identity: Identity = Depends(require("render"))
):
    return await batch_render.results(env_of(request), identity.owner, batch_id)


@router.post(
    "/templates/batch/{batch_id}/cancel",
    summary="Cancel a batch (Pictify)",
    responses={200: BATCH, **errors(404, e404="No such batch (for this owner)")},
)
async def cancel_batch(
    batch_id: str, request: Request, identity: Identity = Depends(require("render"))
):
    return await batch_render.cancel(env_of(request), identity.owner, batch_id)
