"""Pictify webhooks: `/webhook-subscriptions` CRUD, `/pause` and `/resume` (scope `webhooks`,
owner-scoped). Subscriptions: services/jobs/webhook_subscriptions.py; events, signatures and
deliveries: services/jobs/webhooks.py."""

from typing import Literal

from fastapi import APIRouter, Query, Request

from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import (
    IDEMPOTENCY_KEY,
    UpdateWebhookSubscriptionBody,
    WebhookSubscriptionBody,
)
from pixhaven.routers.pictify.rendering import idempotent_answer
from pixhaven.routers.requests import FIELD_LIST_BODY_ERRORS, CanManageWebhooks, EnvDep, read_json
from pixhaven.services.jobs import webhook_subscriptions as subscriptions

router = APIRouter(tags=["Pictify webhooks"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such webhook subscription (for this owner)")


@router.get("/webhook-subscriptions", summary="List webhook subscriptions (Pictify)")
async def list_subscriptions(
    identity: CanManageWebhooks,
    env: EnvDep,
    page: int = Query(1, ge=1, le=100_000),
    limit: int = Query(20, ge=1, le=100),
    event: str | None = Query(None, max_length=100),
    status: Literal["active", "paused", "failed"] | None = None,
):
    return await subscriptions.list_page(env, identity.owner, page, limit, event, status)


@router.post(
    "/webhook-subscriptions",
    summary="Create a webhook subscription (Pictify)",
    status_code=201,
    responses=errors(
        409,
        422,
        e409="Too many subscriptions, or a request with this Idempotency-Key is still running",
        e422="An Idempotency-Key reused with another request",
    ),
    openapi_extra={**request_body(WebhookSubscriptionBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def create_subscription(request: Request, identity: CanManageWebhooks, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)

    async def produce():
        return 201, await subscriptions.create(env, identity.owner, body)

    route = "POST /webhook-subscriptions"
    return await idempotent_answer(request, env, identity, route, body, produce)


@router.get(
    "/webhook-subscriptions/{uid}",
    summary="Get a webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def get_subscription(uid: str, identity: CanManageWebhooks, env: EnvDep):
    return await subscriptions.get(env, identity.owner, uid)


@router.get(
    "/webhook-subscriptions/{uid}/deliveries",
    summary="List a webhook subscription's deliveries, newest first (Pixhaven)",
    responses=NOT_FOUND,
)
async def list_deliveries(
    uid: str,
    identity: CanManageWebhooks,
    env: EnvDep,
    page: int = Query(1, ge=1, le=100_000),
    limit: int = Query(20, ge=1, le=100),
    status: Literal["pending", "delivered", "failed"] | None = None,
):
    return await subscriptions.deliveries(env, identity.owner, uid, page, limit, status)


@router.put(
    "/webhook-subscriptions/{uid}",
    summary="Update a webhook subscription (Pictify)",
    responses=NOT_FOUND,
    openapi_extra=request_body(UpdateWebhookSubscriptionBody),
)
async def update_subscription(uid: str, request: Request, identity: CanManageWebhooks, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    return await subscriptions.update(env, identity.owner, uid, body)


@router.post(
    "/webhook-subscriptions/{uid}/pause",
    summary="Pause a webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def pause_subscription(uid: str, identity: CanManageWebhooks, env: EnvDep):
    return await subscriptions.set_status(env, identity.owner, uid, "paused")


@router.post(
    "/webhook-subscriptions/{uid}/resume",
    summary="Resume a paused webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def resume_subscription(uid: str, identity: CanManageWebhooks, env: EnvDep):
    return await subscriptions.set_status(env, identity.owner, uid, "active")


@router.delete(
    "/webhook-subscriptions/{uid}",
    summary="Delete a webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def delete_subscription(uid: str, identity: CanManageWebhooks, env: EnvDep):
    await subscriptions.delete(env, identity.owner, uid)
    return {"success": True, "uid": uid, "deleted": True}
