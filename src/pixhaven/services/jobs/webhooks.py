"""Pictify webhook events and their signed, durable deliveries.

Events (EVENTS): `render.completed`, `render.failed` (every Pictify render route, see
`render_failed`), `batch.completed`, `batch.failed`, `batch.cancelled`, and Pictify's
`binding.updated`/`binding.failed`, which may be subscribed to and fire once bindings exist.
Subscriptions (the `/webhook-subscriptions` CRUD): services/jobs/webhook_subscriptions.py.

`emit(env, owner, event, data)` writes one `webhook_deliveries` row per active subscription
of the owner that wants the event (and whose `filters` — templateId, bindingId, type — match
the data), and enqueues a durable job (services/jobs) for each. The job calls `deliver`, which
POSTs the row's payload, Pictify's `{event, timestamp, data}` (the same bytes on every
attempt), with these headers:

    Content-Type: application/json
    X-Pictify-Event: render.completed
    X-Pictify-Delivery-Id: del_…         (the same on every retry: receivers dedupe on it)
    X-Pictify-Delivery: del_…            (the same id, the name Pixhaven sent before)
    X-Pictify-Timestamp: 1700000000      (Unix seconds of this attempt)
    X-Pictify-Signature: t=1700000000,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

Receivers recompute the HMAC over the timestamp, a dot and the raw body, compare in constant
time, and refuse timestamps too far from their clock. Outcomes: 2xx delivered; 429, 5xx, a
timeout or a network error is retried with the jobs' exponential backoff (30 s, 1 min, 2 min,
…) up to MAX_ATTEMPTS; any other status (3xx included: redirects are never followed) fails at
once. The URL is checked by net/fetch (http(s) only, no private, loopback,
link-local or metadata addresses) when the subscription is saved and again at every attempt;
a refused destination fails the delivery without retry. A subscription whose last
FAILED_DELIVERIES_LIMIT deliveries all failed is disabled: Pictify's status `failed`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import TYPE_CHECKING

from pixhaven.db import webhooks as table
from pixhaven.errors import ApiError
from pixhaven.net import fetch as remote_fetch
from pixhaven.net.errors import BlockedDestination, InvalidURL, RemoteFetchError
from pixhaven.services.jobs.queue import backoff, enqueue
from pixhaven.services.jobs.registry import job_handler
from pixhaven.timeutil import iso_in, now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

log = logging.getLogger("pixhaven.webhooks")

EVENTS = (
    "render.completed",
    "render.failed",
    "batch.completed",
    "batch.failed",
    "batch.cancelled",
    "binding.updated",
    "binding.failed",
)
MAX_ATTEMPTS = 6
# Pictify disables a subscription after repeated failures (status `failed`): here, once its
# last FAILED_DELIVERIES_LIMIT deliveries all failed for good. PUT status=active or /resume
# turns it back on.
FAILED_DELIVERIES_LIMIT = 5
DELIVERY_TIMEOUT = 10.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


# -- events -----------------------------------------------------------------------------------


def render_type(data: dict) -> str:
    """Pictify's `type` of a render: image, gif or pdf."""
    fmt = str(data.get("format") or "").lower()
    url = str(data.get("url") or "").lower()
    for kind in ("gif", "pdf"):
        if fmt == kind or url.endswith("." + kind):
            return kind
    return "image"


def render_completed_data(owner: str, answer: dict) -> dict:
    """Pictify's `render.completed` data beside the render's own answer (url, id, width, …)."""
    return {
        **answer,
        "type": render_type(answer),
        "source": "api",
        "imageId": answer.get("id"),
        "templateId": answer.get("template") or answer.get("templateUid"),
        "userId": owner,
        "renderedAt": answer.get("createdAt") or now_iso(),
    }


async def render_failed(
    env: Env, owner: str, kind: str, template_uid: str | None, exc: BaseException
) -> None:
    """Emit `render.failed` for a render route whose render raised `exc`."""
    if isinstance(exc, ApiError):
        error, code = exc.error, exc.code
    else:
        error, code = "Internal error while rendering", "INTERNAL_ERROR"
    data = {"type": kind, "templateId": template_uid, "error": error, "errorCode": code}
    await emit(env, owner, "render.failed", data)


def _wanted(subscription: dict, event: str, data: dict) -> bool:
    if event not in subscription["events"]:
        return False
    filters = subscription["filters"]
    return all(
        data.get(key) == filters[key]
        for key in ("templateId", "bindingId", "type")
        if key in filters
    )


async def emit(env: Env, owner: str, event: str, data: dict) -> list[str]:
    """Queue `event` for every active subscription of `owner` that wants it (event and
    filters); the delivery ids. Never raises: an event that cannot be queued is logged, not
    the caller's failure."""
    ids = []
    try:
        if event == "render.completed":
            data = render_completed_data(owner, data)
        for subscription in await table.active_subscriptions(env.DB, owner):
            if not _wanted(subscription, event, data):
                continue
            delivery_id = "del_" + secrets.token_hex(12)
            payload = {"event": event, "timestamp": now_iso(), "data": data}
            await table.insert_delivery(
                env.DB,
                delivery_id=delivery_id,
                subscription_uid=subscription["uid"],
                owner=owner,
                event=event,
                payload=payload,
            )
            await enqueue(
                env,
                "webhook.deliver",
                {"delivery_id": delivery_id},
                owner=owner,
                max_attempts=MAX_ATTEMPTS,
            )
            ids.append(delivery_id)
    except Exception as exc:
        log.error(
            json.dumps(
                {
                    "event": "webhook_emit_failed",
                    "webhook_event": event,
                    "owner": owner,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
        )
    return ids


# -- deliveries -------------------------------------------------------------------------------


def _retryable(status_code: int) -> bool:
    return status_code == 429 or status_code >= 500


async def deliver(env: Env, delivery: dict, *, transport=None, resolver=None) -> str:
    """One attempt at a delivery row; records it and answers 'delivered', 'failed' (for
    good) or 'retry' (a later attempt may succeed)."""
    attempt = int(delivery["attempts"]) + 1
    subscription = await table.get_subscription(env.DB, delivery["subscription_uid"])
    status_code, error, retry = None, None, False
    if subscription is None or subscription["owner"] != delivery["owner"]:
        error = "the subscription was deleted"
    elif not subscription["active"]:
        error = f"the subscription is {subscription['status']}"
    else:
        body = json.dumps(delivery["payload"], separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "X-Pictify-Event": delivery["event"],
            "X-Pictify-Delivery-Id": delivery["id"],
            "X-Pictify-Delivery": delivery["id"],
            "X-Pictify-Timestamp": timestamp,
            "X-Pictify-Signature": sign(subscription["secret"], timestamp, body),
        }
        try:
            posted = await remote_fetch.post_json(
                subscription["url"],
                body,
                headers=headers,
                timeout=DELIVERY_TIMEOUT,
                transport=transport,
                resolver=resolver,
            )
        except (InvalidURL, BlockedDestination) as exc:
            error = f"{exc.reason}: {exc.message}"
        except RemoteFetchError as exc:
            error, retry = f"{exc.reason}: {exc.message}", True
        else:
            status_code = posted.status
            if 200 <= status_code < 300:
                await table.record_attempt(
                    env.DB,
                    delivery["id"],
                    status="delivered",
                    status_code=status_code,
                    error=None,
                    next_attempt_at=None,
                )
                return "delivered"
            retry = _retryable(status_code)
            error = f"the endpoint answered HTTP {status_code}"
            if 300 <= status_code < 400:
                error += " (redirects are not followed)"
    if retry and attempt < MAX_ATTEMPTS:
        await table.record_attempt(
            env.DB,
            delivery["id"],
            status="pending",
            status_code=status_code,
            error=error,
            next_attempt_at=iso_in(backoff(attempt)),
        )
        return "retry"
    await table.record_attempt(
        env.DB,
        delivery["id"],
        status="failed",
        status_code=status_code,
        error=error,
        next_attempt_at=None,
    )
    if subscription is not None and subscription["active"]:
        uid = subscription["uid"]
        outcomes = await table.recent_outcomes(env.DB, uid, FAILED_DELIVERIES_LIMIT)
        if outcomes == ["failed"] * FAILED_DELIVERIES_LIMIT:
            await table.mark_failed(env.DB, uid)
    return "failed"


class DeliveryRetry(Exception):
    """Raised by the job so services/jobs schedules the next attempt with backoff."""


@job_handler("webhook.deliver")
async def deliver_job(env: Env, payload: dict) -> None:
    delivery = await table.get_delivery(env.DB, payload["delivery_id"])
    if delivery is None or delivery["status"] != "pending":
        return
    if await deliver(env, delivery) == "retry":
        delivery = await table.get_delivery(env.DB, delivery["id"])
        assert delivery is not None  # deliveries are never deleted
        raise DeliveryRetry(delivery["last_error"])
