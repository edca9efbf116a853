"""Pictify webhooks: `/webhook-subscriptions` CRUD (scope `webhooks`, owner-scoped).
Logic, events, signatures and deliveries: services/webhooks.py.
"""

from fastapi import APIRouter, Depends, Request

from pixhaven.dependencies import env_of
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import UpdateWebhookSubscriptionBody, WebhookSubscriptionBody
from pixhaven.routers.pictify.images import json_body
from pixhaven.security.auth import Identity, require
from pixhaven.services.jobs import webhooks

router = APIRouter(tags=["Pictify webhooks"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such webhook subscription (for this owner)")


@router.get("/webhook-subscriptions", summary="List webhook subscriptions (Pictify)")
async def list_subscriptions(request: Request, identity: Identity = Depends(require("webhooks"))):
    return await webhooks.list_all(env_of(request), identity.owner)


@router.post(
    "/webhook-subscriptions",
    summary="Create a webhook subscription (Pictify)",
    status_code=201,
    responses=errors(409, e409="Too many subscriptions"),
    openapi_extra=request_body(WebhookSubscriptionBody),
)
async def create_subscription(request: Request, identity: Identity = Depends(require("webhooks"))):
    return await webhooks.create(env_of(request), identity.owner, await json_body(request))


@router.get(
    "/webhook-subscriptions/{uid}",
    summary="Get a webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def get_subscription(
    uid: str, request: Request, identity: Identity = Depends(require("webhooks"))
):
    return {
        "success": True,
        **webhooks.shape(await webhooks.get(env_of(request), identity.owner, uid)),
    }


@router.put(
    "/webhook-subscriptions/{uid}",
    summary="Update a webhook subscription (Pictify)",
    responses=NOT_FOUND,
    openapi_extra=request_body(UpdateWebhookSubscriptionBody),
)
async def update_subscription(
    uid: str, request: Request, identity: Identity = Depends(require("webhooks"))
):
    return await webhooks.update(env_of(request), identity.owner, uid, await json_body(request))


@router.delete(
    "/webhook-subscriptions/{uid}",
    summary="Delete a webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def delete_subscription(
    uid: str, request: Request, identity: Identity = Depends(require("webhooks"))
):
    await webhooks.delete(env_of(request), identity.owner, uid)
    return {"success": True, "uid": uid, "deleted": True}
