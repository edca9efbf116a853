"""Pictify's `/webhook-subscriptions`: checks, CRUD and the answers' shape.

A subscription is Pictify's `{uid, event, targetUrl, platform, status, filters, deliveryCount,
failureCount, lastDeliveryAt, createdAt}` (GET adds `lastDelivery`), plus Pixhaven's `events`
(one subscription may take several events), `description` and `updatedAt`. Requests take
Pictify's `{event, targetUrl, platform, filters, status}`; today's `url`, `events`, `active`
and `secret` are accepted too (a Pixhaven extension). The `secret` is answered once, when it
is created (or replaced by PUT). Events, emitting and deliveries: services/jobs/webhooks.py.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from pixhaven.db import webhooks as table
from pixhaven.errors import ApiError, invalid
from pixhaven.net import fetch as remote_fetch
from pixhaven.net.errors import RemoteFetchError
from pixhaven.services.jobs.webhooks import EVENTS
from pixhaven.services.pagination import pictify_pagination
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

MAX_SUBSCRIPTIONS = 25
MIN_SECRET, MAX_SECRET = 16, 256
UID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
PLATFORMS = ("custom", "zapier", "make", "n8n", "pipedream")
STATUSES = ("active", "paused", "failed")
SETTABLE_STATUSES = ("active", "paused")  # `failed` is set by deliveries, not by callers
FILTER_KEYS = ("templateId", "bindingId", "type")
RENDER_TYPES = ("image", "gif", "pdf")
CREATE_FIELDS = {"event", "events", "targetUrl", "url", "platform", "filters", "status"} | {
    "active",
    "secret",
    "description",
}
UPDATE_FIELDS = CREATE_FIELDS


def new_uid() -> str:
    return "whs_" + "".join(secrets.choice(UID_ALPHABET) for _ in range(20))


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def shape(row: dict, stats: dict | None = None, *, with_secret: bool = False) -> dict:
    shaped: dict[str, Any] = {
        "uid": row["uid"],
        "event": row["events"][0],
        "events": row["events"],
        "targetUrl": row["url"],
        "platform": row["platform"],
        "status": row["status"],
        "description": row["description"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }
    if row["filters"] is not None:  # Pictify's schema has an object or nothing, never null
        shaped["filters"] = row["filters"]
    if stats is not None:
        shaped["deliveryCount"] = stats["delivered"]
        shaped["failureCount"] = stats["failed"]
        if stats["last_at"]:
            shaped["lastDeliveryAt"] = stats["last_at"]
    if with_secret:
        shaped["secret"] = row["secret"]
    return shaped


def last_delivery(delivery: dict) -> dict:
    """Pictify's `lastDelivery` of one `webhook_deliveries` row."""
    status = {"delivered": "success"}.get(delivery["status"], delivery["status"])
    shaped: dict[str, Any] = {"status": status, "timestamp": delivery["updated_at"]}
    if delivery["last_status_code"] is not None:
        shaped["responseCode"] = delivery["last_status_code"]
    if delivery["last_error"]:
        shaped["error"] = delivery["last_error"]
    if delivery["attempts"] > 1:
        shaped["retryCount"] = delivery["attempts"] - 1
    if delivery["next_attempt_at"]:
        shaped["nextRetry"] = delivery["next_attempt_at"]
    return shaped


def wrapped(subscription: dict) -> dict:
    """Pictify's OpenAPI wraps a subscription as `{subscription: …}`, its docs' GET answers it
    bare: both, so either kind of client finds its fields."""
    return {"success": True, "subscription": subscription, **subscription}


# -- validation -------------------------------------------------------------------------------


def _fail(message: str, field: str, **details: Any) -> ApiError:
    return invalid(message, field=field, as_list=True, **details)


async def check_url(url: Any, field: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise _fail(f"{field} is required: the http(s) URL events are POSTed to", field)
    url = url.strip()
    try:
        await remote_fetch.check_destination(url)
    except RemoteFetchError as exc:
        raise _fail(f"{field} is not allowed: {exc.message}", field, reason=exc.reason) from None
    return url


def check_events(events: Any, field: str = "events") -> list[str]:
    if events is None:
        return list(EVENTS)
    if isinstance(events, str):
        events = [events]
    message = f"{field} must be one of {', '.join(EVENTS)}"
    if not isinstance(events, list) or not events:
        raise _fail(message if field == "event" else f"{field} must be a non-empty list", field)
    chosen: list[str] = []
    for index, event in enumerate(events):
        if event == "*":
            return list(EVENTS)
        if event not in EVENTS:
            where = field if field == "event" else f"{field}[{index}]"
            raise _fail(
                f"{where} must be one of {', '.join(EVENTS)}", where, supported=list(EVENTS)
            )
        if event not in chosen:
            chosen.append(event)
    return chosen


def check_choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(f"{field} must be one of {', '.join(choices)}", field, supported=list(choices))
    return value


def check_filters(filters: Any) -> dict:
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise _fail(f"filters must be an object with {', '.join(FILTER_KEYS)}", "filters")
    for key, value in filters.items():
        if key not in FILTER_KEYS:
            raise _fail(f"filters.{key} is unknown: use {', '.join(FILTER_KEYS)}", f"filters.{key}")
        if key == "type":
            check_choice(value, "filters.type", RENDER_TYPES)
        elif not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise _fail(f"filters.{key} must be a uid", f"filters.{key}")
    return dict(filters)


def check_secret(secret: Any) -> str:
    if secret is None:
        return new_secret()
    if (
        not isinstance(secret, str)
        or not MIN_SECRET <= len(secret) <= MAX_SECRET
        or not secret.isprintable()
        or secret != secret.strip()
    ):
        raise _fail(f"secret must be {MIN_SECRET}–{MAX_SECRET} printable characters", "secret")
    return secret


def check_description(description: Any) -> str | None:
    if description is not None and (not isinstance(description, str) or len(description) > 500):
        raise _fail("description must be a string of at most 500 characters", "description")
    return description


def _status_of(body: dict) -> str | None:
    """`status` (Pictify's), or today's `active` boolean, or None when neither is given."""
    if body.get("status") is not None:
        return check_choice(body["status"], "status", SETTABLE_STATUSES)
    if body.get("active") is not None:
        if not isinstance(body["active"], bool):
            raise _fail("active must be true or false", "active")
        return "active" if body["active"] else "paused"
    return None


def _body(body: Any, fields: set[str]) -> dict:
    if not isinstance(body, dict):
        raise _fail("The request body must be a JSON object", "")
    for key in body:
        # An unknown field is refused rather than ignored: a PUT that answered 200 and
        # changed nothing is how misspelt updates went unnoticed.
        if key not in fields:
            raise _fail(f"{key} is not a field: use {', '.join(sorted(fields))}", key)
    return body


def _events_of(body: dict) -> list[str] | None:
    if body.get("event") is not None:
        return check_events(body["event"], "event")
    if body.get("events") is not None:
        return check_events(body["events"])
    return None


# -- CRUD -------------------------------------------------------------------------------------


async def create(env: Env, owner: str, body: Any) -> dict:
    body = _body(body, CREATE_FIELDS)
    field = "url" if body.get("targetUrl") is None and "url" in body else "targetUrl"
    url = await check_url(body.get(field), field)
    if await table.count_subscriptions(env.DB, owner) >= MAX_SUBSCRIPTIONS:
        raise ApiError(
            409,
            f"At most {MAX_SUBSCRIPTIONS} webhook subscriptions per owner",
            details={"limit": MAX_SUBSCRIPTIONS},
        )
    status = _status_of(body) or "active"
    now = now_iso()
    row = {
        "uid": new_uid(),
        "owner": owner,
        "url": url,
        "events": _events_of(body) or list(EVENTS),
        "secret": check_secret(body.get("secret")),
        "description": check_description(body.get("description")),
        "platform": check_choice(body.get("platform", "custom"), "platform", PLATFORMS),
        "filters": check_filters(body.get("filters")),
        "status": status,
        "active": status == "active",
        "created_at": now,
        "updated_at": now,
    }
    await table.insert_subscription(env.DB, row)
    stats = {"delivered": 0, "failed": 0, "last_at": None}
    return wrapped(shape(row, stats, with_secret=True))


async def get_row(env: Env, owner: str, uid: str) -> dict:
    row = await table.get_subscription(env.DB, uid, owner)
    if row is None:
        raise ApiError(404, "Webhook subscription not found", details={"uid": uid})
    return row


async def get(env: Env, owner: str, uid: str) -> dict:
    row = await get_row(env, owner, uid)
    shaped = shape(row, await table.delivery_stats(env.DB, uid))
    latest = await table.deliveries_of(env.DB, uid, limit=1)
    if latest and latest[0]["attempts"] > 0:
        shaped["lastDelivery"] = last_delivery(latest[0])
    return wrapped(shaped)


async def list_page(
    env: Env, owner: str, page: int, limit: int, event: str | None, status: str | None
) -> dict:
    rows = await table.list_subscriptions(env.DB, owner)
    if event is not None:
        rows = [row for row in rows if event in row["events"]]
    if status is not None:
        rows = [row for row in rows if row["status"] == status]
    total = len(rows)
    chosen = rows[(page - 1) * limit : page * limit]
    return {
        "success": True,
        "subscriptions": [
            shape(row, await table.delivery_stats(env.DB, row["uid"])) for row in chosen
        ],
        "pagination": pictify_pagination(page, limit, total),
        "events": list(EVENTS),
    }


def delivery(row: dict) -> dict:
    """One `webhook_deliveries` row as `GET /webhook-subscriptions/{uid}/deliveries` lists
    it: what was sent (`payload`, the exact body of every attempt) and how it went."""
    return {
        "id": row["id"],
        "event": row["event"],
        "status": row["status"],
        "attempts": row["attempts"],
        "responseCode": row["last_status_code"],
        "error": row["last_error"],
        "nextRetry": row["next_attempt_at"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "payload": row["payload"],
    }


async def deliveries(
    env: Env, owner: str, uid: str, page: int, limit: int, status: str | None
) -> dict:
    """The subscription's deliveries, newest first (a Pixhaven extension: Pictify shows only
    `lastDelivery`)."""
    await get_row(env, owner, uid)  # 404 unless it is the caller's
    rows, total = await table.deliveries_page(env.DB, uid, status, limit, (page - 1) * limit)
    return {
        "success": True,
        "subscriptionUid": uid,
        "deliveries": [delivery(row) for row in rows],
        "pagination": pictify_pagination(page, limit, total),
    }


async def update(env: Env, owner: str, uid: str, body: Any) -> dict:
    body = _body(body, UPDATE_FIELDS)
    row = await get_row(env, owner, uid)
    for field in ("targetUrl", "url"):
        if body.get(field) is not None:
            row["url"] = await check_url(body[field], field)
    row["events"] = _events_of(body) or row["events"]
    if "description" in body:
        row["description"] = check_description(body["description"])
    if body.get("platform") is not None:
        row["platform"] = check_choice(body["platform"], "platform", PLATFORMS)
    if "filters" in body:
        row["filters"] = check_filters(body["filters"])
    status = _status_of(body)
    if status is not None:
        row["status"], row["active"] = status, status == "active"
    rotated = body.get("secret") is not None
    if rotated:
        row["secret"] = check_secret(body["secret"])
    row["updated_at"] = now_iso()
    await table.update_subscription(env.DB, row)
    stats = await table.delivery_stats(env.DB, uid)
    return wrapped(shape(row, stats, with_secret=rotated))


async def set_status(env: Env, owner: str, uid: str, status: str) -> dict:
    """`POST /webhook-subscriptions/{uid}/pause` and `/resume`."""
    return await update(env, owner, uid, {"status": status})


async def delete(env: Env, owner: str, uid: str) -> None:
    if not await table.delete_subscription(env.DB, uid, owner):
        raise ApiError(404, "Webhook subscription not found", details={"uid": uid})
