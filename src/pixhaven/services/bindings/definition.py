"""Pictify bindings: the checks of a create or update body, the CRUD, and the answers.

Requests take both of Pictify's spellings. The OpenAPI's: `templateId`, `dataSource {type
http | webhook | static, url, method GET | POST, headers, credentials {type api_key |
bearer_token | basic_auth | custom_header, value, headerName}, body, data}`, `mapping`,
`defaults`, `refreshPolicy {type ttl | etag | webhook | manual | schedule, ttlSeconds,
onError serve_stale | serve_error | serve_default}`, `outputConfig {format, quality}`,
`status`. The docs': `templateUid`, `dataUrl` and `headers` (an http source), `dataMapping`,
`schedule` (cron), `format`. Unknown fields are a 400 (a misspelt update is never a silent
no-op); every 400 names its field and nothing is written.

Answers carry both spellings too, and never a credential: `credentials` is answered as
`{type, configured: true}` (and `headerName`), header values as `"[redacted]"` (the docs'
own example puts a bearer token there). The push secret is answered once, by the create.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pixhaven.cron import ScheduleError
from pixhaven.cron import parse as parse_schedule
from pixhaven.db import bindings as table
from pixhaven.errors import ApiError, invalid
from pixhaven.net import fetch as remote_fetch
from pixhaven.net.errors import RemoteFetchError
from pixhaven.services.bindings import mapping as paths
from pixhaven.services.pagination import pictify_pagination
from pixhaven.services.rendering import templates
from pixhaven.timeutil import iso, now_iso, parse_iso, utcnow

if TYPE_CHECKING:
    from datetime import datetime

    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

UID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
SOURCE_TYPES = ("http", "webhook", "static")
METHODS = ("GET", "POST")
CREDENTIAL_TYPES = ("api_key", "bearer_token", "basic_auth", "custom_header")
POLICIES = ("ttl", "etag", "webhook", "manual", "schedule")
ON_ERROR = ("serve_stale", "serve_error", "serve_default")
FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp"}
STATUSES = ("active", "paused", "error")
Status = Literal["active", "paused", "error"]
SETTABLE_STATUSES = ("active", "paused")  # `error` is set by refreshes, not by callers
DEFAULT_TTL = 3600
MIN_TTL, MAX_TTL = 60, 30 * 24 * 3600  # Pictify: "Minimum refresh interval is 1 minute"
MAX_HEADERS, MAX_HEADER_VALUE = 30, 4096
MAX_MAPPING = 100
MAX_JSON = 1_000_000  # static data, pushed data, defaults, a POST body: bytes of JSON
REDACTED = "[redacted]"
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
# Set by the fetch itself, or meaningless on a request we send.
RESERVED_HEADERS = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "if-none-match",
    "if-modified-since",
}
FIELDS = {
    "name",
    "templateId",
    "templateUid",
    "dataSource",
    "dataUrl",
    "headers",
    "mapping",
    "dataMapping",
    "defaults",
    "refreshPolicy",
    "schedule",
    "outputConfig",
    "format",
    "status",
}


def new_uid() -> str:
    # The image URL is public and names the binding: 24 characters of 36 (124 bits).
    return "bind_" + "".join(secrets.choice(UID_ALPHABET) for _ in range(24))


def new_push_secret() -> str:
    return "bwh_" + secrets.token_hex(24)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _fail(message: str, field: str) -> ApiError:
    return invalid(message, field=field, as_list=True)


def invalid_body(message: str) -> ApiError:
    return _fail(message, "")


def check_json_size(value: Any, field: str) -> Any:
    try:
        size = len(json.dumps(value))
    except (TypeError, ValueError):
        raise _fail(f"{field} must be JSON", field) from None
    if size > MAX_JSON:
        raise _fail(f"{field} is larger than {MAX_JSON} bytes of JSON", field)
    return value


# -- the parts of a definition --------------------------------------------------------------


def _name(body: dict, old: str | None) -> str:
    name = body.get("name", old if old is not None else "Untitled binding")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise _fail("name must be a non-empty string of at most 200 characters", "name")
    return name.strip()


def _template_field(body: dict) -> tuple[str, Any] | None:
    for key in ("templateId", "templateUid"):
        if body.get(key) is not None:
            return key, body[key]
    return None


async def _template(env: Env, owner: str, body: dict, old: str | None) -> str:
    given = _template_field(body)
    if given is None:
        if old is None:
            raise _fail("templateId (or templateUid) is required", "templateId")
        return old
    field, uid = given
    if not isinstance(uid, str) or not uid.strip():
        raise _fail(f"{field} must be a template uid", field)
    try:
        await templates.get(env, owner, uid.strip())
    except ApiError:
        raise invalid(
            f"No such template: {uid.strip()!r}",
            field=field,
            as_list=True,
            status=404,
            code="TEMPLATE_NOT_FOUND",
        ) from None
    return uid.strip()


def _headers(raw: Any, field: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_HEADERS:
        raise _fail(f"{field} must be an object of at most {MAX_HEADERS} name: value", field)
    headers = {}
    for name, value in raw.items():
        if not HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS:
            raise _fail(f"{field}: {name!r} is not a header name that can be sent", field)
        if (
            not isinstance(value, str)
            or len(value) > MAX_HEADER_VALUE
            or "\n" in value
            or ("\r" in value)
        ):
            raise _fail(
                f"{field}.{name} must be a string of at most {MAX_HEADER_VALUE} characters "
                "without line breaks",
                f"{field}.{name}",
            )
        headers[name] = value
    return headers


def _credentials(raw: Any) -> dict | None:
    field = "dataSource.credentials"
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in CREDENTIAL_TYPES:
        raise _fail(
            f"{field} must be {{type: {' | '.join(CREDENTIAL_TYPES)}, value}}", f"{field}.type"
        )
    value = raw.get("value")
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_HEADER_VALUE
        or any(c in value for c in "\r\n")
    ):
        raise _fail(
            f"{field}.value must be a non-empty string without line breaks", f"{field}.value"
        )
    credentials = {"type": raw["type"], "value": value}
    if raw["type"] == "custom_header":
        name = raw.get("headerName", raw.get("header", raw.get("name")))
        if (
            not isinstance(name, str)
            or not HEADER_NAME.fullmatch(name)
            or (name.lower() in RESERVED_HEADERS)
        ):
            raise _fail(
                f"{field}.headerName: the header a custom_header credential is sent as",
                f"{field}.headerName",
            )
        credentials["headerName"] = name
    return credentials


async def _source(settings: Settings, body: dict, old: dict | None) -> dict:
    """The stored data source: the body's `dataSource` (its keys replace the stored ones;
    `credentials: null` removes them), or the docs' `dataUrl`/`headers`."""
    raw = body.get("dataSource")
    if raw is None and (body.get("dataUrl") is not None or "headers" in body):
        raw = {"type": "http"}
        if body.get("dataUrl") is not None:
            raw["url"] = body["dataUrl"]
        if "headers" in body:
            raw["headers"] = body["headers"]
    if raw is None:
        if old is None:
            raise _fail("dataSource (or the docs' dataUrl) is required", "dataSource")
        return old
    if not isinstance(raw, dict):
        raise _fail("dataSource must be an object {type, url, …}", "dataSource")
    unknown = set(raw) - {"type", "url", "method", "headers", "credentials", "body", "data"}
    if unknown:
        raise _fail(f"dataSource: unknown field {sorted(unknown)[0]!r}", "dataSource")
    base = dict(old) if old is not None and raw.get("type", old["type"]) == old["type"] else {}
    merged = {**base, **raw}
    kind = merged.get("type")
    if kind not in SOURCE_TYPES:
        raise _fail(f"dataSource.type must be one of {', '.join(SOURCE_TYPES)}", "dataSource.type")
    source: dict[str, Any] = {"type": kind}
    if kind == "http":
        url = merged.get("url")
        if not isinstance(url, str) or not url.strip():
            raise _fail("dataSource.url is required for an http source", "dataSource.url")
        try:
            await remote_fetch.check_destination(url.strip(), allow=settings.outbound_test_allow)
        except RemoteFetchError as exc:
            raise _fail(
                f"dataSource.url cannot be fetched: {exc.message}", "dataSource.url"
            ) from None
        method = str(merged.get("method") or "GET").upper()
        if method not in METHODS:
            raise _fail("dataSource.method must be GET or POST", "dataSource.method")
        source.update(
            url=url.strip(),
            method=method,
            headers=_headers(merged.get("headers"), "dataSource.headers"),
            credentials=(
                _credentials(merged.get("credentials"))
                if "credentials" in raw
                else merged.get("credentials")
            ),
        )
        if merged.get("body") is not None:
            if method != "POST":
                raise _fail("dataSource.body is sent with method POST only", "dataSource.body")
            source["body"] = check_json_size(merged["body"], "dataSource.body")
    elif kind == "static":
        if "data" not in merged:
            raise _fail("dataSource.data is required for a static source", "dataSource.data")
        source["data"] = check_json_size(merged["data"], "dataSource.data")
    return source


def _mapping(body: dict, old: dict | None) -> dict[str, str]:
    field = "mapping" if "mapping" in body else "dataMapping"
    raw = body.get(field)
    if raw is None:
        return old if old is not None and field not in body else {}
    if not isinstance(raw, dict) or len(raw) > MAX_MAPPING:
        raise _fail(f"{field} must be an object of at most {MAX_MAPPING} variable: path", field)
    for name, path in raw.items():
        if not templates.NAME.fullmatch(name):
            raise _fail(f"{field}: {name!r} is not a variable name", f"{field}.{name}")
        try:
            paths.steps(path)
        except paths.PathError as exc:
            raise _fail(f"{field}.{name}: {exc}", f"{field}.{name}") from None
    return dict(raw)


def _defaults(body: dict, old: dict | None) -> dict:
    raw = body.get("defaults", old if old is not None else {})
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail("defaults must be an object of variable: value", "defaults")
    return check_json_size(raw, "defaults")


def _refresh(body: dict, old: dict | None, source: dict) -> dict:
    raw = body.get("refreshPolicy")
    if raw is not None and not isinstance(raw, dict):
        raise _fail("refreshPolicy must be an object {type, ttlSeconds, onError}", "refreshPolicy")
    raw = raw or {}
    unknown = set(raw) - {"type", "ttlSeconds", "onError", "schedule"}
    if unknown:
        raise _fail(f"refreshPolicy: unknown field {sorted(unknown)[0]!r}", "refreshPolicy")
    previous = old or {}
    schedule = body.get("schedule", raw.get("schedule", previous.get("schedule")))
    if schedule is not None:
        try:
            schedule = parse_schedule(schedule).expression
        except ScheduleError as exc:
            raise _fail(f"schedule: {exc}", "schedule") from None
    kind = raw.get("type", previous.get("type"))
    if kind is None:
        default = {"webhook": "webhook", "static": "manual"}.get(source["type"], "ttl")
        kind = "schedule" if schedule is not None else default
    if kind not in POLICIES:
        raise _fail(
            f"refreshPolicy.type must be one of {', '.join(POLICIES)}", "refreshPolicy.type"
        )
    if kind == "etag" and source["type"] != "http":
        raise _fail("refreshPolicy.type etag needs an http dataSource", "refreshPolicy.type")
    if kind == "schedule" and schedule is None:
        raise _fail("refreshPolicy.type schedule needs a schedule (cron)", "schedule")
    ttl = raw.get("ttlSeconds", previous.get("ttlSeconds", DEFAULT_TTL))
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
        raise _fail(
            f"refreshPolicy.ttlSeconds must be a whole number from {MIN_TTL} to {MAX_TTL}",
            "refreshPolicy.ttlSeconds",
        )
    on_error = raw.get("onError", previous.get("onError", "serve_stale"))
    if on_error not in ON_ERROR:
        raise _fail(
            f"refreshPolicy.onError must be one of {', '.join(ON_ERROR)}",
            "refreshPolicy.onError",
        )
    return {"type": kind, "ttlSeconds": ttl, "onError": on_error, "schedule": schedule}


def _output(body: dict, old: dict | None) -> dict:
    raw = body.get("outputConfig")
    if raw is not None and not isinstance(raw, dict):
        raise _fail("outputConfig must be an object {format, quality}", "outputConfig")
    raw = raw or {}
    previous = old or {"format": "png", "quality": None}
    field = "outputConfig.format" if "format" in raw else "format"
    fmt = raw.get("format", body.get("format", previous["format"]))
    if fmt == "pdf":
        raise _fail("bindings render images: pdf output is not supported", field)
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise _fail("format must be one of png, jpeg, webp", field)
    quality = raw.get("quality", previous["quality"])
    if quality is not None and (
        isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100
    ):
        raise _fail(
            "outputConfig.quality must be a whole number from 1 to 100", "outputConfig.quality"
        )
    return {"format": FORMATS[fmt.lower()], "quality": quality}


def _status(body: dict, old: str | None) -> str:
    status = body.get("status", old or "active")
    if status == old:
        return status
    if status not in SETTABLE_STATUSES:
        raise _fail("status must be active or paused", "status")
    return status


def next_run(refresh: dict, after: datetime) -> str | None:
    """When the cron sweep refreshes the binding next: its ttl (ttl, etag) or its schedule
    after `after`, whichever comes first; None for manual and webhook bindings."""
    times = []
    if refresh["type"] in ("ttl", "etag"):
        times.append(after + timedelta(seconds=refresh["ttlSeconds"]))
    if refresh.get("schedule"):
        times.append(parse_schedule(refresh["schedule"]).next_after(after))
    return iso(min(times)) if times else None


# -- answers ----------------------------------------------------------------------------------


def image_url(base: str, uid: str) -> str:
    return f"{base}/bindings/{uid}/image"


def _public_source(source: dict) -> dict:
    shown = {key: value for key, value in source.items() if key not in ("credentials", "headers")}
    if "headers" in source:
        shown["headers"] = {name: REDACTED for name in source["headers"]}
    credentials = source.get("credentials")
    if credentials:
        shown["credentials"] = {"type": credentials["type"], "configured": True}
        if "headerName" in credentials:
            shown["credentials"]["headerName"] = credentials["headerName"]
    return shown


def shape(row: dict, base: str, *, with_data: bool = False) -> dict:
    """The binding in both of Pictify's spellings (never a credential)."""
    source, refresh, output = _public_source(row["source"]), row["refresh"], row["output"]
    url = image_url(base, row["uid"])
    answer = {
        "uid": row["uid"],
        "id": row["uid"],
        "name": row["name"],
        "templateId": row["template_uid"],
        "templateUid": row["template_uid"],
        "dataSource": source,
        "dataUrl": source.get("url"),
        "headers": source.get("headers", {}),
        "mapping": row["mapping"],
        "dataMapping": row["mapping"],
        "defaults": row["defaults"],
        "refreshPolicy": {k: refresh[k] for k in ("type", "ttlSeconds", "onError")},
        "schedule": refresh.get("schedule"),
        "outputConfig": output,
        "format": output["format"],
        "status": row["status"],
        "imageUrl": url,
        "renderUrl": url,
        "webhookUrl": f"{base}/bindings/{row['uid']}/webhook",
        "lastRefresh": row["last_refresh"],
        "lastRenderedAt": row["rendered_at"],
        "lastError": row["last_error"],
        "nextRefreshAt": row["next_run_at"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }
    if with_data:
        answer["lastData"] = row["data"]
    return answer


# -- CRUD -------------------------------------------------------------------------------------


def _body(body: Any) -> dict:
    if not isinstance(body, dict):
        raise _fail("The request body must be a JSON object", "")
    unknown = set(body) - FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise _fail(f"Unknown field {name!r}", name)
    return body


async def create(env: Env, settings: Settings, owner: str, base: str, body: Any) -> dict:
    body = _body(body)
    source = await _source(settings, body, None)
    refresh = _refresh(body, None, source)
    now = utcnow()
    secret = new_push_secret()
    row = {
        "uid": new_uid(),
        "owner": owner,
        "name": _name(body, None),
        "template_uid": await _template(env, owner, body, None),
        "source": source,
        "mapping": _mapping(body, None),
        "defaults": _defaults(body, None),
        "refresh": refresh,
        "output": _output(body, None),
        "status": _status(body, None),
        "push_secret_hash": secret_hash(secret),
        "base_url": base,
        "next_run_at": iso(now) if refresh["type"] in ("ttl", "etag") else next_run(refresh, now),
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    for column in table.COLUMNS.split(","):
        row.setdefault(column.strip(), None)
    await table.insert(env.DB, row)
    return {**shape(row, base), "webhookSecret": secret}


async def get(env: Env, owner: str, uid: str) -> dict:
    row = await table.get(env.DB, uid, owner)
    if row is None:
        raise ApiError(404, "Binding not found", details={"uid": uid})
    return row


async def update(
    env: Env, settings: Settings, owner: str, uid: str, base: str, body: Any
) -> tuple[dict, bool]:
    """PUT: the fields present replace the stored ones. The updated row, and whether what
    the image shows may have changed (anything but `name` and `status`)."""
    body = _body(body)
    row = await get(env, owner, uid)
    source = await _source(settings, body, row["source"])
    refresh = _refresh(body, row["refresh"], source)
    status = _status(body, row["status"])
    resumed = row["status"] == "paused" and status != "paused"
    redefined = bool(body.keys() - {"name", "status"})
    row.update(
        name=_name(body, row["name"]),
        template_uid=await _template(env, owner, body, row["template_uid"]),
        source=source,
        mapping=_mapping(body, row["mapping"]),
        defaults=_defaults(body, row["defaults"]),
        refresh=refresh,
        output=_output(body, row["output"]),
        status=status,
        base_url=base,
        updated_at=now_iso(),
    )
    if resumed:
        row["last_error"] = None  # the next refresh says how it goes
    if status == "paused":
        row["next_run_at"] = None
    elif redefined or resumed:
        # Due at once where the sweep refreshes it (ttl, etag), else at its next schedule.
        now = utcnow()
        row["next_run_at"] = (
            iso(now) if refresh["type"] in ("ttl", "etag") else next_run(refresh, now)
        )
    await table.update_definition(env.DB, row)
    return row, redefined


async def delete(env: Env, owner: str, uid: str) -> None:
    if not await table.delete(env.DB, owner, uid):
        raise ApiError(404, "Binding not found", details={"uid": uid})


async def list_page(
    env: Env,
    owner: str,
    base: str,
    page: int,
    limit: int,
    template_uid: str | None,
    status: str | None,
) -> dict:
    total = await table.count(env.DB, owner, template_uid, status)
    rows = (
        await table.page(env.DB, owner, limit, (page - 1) * limit, template_uid, status)
        if total
        else []
    )
    return {
        "success": True,
        "bindings": [shape(row, base) for row in rows],
        "pagination": pictify_pagination(page, limit, total),
    }


def is_stale(row: dict, now: datetime) -> bool:
    """A ttl or etag binding whose image is older than its ttlSeconds."""
    refresh = row["refresh"]
    if refresh["type"] not in ("ttl", "etag") or row["rendered_at"] is None:
        return False
    checked = row["last_refresh"] or row["rendered_at"]
    return parse_iso(checked) + timedelta(seconds=refresh["ttlSeconds"]) <= now
