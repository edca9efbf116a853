"""Pictify webhooks: `/webhook-subscriptions` and signed, durable event deliveries.

A subscription is `{uid, url, events, active, description, createdAt, updatedAt}`; its
`secret` is answered once, when it is created (or replaced by PUT). Events: EVENTS.

`emit(env, owner, event, data)` writes one `webhook_deliveries` row per active subscription
of the owner that wants the event, and enqueues a durable job (services/jobs) for each. The
job calls `deliver`, which POSTs the row's payload `{id, event, createdAt, data}` (the same
bytes on every attempt) with these headers:

    Content-Type: application/json
    X-Pictify-Event: batch.completed
    X-Pictify-Delivery: whd_…            (= the payload's id; the same on every retry)
    X-Pictify-Timestamp: 1700000000      (Unix seconds of this attempt)
    X-Pictify-Signature: t=1700000000,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

Receivers recompute the HMAC over the timestamp, a dot and the raw body, compare in constant
time, and refuse timestamps too far from their clock. Outcomes: 2xx delivered; 429, 5xx, a
timeout or a network error is retried with the jobs' exponential backoff (30 s, 1 min, 2 min,
…) up to MAX_ATTEMPTS; any other status (3xx included: redirects are never followed) fails at
once. The URL is checked by net/fetch (http(s) only, no private, loopback,
link-local or metadata addresses) when the subscription is saved and again at every attempt;
a refused destination fails the delivery without retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from pixhaven.db import webhooks as table
from pixhaven.errors import ApiError, invalid
from pixhaven.net import fetch as remote_fetch
from pixhaven.net.errors import BlockedDestination, InvalidURL, RemoteFetchError
from pixhaven.services.jobs.queue import backoff, enqueue
from pixhaven.services.jobs.registry import job_handler
from pixhaven.timeutil import iso_in, now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

log = logging.getLogger("pixhaven.webhooks")

EVENTS = ("render.completed", "batch.completed", "batch.failed", "batch.cancelled")
MAX_SUBSCRIPTIONS = 25
MAX_ATTEMPTS = 6
DELIVERY_TIMEOUT = 10.0
MIN_SECRET, MAX_SECRET = 16, 256
UID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_uid() -> str:
    return "whs_" + "".join(secrets.choice(UID_ALPHABET) for _ in range(20))


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def shape(row: dict, *, with_secret: bool = False) -> dict:
    shaped = {
        "uid": row["uid"],
        "url": row["url"],
        "events": row["events"],
        "active": row["active"],
        "description": row["description"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }
    if with_secret:
        shaped["secret"] = row["secret"]
    return shaped


# -- validation -------------------------------------------------------------------------------


async def check_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise invalid(
            "url is required: the http(s) URL events are POSTed to", field="url", as_list=True
        )
    url = url.strip()
    try:
        await remote_fetch.check_destination(url)
    except RemoteFetchError as exc:
        raise invalid(
            f"url is not allowed: {exc.message}", field="url", as_list=True, reason=exc.reason
        ) from None
    return url


def check_events(events: Any) -> list[str]:
    if events is None:
        return list(EVENTS)
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or not events:
        raise invalid(
            f"events must be a non-empty list of {', '.join(EVENTS)}",
            field="events",
            as_list=True,
            supported=list(EVENTS),
        )
    chosen = []
    for index, event in enumerate(events):
        if event == "*":
            return list(EVENTS)
        if event not in EVENTS:
            raise invalid(
                f"events[{index}] must be one of {', '.join(EVENTS)}",
                field=f"events[{index}]",
                as_list=True,
                supported=list(EVENTS),
            )
        if event not in chosen:
            chosen.append(event)
    return chosen


def check_secret(secret: Any) -> str:
    if secret is None:
        return new_secret()
    if (
        not isinstance(secret, str)
        or not MIN_SECRET <= len(secret) <= MAX_SECRET
        or not secret.isprintable()
        or secret != secret.strip()
    ):
        raise invalid(
            f"secret must be {MIN_SECRET}–{MAX_SECRET} printable characters",
            field="secret",
            as_list=True,
        )
    return secret


def check_description(description: Any) -> str | None:
    if description is not None and (not isinstance(description, str) or len(description) > 500):
        raise invalid(
            "description must be a string of at most 500 characters",
            field="description",
            as_list=True,
        )
    return description


def check_active(active: Any) -> bool:
    if not isinstance(active, bool):
        raise invalid("active must be true or false", field="active", as_list=True)
    return active


def _body(body: Any) -> dict:
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", field="", as_list=True)
    return body


# -- CRUD -------------------------------------------------------------------------------------


async def create(env: Env, owner: str, body: Any) -> dict:
    body = _body(body)
    url = await check_url(body.get("url"))
    if len(await table.list_subscriptions(env.DB, owner)) >= MAX_SUBSCRIPTIONS:
        raise ApiError(
            409,
            f"At most {MAX_SUBSCRIPTIONS} webhook subscriptions per owner",
            details={"limit": MAX_SUBSCRIPTIONS},
        )
    now = now_iso()
    row = {
        "uid": new_uid(),
        "owner": owner,
        "url": url,
        "events": check_events(body.get("events")),
        "secret": check_secret(body.get("secret")),
        "description": check_description(body.get("description")),
        "active": True if body.get("active") is None else check_active(body["active"]),
        "created_at": now,
        "updated_at": now,
    }
    await table.insert_subscription(env.DB, row)
    return {"success": True, **shape(row, with_secret=True)}


async def get(env: Env, owner: str, uid: str) -> dict:
    row = await table.get_subscription(env.DB, uid, owner)
    if row is None:
        raise ApiError(404, "Webhook subscription not found", details={"uid": uid})
    return row


async def list_all(env: Env, owner: str) -> dict:
    rows = await table.list_subscriptions(env.DB, owner)
    return {"success": True, "subscriptions": [shape(row) for row in rows], "events": list(EVENTS)}


async def update(env: Env, owner: str, uid: str, body: Any) -> dict:
    body = _body(body)
    row = await get(env, owner, uid)
    if body.get("url") is not None:
        row["url"] = await check_url(body["url"])
    if body.get("events") is not None:
        row["events"] = check_events(body["events"])
    if "description" in body:
        row["description"] = check_description(body["description"])
    if body.get("active") is not None:
        row["active"] = check_active(body["active"])
    rotated = body.get("secret") is not None
    if rotated:
        row["secret"] = check_secret(body["secret"])
    row["updated_at"] = now_iso()
    await table.update_subscription(env.DB, row)
    return {"success": True, **shape(row, with_secret=rotated)}


async def delete(env: Env, owner: str, uid: str) -> None:
    if not await table.delete_subscription(env.DB, uid, owner):
        raise ApiError(404, "Webhook subscription not found", details={"uid": uid})


# -- events and deliveries ------------------------------------------------------------------


async def emit(env: Env, owner: str, event: str, data: dict) -> list[str]:
    """Queue `event` for every active subscription of `owner` that wants it; the delivery
    ids. Never raises: an event that cannot be queued is logged, not the caller's failure."""
    ids = []
    try:
        for subscription in await table.active_subscriptions(env.DB, owner):
            if event not in subscription["events"]:
                continue
            delivery_id = "whd_" + secrets.token_hex(12)
            payload = {"id": delivery_id, "event": event, "createdAt": now_iso(), "data": data}
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
        error = "the subscription is inactive"
    else:
        body = json.dumps(delivery["payload"], separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "X-Pictify-Event": delivery["event"],
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
