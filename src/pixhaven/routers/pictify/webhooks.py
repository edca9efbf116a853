"""Pictify webhooks: `/webhook-subscriptions` CRUD (scope `webhooks`, owner-scoped).
Logic, events, signatures and deliveries: services/jobs/webhooks.py.
"""

from fastapi import APIRouter, Request

from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import UpdateWebhookSubscriptionBody, WebhookSubscriptionBody
from pixhaven.routers.requests import FIELD_LIST_BODY_ERRORS, CanManageWebhooks, EnvDep, read_json
from pixhaven.services.jobs import webhooks

router = APIRouter(tags=["Pictify webhooks"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such webhook subscription (for this owner)")


@router.get("/webhook-subscriptions", summary="List webhook subscriptions (Pictify)")
async def list_subscriptions(identity: CanManageWebhooks, env: EnvDep):
    return await webhooks.list_all(env, identity.owner)


@router.post(
    "/webhook-subscriptions",
    summary="Create a webhook subscription (Pictify)",
    status_code=201,
    responses=errors(409, e409="Too many subscriptions"),
    openapi_extra=request_body(WebhookSubscriptionBody),
)
async def create_subscription(request: Request, identity: CanManageWebhooks, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    return await webhooks.create(env, identity.owner, body)


@router.get(
    "/webhook-subscriptions/{uid}",
    summary="Get a webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def get_subscription(uid: str, identity: CanManageWebhooks, env: EnvDep):
    return {"success": True, **webhooks.shape(await webhooks.get(env, identity.owner, uid))}


@router.put(
    "/webhook-subscriptions/{uid}",
    summary="Update a webhook subscription (Pictify)",
    responses=NOT_FOUND,
    openapi_extra=request_body(UpdateWebhookSubscriptionBody),
)
async def update_subscription(uid: str, request: Request, identity: CanManageWebhooks, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    return await webhooks.update(env, identity.owner, uid, body)


@router.delete(
    "/webhook-subscriptions/{uid}",
    summary="Delete a webhook subscription (Pictify)",
    responses=NOT_FOUND,
)
async def delete_subscription(uid: str, identity: CanManageWebhooks, env: EnvDep):
    await webhooks.delete(env, identity.owner, uid)
    return {"success": True, "uid": uid, "deleted": True}
