"""Refreshing and serving a binding: fetch its data, map it onto the template's variables,
render through the shared template entry point (services/rendering/template_render.py),
keep the one latest image, and serve it at the binding's stable URL.

Data: `static` is the binding's own `dataSource.data`; `webhook` is the JSON last pushed to
`POST /bindings/{uid}/webhook`; `http` is fetched through net/fetch.py (the outbound rules:
public http(s) only, bounded body of DATA_MAX_BYTES, FETCH_TIMEOUT, redirects checked hop
by hop, the caller's headers and credentials sent to the URL's own origin only) and must be
JSON. Credentials are sent as `X-API-Key` (api_key), `Authorization: Bearer` (bearer_token),
`Authorization: Basic` (basic_auth: `user:password`, base64-encoded here unless it is
already) or the named header (custom_header). No credential or header value is ever
written to an answer, a log line, an error or an event.

Refresh (`refresh`): policy `etag` sends `If-None-Match` / `If-Modified-Since` from the last
fetch and re-renders only when the source answers new data (not 304, and not the same JSON);
every other refresh renders. A render is stored through the one image writer (an image with
`source: render`); the binding then points at it — unless another refresh replaced the image
meanwhile (compare-and-swap on the image id), in which case the loser's render is purged —
and the image it replaced is purged (services/images/updates.purge_image: shared objects
stay while another image refers to them; a purge that fails becomes an `image.purge` job).
Success sets `status: active` and emits `binding.updated`; a failure sets `status: error`
with `lastError`, emits `binding.failed`, and follows `onError`: `serve_stale` keeps the last
image, `serve_error` makes the image URL answer 502, `serve_default` renders the template with
the binding's `defaults` (no data) and serves that.

Triggers: the image URL (the first render, synchronously; a ttl/etag image older than
`ttlSeconds` queues a refresh and is served as it is meanwhile), `POST /bindings/{uid}/refresh`,
a push, and the cron sweep (`sweep`, from worker.run_scheduled: ttl/etag bindings past their
ttl, schedules whose time has come). Each queues one durable `binding.refresh` job; a binding
has at most one queued by the image URL and the sweep (`queued_at`), while refresh and push
requests always queue one (they must see their own data).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pixhaven.db import bindings as table
from pixhaven.db import images as images_table
from pixhaven.errors import ApiError
from pixhaven.net import fetch as remote_fetch
from pixhaven.net.errors import RemoteFetchError
from pixhaven.services.bindings import definition
from pixhaven.services.bindings.mapping import variables
from pixhaven.services.delivery.objects import object_response
from pixhaven.services.images.keys import stored_original_key
from pixhaven.services.images.updates import purge_image
from pixhaven.services.jobs import webhooks
from pixhaven.services.jobs.queue import enqueue
from pixhaven.services.jobs.registry import job_handler
from pixhaven.services.rendering import template_render, templates
from pixhaven.services.rendering.own_sources import OwnImages
from pixhaven.settings import Settings
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import Response

    from pixhaven.bindings.env import Env

log = logging.getLogger("pixhaven.bindings")

DATA_MAX_BYTES = 1_000_000
FETCH_TIMEOUT = 10.0
QUEUE_STALE = timedelta(minutes=15)  # a queued refresh older than this died: queue again
SWEEP_LIMIT = 100  # bindings queued per cron run; the rest at the next
FAILED = "BINDING_REFRESH_FAILED"


class SourceError(Exception):
    """The data source answered something a binding cannot use."""


class _Unchanged:
    pass


UNCHANGED: Any = _Unchanged()


# -- data -------------------------------------------------------------------------------------


def request_headers(source: dict, row: dict, conditional: bool) -> dict[str, str]:
    headers = dict(source.get("headers") or {})
    credentials = source.get("credentials")
    if credentials:
        kind, value = credentials["type"], credentials["value"]
        if kind == "api_key":
            headers["X-API-Key"] = value
        elif kind == "bearer_token":
            headers["Authorization"] = f"Bearer {value}"
        elif kind == "basic_auth":
            encoded = base64.b64encode(value.encode()).decode() if ":" in value else value
            headers["Authorization"] = f"Basic {encoded}"
        else:
            headers[credentials["headerName"]] = value
    if conditional:
        if row["source_etag"]:
            headers["If-None-Match"] = row["source_etag"]
        if row["source_modified"]:
            headers["If-Modified-Since"] = row["source_modified"]
    return headers


async def load_data(settings: Settings, row: dict, conditional: bool) -> tuple[Any, dict]:
    """The binding's data (UNCHANGED for a 304) and the source's validators to keep."""
    source = row["source"]
    if source["type"] == "static":
        return source.get("data"), {}
    if source["type"] == "webhook":
        return row["data"], {}
    body = source.get("body")
    fetched = await remote_fetch.fetch(
        source["url"],
        max_bytes=DATA_MAX_BYTES,
        timeout=FETCH_TIMEOUT,
        accept="application/json",
        method=source.get("method", "GET"),
        body=json.dumps(body).encode() if body is not None else None,
        headers={
            **request_headers(source, row, conditional),
            **({"Content-Type": "application/json"} if body is not None else {}),
        },
        allow=settings.outbound_test_allow,
    )
    validators = {
        "source_etag": fetched.headers.get("etag"),
        "source_modified": fetched.headers.get("last-modified"),
    }
    if fetched.status == 304:
        return UNCHANGED, {}
    try:
        return json.loads(fetched.body), validators
    except ValueError:
        raise SourceError("the data source did not answer JSON") from None


# -- rendering --------------------------------------------------------------------------------


async def discard(env: Env, image_id: str | None) -> None:
    """Purge a render the binding no longer shows (later by a job if that fails now)."""
    if image_id is None:
        return
    try:
        await purge_image(env, image_id)
    except Exception as exc:
        log.warning(json.dumps({"event": "binding_purge_deferred", "error": str(exc)}))
        await enqueue(env, "image.purge", {"image_id": image_id})


async def render_into(
    env: Env, settings: Settings, row: dict, values: dict, fields: dict[str, Any]
) -> dict:
    """Render the binding's template with `values` and make it the binding's image, with
    `fields` (refresh state) in the same write. The render's answer."""
    template = await templates.get(env, row["owner"], row["template_uid"])
    output = row["output"]
    body = {"variables": values, "format": output["format"], "quality": output["quality"]}
    body = {key: value for key, value in body.items() if value is not None}
    own = OwnImages(env, settings, [settings.public_base_url, row["base_url"]])
    renderer = template_render.Renderer(env, settings, row["owner"], None, row["base_url"], own)
    # A binding shows an image: its own format, else png (never the template's pdf).
    answer = await template_render.render_image(
        renderer, template, body, body.get("format") or "png"
    )
    image = await images_table.get(env.DB, answer["id"])
    if image is None:  # deleted the instant it was made: nothing to point at
        raise RuntimeError("the render was deleted before the binding could use it")
    now = utcnow()
    fields = {
        **fields,
        "image_id": answer["id"],
        "image_key": stored_original_key(image),
        "rendered_at": iso(now),
        "last_refresh": iso(now),
        "next_run_at": definition.next_run(row["refresh"], now),
    }
    if await table.record_render(env.DB, row["uid"], row["image_id"], fields):
        await discard(env, row["image_id"])
    else:  # another refresh replaced the image first: its render stays, this one goes
        await discard(env, answer["id"])
    return answer


def describe(exc: BaseException) -> tuple[str, str]:
    """(message, code) of a failed refresh, as `lastError` and `binding.failed` say it."""
    if isinstance(exc, ApiError):
        return exc.error, exc.code
    if isinstance(exc, RemoteFetchError):
        return f"fetching the data source failed: {exc.message}", exc.reason
    if isinstance(exc, SourceError):
        return str(exc), "INVALID_DATA"
    return "Internal error while refreshing the binding", "INTERNAL_ERROR"


def _event_data(row: dict) -> dict:
    return {
        "bindingId": row["uid"],
        "uid": row["uid"],
        "name": row["name"],
        "templateId": row["template_uid"],
        "imageUrl": definition.image_url(row["base_url"], row["uid"]),
    }


async def refresh(env: Env, settings: Settings, uid: str) -> dict | None:
    """Fetch, render and store the binding's image now (see the module docstring); the row
    afterwards, or None when there is no such binding. Never raises for the source's or
    the render's failure: that is the binding's `error` status."""
    row = await table.get(env.DB, uid)
    if row is None or row["status"] == "paused":
        return row
    policy = row["refresh"]
    # Only an image that shows the last data may be kept when the data has not changed
    # (after a failure it may be a stale or a defaults render).
    conditional = (
        policy["type"] == "etag" and row["image_id"] is not None and row["status"] != "error"
    )
    try:
        data, validators = await load_data(settings, row, conditional)
        if conditional and (data is UNCHANGED or data == row["data"]):
            now = utcnow()
            await table.record_state(
                env.DB,
                uid,
                {
                    "status": "active",
                    "last_error": None,
                    "last_refresh": iso(now),
                    "next_run_at": definition.next_run(policy, now),
                    **validators,
                },
            )
            return await table.get(env.DB, uid)
        if data is UNCHANGED:  # a 304 with no image to keep: nothing to render from
            raise SourceError("the data source answered 304 Not Modified to a first fetch")
        fields = {"status": "active", "last_error": None, "data": data, **validators}
        values = variables(data, row["mapping"], row["defaults"])
        answer = await render_into(env, settings, row, values, fields)
    except Exception as exc:
        await _failed(env, settings, row, exc)
    else:
        await webhooks.emit(
            env,
            row["owner"],
            "binding.updated",
            {
                **_event_data(row),
                "status": "active",
                "url": answer.get("url"),
                "imageId": answer.get("id"),
                "renderedAt": answer.get("createdAt"),
            },
        )
    return await table.get(env.DB, uid)


async def _failed(env: Env, settings: Settings, row: dict, exc: BaseException) -> None:
    message, code = describe(exc)
    if code == "INTERNAL_ERROR":
        log.error(
            json.dumps(
                {
                    "event": "binding_refresh_error",
                    "binding": row["uid"],
                    "error": type(exc).__name__,
                }
            )
        )
    now = utcnow()
    fields = {
        "status": "error",
        "last_error": message,
        "last_refresh": iso(now),
        "next_run_at": definition.next_run(row["refresh"], now),
    }
    on_error = row["refresh"]["onError"]
    rendered_default = False
    if on_error == "serve_default":
        try:
            await render_into(env, settings, row, dict(row["defaults"]), fields)
            rendered_default = True
        except Exception as default_exc:
            fields["last_error"] = (
                f"{message}; rendering the defaults failed too: " + (describe(default_exc)[0])
            )
    if not rendered_default:
        await table.record_state(env.DB, row["uid"], fields)
    await webhooks.emit(
        env,
        row["owner"],
        "binding.failed",
        {
            **_event_data(row),
            "status": "error",
            "error": fields["last_error"],
            "errorCode": code,
            "onError": on_error,
        },
    )


# -- queueing ---------------------------------------------------------------------------------


async def queue_refresh(env: Env, row: dict, *, always: bool = False) -> bool:
    """Queue a `binding.refresh` job. Unless `always`, only when none is queued already."""
    now = utcnow()
    claimed = await table.mark_queued(env.DB, row["uid"], iso(now), iso(now - QUEUE_STALE))
    if not claimed and not always:
        return False
    try:
        await enqueue(
            env, "binding.refresh", {"uid": row["uid"]}, owner=row["owner"], max_attempts=1
        )
    except Exception:
        if claimed:
            await table.clear_queued(env.DB, row["uid"])
        raise
    return True


@job_handler("binding.refresh")
async def refresh_job(env: Env, payload: dict) -> None:
    try:
        await refresh(env, Settings.from_env(env), payload["uid"])
    finally:
        # Cleared when done, not when started: while a refresh runs, image requests for a
        # stale image must not queue more of them.
        await table.clear_queued(env.DB, payload["uid"])


async def sweep(env: Env) -> int:
    """Cron: queue a refresh for every binding whose ttl or schedule time has come (at most
    SWEEP_LIMIT per run). How many were queued."""
    now = utcnow()
    queued = 0
    for row in await table.due(env.DB, iso(now), iso(now - QUEUE_STALE), SWEEP_LIMIT):
        if await queue_refresh(env, row):
            queued += 1
    return queued


# -- the requests that are not the CRUD -------------------------------------------------------


def cache_control(row: dict) -> str:
    """Caches keep an image a minute at most where it changes by time (ttl, etag, schedule;
    ttlSeconds is at least 60); manual and webhook images change on request, so caches
    revalidate (the ETag makes that a 304)."""
    if row["refresh"]["type"] in ("manual", "webhook"):
        return "public, no-cache"
    return "public, max-age=60"


def binding_not_found(uid: str) -> ApiError:
    return ApiError(404, "Binding not found", details={"uid": uid})


def refresh_failed(row: dict, status: int = 502) -> ApiError:
    return ApiError(
        status,
        f"The binding's last refresh failed: {row['last_error'] or 'no image was rendered'}",
        code=FAILED,
        details={"uid": row["uid"], "lastRefresh": row["last_refresh"]},
    )


async def serve_image(env: Env, settings: Settings, request: Request, uid: str) -> Response:
    """`GET /bindings/{uid}/image`: the latest render's bytes (ETag, 304, Range as any
    stored image), rendered synchronously when there is none yet."""
    row = await table.get(env.DB, uid)
    if row is None:
        raise binding_not_found(uid)
    for attempt in (0, 1):
        if row["status"] != "paused" and definition.is_stale(row, utcnow()):
            await queue_refresh(env, row)  # this request is answered with the current image
        if row["status"] == "error" and row["refresh"]["onError"] == "serve_error":
            raise refresh_failed(row)
        if row["image_key"] is None:
            if row["status"] == "paused":
                raise ApiError(
                    409,
                    "The binding is paused and has no image yet",
                    code="BINDING_PAUSED",
                    details={"uid": uid},
                )
            row = await refresh(env, settings, uid)
            if row is None:
                raise binding_not_found(uid)
            if row["image_key"] is None or (
                row["status"] == "error" and row["refresh"]["onError"] == "serve_error"
            ):
                raise refresh_failed(row)
        try:
            return await object_response(
                env, row["image_key"], request, extra_headers={"Cache-Control": cache_control(row)}
            )
        except ApiError as exc:
            if exc.status != 404 or attempt:
                raise
        # Replaced (and purged) between reading the binding and reading the object, or the
        # image was deleted through the images API: read the binding again.
        fresh = await table.get(env.DB, uid)
        if fresh is None:
            raise binding_not_found(uid)
        if fresh["image_key"] == row["image_key"]:
            fresh["image_key"] = None  # gone for good: render anew
        row = fresh
    raise binding_not_found(uid)  # not reached: the second attempt returns or raises


def push_secret(request: Request) -> str:
    """The secret a push carries: `Authorization: Bearer <secret>` or `X-Binding-Secret`."""
    given = request.headers.get("x-binding-secret")
    if given:
        return given.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def paused(uid: str) -> ApiError:
    return ApiError(409, "The binding is paused", code="BINDING_PAUSED", details={"uid": uid})


async def authorized_push(env: Env, request: Request, uid: str) -> dict:
    """The binding a push is for, once its secret checks out (constant time, against the
    stored hash). A wrong secret and an unknown binding are the same 401: the answer does
    not confirm that a uid exists."""
    row = await table.get(env.DB, uid)
    expected = row["push_secret_hash"] if row is not None else "0" * 64
    if not hmac.compare_digest(definition.secret_hash(push_secret(request)), expected):
        row = None
    if row is None:
        raise ApiError(
            401,
            "Missing or wrong binding secret (Authorization: Bearer <webhookSecret>)",
            code="UNAUTHORIZED",
            details={"reason": "invalid binding secret"},
        )
    return row


async def accept_push(env: Env, row: dict, body: Any) -> None:
    """`POST /bindings/{uid}/webhook`: a `webhook` source's pushed JSON becomes its data;
    for other sources the push only triggers a refresh. Queues the refresh."""
    if row["status"] == "paused":
        raise paused(row["uid"])
    if row["source"]["type"] == "webhook":
        if not isinstance(body, (dict, list)):
            raise definition.invalid_body("The pushed data must be a JSON object or array")
        definition.check_json_size(body, "")
        await table.record_state(env.DB, row["uid"], {"data": body})
    await queue_refresh(env, row, always=True)
