"""Pictify batch rendering: one template, up to MAX_ITEMS variable sets, rendered in the
background.

`POST /templates/{uid}/batch-render` checks every variable set up front (a 400 names the
first bad index), then writes the batch, its items and one durable job per item (kind
`batch.render_item`) in one D1 transaction, wakes the jobs through the queue and answers
202. Each job renders its item through services/rendering/template_render.render (so a
result is an ordinary Pictify template render: an image per layout, or an SVG download) and
settles it; the batch's counts are recounted from its items in the same transaction. An
item whose render fails with a client error (4xx) fails at once; a server error or an
exception is retried by the job with backoff, and fails after ITEM_ATTEMPTS. Cancelling
turns queued items into cancelled ones; running items finish. When the last item settles,
the batch becomes `completed` (some succeeded: Pictify's `partial` when some failed),
`failed` (none did) or stays `cancelled`, and the webhook event `batch.completed` (a partial
batch too: Pictify has no `batch.partial`; the data's `status` says `partial`),
`batch.failed` or `batch.cancelled` is emitted once.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from pixhaven.db import batches as table
from pixhaven.db import jobs as jobs_table
from pixhaven.errors import ApiError, invalid
from pixhaven.render.document import DocumentError, validate_document
from pixhaven.services.jobs import webhooks
from pixhaven.services.jobs.queue import new_job_id
from pixhaven.services.jobs.registry import job_handler
from pixhaven.services.rendering import fabric_templates, html_templates, template_render, templates
from pixhaven.services.rendering import render as generation
from pixhaven.services.rendering.html import screenshot_request
from pixhaven.services.rendering.own_sources import OwnImages
from pixhaven.settings import Settings
from pixhaven.timeutil import iso, now_iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

MAX_ITEMS = 100
ITEM_ATTEMPTS = 3
# `variableSets` is Pictify's name (what its SDK sends); the others are Pixhaven's.
ITEM_KEYS = ("variableSets", "variables", "items", "data")
EVENTS = {"completed": "batch.completed", "failed": "batch.failed", "cancelled": "batch.cancelled"}


def variable_sets_of(body: dict) -> list[dict]:
    """The list of variable sets: `variableSets`, `variables`, `items` or `data`. An item
    may also be `{"variables": {...}}`."""
    for key in ITEM_KEYS:
        if body.get(key) is not None:
            field, given = key, body[key]
            break
    else:
        raise invalid(
            "Send variableSets: a list of variable sets (objects of name: value)",
            field="variableSets",
            as_list=True,
        )
    if not isinstance(given, list) or not given:
        raise invalid(
            f"{field} must be a non-empty list of variable sets", field=field, as_list=True
        )
    if len(given) > MAX_ITEMS:
        raise invalid(
            f"At most {MAX_ITEMS} variable sets per batch",
            field=field,
            as_list=True,
            limit=MAX_ITEMS,
        )
    sets = []
    for index, item in enumerate(given):
        if item is None:
            item = {}
        if (
            isinstance(item, dict)
            and set(item) == {"variables"}
            and isinstance(item["variables"], dict)
        ):
            item = item["variables"]
        if not isinstance(item, dict):
            raise invalid(
                f"{field}[{index}] must be an object of name: value",
                field=f"{field}[{index}]",
                as_list=True,
                index=index,
            )
        sets.append(item)
    return sets


def html_body(values: dict, media_type: str) -> dict:
    """An HTML or FabricJS template item as the body of one `POST /templates/{uid}/render`."""
    return {"variables": values, "format": generation.EXTENSIONS.get(media_type, media_type)}


def check_item(
    template: dict, values: dict, index: int, max_components: int, media_type: str
) -> None:
    try:
        if html_templates.is_html(template):
            # Fills the expressions and checks the screenshot fields (format included).
            screenshot_request(
                html_templates.screenshot_body(template, html_body(values, media_type))
            )
            return
        if fabric_templates.is_fabric(template):
            # Applies the values to the JSON and checks the draw's fields (format included).
            fabric_templates.render_request(template, html_body(values, media_type))
            return
        validate_document(templates.fill(template, values), max_components)
    except ApiError as exc:
        raise ApiError(
            400, f"Item {index}: {exc.error}", details={"index": index, **(exc.details or {})}
        ) from None
    except DocumentError as exc:
        raise ApiError(
            400, f"Item {index}: {exc.message}", details={"index": index, **exc.details}
        ) from None


def options_of(body: dict) -> dict:
    """What every item shares besides the format: `quality` (0.1-1, or 1-100), `layout` or
    `layouts` (each item renders each; services/rendering/template_render.py) and Pictify's
    `concurrency` (1-10, kept as asked: the queue decides how many items render at once)."""
    if body.get("webhookUrl") is not None:
        raise invalid(
            "webhookUrl is not supported: subscribe to batch.completed and batch.failed with "
            "POST /webhook-subscriptions (signed deliveries, filtered by templateId)",
            field="webhookUrl",
            as_list=True,
        )
    options: dict = {}
    quality = body.get("quality")
    if quality is not None:
        if isinstance(quality, bool) or not isinstance(quality, (int, float)):
            raise invalid("quality must be a number", field="quality", as_list=True)
        if not 0.1 <= quality <= 100:
            raise invalid("quality must be 0.1-1 or 1-100", field="quality", as_list=True)
        options["quality"] = quality
    concurrency = body.get("concurrency")
    if concurrency is not None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int):
            raise invalid("concurrency must be a whole number", field="concurrency", as_list=True)
        if not 1 <= concurrency <= 10:
            raise invalid("concurrency must be 1 to 10", field="concurrency", as_list=True)
        options["concurrency"] = concurrency
    if body.get("layouts") is not None or body.get("layout") is not None:
        options["layouts"] = template_render.layouts_of(body)
    return options


def item_body(batch: dict, values: dict) -> dict:
    """One item as the body of one `POST /templates/{uid}/render`."""
    options = batch.get("options") or {}
    body = {"variables": values, "format": generation.EXTENSIONS.get(batch["format"])}
    if options.get("quality") is not None:
        body["quality"] = options["quality"]
    if options.get("layouts"):
        body["layouts"] = options["layouts"]
    return body


def pictify_status(batch: dict) -> str:
    """Pictify's status list: pending, processing, completed, partial, failed, cancelled.
    The table keeps its own states (queued, running, …); a batch that finished with some
    failures is Pictify's `partial`."""
    status = batch["status"]
    if status == "queued":
        return "pending"
    if status == "running":
        return "processing"
    if status == "completed" and batch["failed"]:
        return "partial"
    return str(status)


def progress(batch: dict) -> int:
    """Percent of the items settled (completed, failed or cancelled), 0-100."""
    settled = batch["completed"] + batch["failed"] + batch["cancelled"]
    return (100 * settled) // batch["total"] if batch["total"] else 100


def shape(batch: dict) -> dict:
    """The batch in Pixhaven's fields and in Pictify's two spellings: the OpenAPI's
    (`batchId`, `totalItems`, `completedItems`, `failedItems`, `progress`, what the SDK
    reads) and the docs' (`totalCount`, `completedCount`, `failedCount`, `templateUid`)."""
    settled = batch["completed"] + batch["failed"] + batch["cancelled"]
    status = pictify_status(batch)
    return {
        "success": True,
        "id": batch["id"],
        "batchId": batch["id"],
        "status": status,
        "message": MESSAGES[status],
        "template": batch["template_uid"],
        "templateUid": batch["template_uid"],
        "format": generation.EXTENSIONS.get(batch["format"], batch["format"]),
        "total": batch["total"],
        "completed": batch["completed"],
        "failed": batch["failed"],
        "cancelled": batch["cancelled"],
        "pending": batch["total"] - settled,
        "progress": progress(batch),
        "totalItems": batch["total"],
        "completedItems": batch["completed"],
        "failedItems": batch["failed"],
        "totalCount": batch["total"],
        "completedCount": batch["completed"],
        "failedCount": batch["failed"],
        "cancelledCount": batch["cancelled"],
        "createdAt": batch["created_at"],
        "updatedAt": batch["updated_at"],
        "finishedAt": batch["finished_at"],
        # Pictify's timestamps only once they happened: its schema has no nulls.
        **({"startedAt": batch["started_at"]} if batch.get("started_at") else {}),
        **({"completedAt": batch["finished_at"]} if batch["finished_at"] else {}),
        **{key: value for key, value in (batch.get("options") or {}).items()},
    }


MESSAGES = {
    "pending": "Batch queued",
    "processing": "Batch rendering",
    "completed": "Every item rendered",
    "partial": "Batch finished with some failed items",
    "failed": "Every item failed",
    "cancelled": "Batch cancelled",
}


def item_result(item: dict) -> dict:
    """One item: its render answer (url, id, …) or its error, with Pictify's `success`
    and `variables` (the names the item set: the SDK reads a list of names) and the values
    themselves as `variableValues`."""
    result = {"index": item["idx"], "status": item["status"]}
    if item["result"]:
        result.update(item["result"])
    result["success"] = item["status"] == "completed"
    values = item["variables"] or {}
    result["variables"] = list(values)
    result["variableValues"] = values
    if item["error"]:
        result["error"] = item["error"].get("error")
        result["errorDetails"] = item["error"]
    return result


def with_results(
    batch: dict, items: list[dict], page: int = 1, limit: int = MAX_ITEMS, status: str | None = None
) -> dict:
    """The results answer: the batch, a page of its items in order (only those in `status`
    if given), the page's failed ones again as `errors` (the SDK's field), and the docs'
    `batch` and `pagination`."""
    answer = shape(batch)
    rows = [item_result(item) for item in items if status is None or item["status"] == status]
    shown = rows[(page - 1) * limit : page * limit]
    keys = ("id", "templateUid", "status", "totalCount", "completedCount", "failedCount")
    return {
        **answer,
        "batch": {
            **{key: answer[key] for key in keys},
            "createdAt": answer["createdAt"],
            **({"completedAt": answer["completedAt"]} if "completedAt" in answer else {}),
        },
        "results": shown,
        "errors": [row for row in shown if row["status"] == "failed"],
        "pagination": {
            "page": page,
            "limit": limit,
            "total": len(rows),
            "totalPages": -(-len(rows) // limit),
        },
    }


async def start(
    env: Env, settings: Settings, owner: str, key_id: str | None, base: str, uid: str, body: dict
) -> dict:
    template = await templates.get(env, owner, uid)
    media_type = generation.media_type_of(body.get("format"))
    sets = variable_sets_of(body)
    options = options_of(body)
    for index, values in enumerate(sets):
        check_item(template, values, index, settings.max_components, media_type)
    now = now_iso()
    batch = {
        "id": "batch_" + secrets.token_hex(12),
        "owner": owner,
        "template_uid": uid,
        "key_id": key_id,
        "format": media_type,
        "base": base,
        "status": "queued",
        "total": len(sets),
        "completed": 0,
        "failed": 0,
        "cancelled": 0,
        "created_at": now,
        "updated_at": now,
        "finished_at": None,
        "started_at": None,
        "options": options,
    }
    job_ids = [new_job_id() for _ in sets]
    await table.insert(
        env.DB,
        batch,
        sets,
        extra=[
            jobs_table.insert_statement(
                env.DB,
                job_id=job_id,
                kind="batch.render_item",
                payload={"batch_id": batch["id"], "index": index},
                owner=owner,
                max_attempts=ITEM_ATTEMPTS,
                run_after=iso(utcnow()),
            )
            for index, job_id in enumerate(job_ids)
        ],
    )
    # The rows are the truth: a message lost here is re-sent by the cron (jobs.py).
    for job_id in job_ids:
        await env.JOBS.send({"job_id": job_id})
    return shape(batch)


async def get(env: Env, owner: str, batch_id: str) -> dict:
    batch = await table.get(env.DB, batch_id, owner)
    if batch is None:
        raise ApiError(404, "Batch not found", details={"id": batch_id})
    return batch


async def results(
    env: Env,
    owner: str,
    batch_id: str,
    page: int = 1,
    limit: int = MAX_ITEMS,
    status: str | None = None,
) -> dict:
    batch = await get(env, owner, batch_id)
    items = await table.items(env.DB, batch_id)
    return with_results(batch, items, page, limit, status)


async def cancel(env: Env, owner: str, batch_id: str) -> dict:
    await get(env, owner, batch_id)
    await table.cancel(env.DB, batch_id)
    await settle(env, batch_id)
    return shape(await get(env, owner, batch_id))


async def settle(env: Env, batch_id: str) -> None:
    """Finish the batch if every item is settled, and emit its event (once)."""
    if await table.finish(env.DB, batch_id):
        batch = await table.get(env.DB, batch_id)
        assert batch is not None  # finished just now
        items = await table.items(env.DB, batch_id)
        await webhooks.emit(
            env,
            batch["owner"],
            EVENTS[batch["status"]],  # the table's state: partial is batch.completed
            with_results(batch, items),
        )


def _error(exc: Exception) -> dict:
    if isinstance(exc, ApiError):
        return {"error": exc.error, "code": exc.code, "status": exc.status, "details": exc.details}
    return {
        "error": f"{type(exc).__name__}: {exc}",
        "code": "RENDER_FAILED",
        "status": 500,
        "details": {},
    }


@job_handler("batch.render_item")
async def render_item(env: Env, payload: dict) -> None:
    batch_id, index = payload["batch_id"], int(payload["index"])
    batch = await table.get(env.DB, batch_id)
    if batch is None:
        return
    item = await table.claim_item(env.DB, batch_id, index)
    if item is None:  # cancelled, or settled by an earlier run
        await settle(env, batch_id)
        return
    try:
        template = await templates.get(env, batch["owner"], batch["template_uid"])
        settings = Settings.from_env(env)
        renderer = template_render.Renderer(
            env,
            settings,
            batch["owner"],
            batch["key_id"],
            batch["base"],
            OwnImages(env, settings, [settings.public_base_url, batch["base"]]),
        )
        answer = await template_render.render(
            renderer, template, item_body(batch, item["variables"])
        )
    except Exception as exc:
        client_error = isinstance(exc, ApiError) and exc.status < 500
        if not client_error and item["attempts"] < ITEM_ATTEMPTS:
            raise  # the job is retried with backoff
        await table.settle_item(env.DB, batch_id, index, error=_error(exc))
        # A batch item is a render too: its final failure is Pictify's render.failed.
        await webhooks.render_failed(env, batch["owner"], "image", batch["template_uid"], exc)
    else:
        await table.settle_item(env.DB, batch_id, index, result=answer)
    await settle(env, batch_id)
