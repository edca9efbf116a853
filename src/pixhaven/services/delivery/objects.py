"""Serving stored objects over HTTP: `/r2/{key}`, PixelFlare CDN paths, variants.

Path safety. Object keys are derived by the server (services/images/keys.py), so a servable key
has one of two exact shapes, checked with anchored patterns:

    images/{landscape|portrait}/{uuid}.{jpg|png|gif|webp|avif}
    variants/{uuid}/{name}.{jpg|png|gif|webp|avif}
    renders/{uuid}.pdf   (rendered PDFs: public by their unguessable URL, no image row)

Anything that smells of traversal — a `.`/`..` segment, a backslash, a control character,
or a percent-encoded dot, slash, backslash or NUL in the raw path — is a
400 before any lookup; any other key that does not match the shapes is a 404. The image id in
the key is then looked up and the object is served only when that image is public (not
deleted, not private, not expired, upload complete). Nothing is ever read from the
filesystem by path: the key goes to the R2 binding only after these checks.

Sending. A body of at most WHOLE_BODY_BYTES is read and sent in one piece (one copy of at most
that much in memory; one ASGI message instead of one per chunk). A larger body is never read
into Python whole: the response is a StreamingResponse over the R2 body stream. Locally that
is the emulated stream, read from the object's file in 64 KiB chunks. On Workers the
R2 body is a JS ReadableStream; iterating it yields Uint8Array chunks that we hand to the
`workers.asgi` adapter, which writes them into a TransformStream as they come — memory stays
at one chunk whatever the object's size. (The adapter gives no way to return the R2
ReadableStream itself as the JS Response body, which would skip Python entirely; doing that
would need a fast path in src/entry.py in front of the ASGI app.)

HTTP semantics: `ETag` is R2's `httpEtag`; `If-None-Match` (one etag: R2 `onlyIf`, a list
or `*`: compared after a `head`) answers 304; a single `Range` (`a-b`, `a-`, `-n`) answers
206 with `Content-Range`, an unsatisfiable one 416 with `Content-Range: bytes */size`
(positions may have any number of digits: one past any object is past the end of this one);
several ranges are answered with the whole object (allowed by RFC 9110); `If-Range` with a
different etag also gets the whole object. HEAD answers the same headers without a body.

With SERVE_OBJECTS_VIA set, the web server in front sends the bytes instead (offload.py).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NoReturn

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from pixhaven.errors import ApiError, invalid
from pixhaven.interop import as_bytes, body_bytes
from pixhaven.services.delivery.offload import offloaded_response
from pixhaven.services.images.keys import IMMUTABLE
from pixhaven.settings import request_settings

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EXTENSIONS = r"(?:jpg|png|gif|webp|avif)"
ORIGINAL_KEY = re.compile(rf"images/(?:landscape|portrait)/(?P<id>{UUID})\.{EXTENSIONS}")
VARIANT_KEY = re.compile(
    rf"variants/(?P<id>{UUID})/(?P<name>[a-z0-9][a-z0-9-]{{0,63}})"
    rf"\.(?P<ext>{EXTENSIONS})"
)
RENDER_KEY = re.compile(rf"renders/(?P<id>{UUID})\.pdf")
ENCODED_TRAVERSAL = re.compile(r"%(?:2e|2f|5c|00)", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# No object is this large (R2 holds at most 5 TiB, and a JavaScript number counts bytes exactly
# only up to here): a position past it is past the end of every object.
MAX_POSITION = 2**53 - 1
# Bodies up to this size are sent in one piece: a 210 KB photo is one ASGI message, not four.
WHOLE_BODY_BYTES = 1024 * 1024


def not_found() -> ApiError:
    return ApiError(404, "Not found")


def check_safe(path: str, raw_path: str = "") -> None:
    """400 for anything that looks like traversal or smuggling, in the decoded path or the
    raw (still percent-encoded) one."""
    if (
        CONTROL.search(path)
        or "\\" in path
        or ENCODED_TRAVERSAL.search(raw_path)
        or CONTROL.search(raw_path)
    ):
        raise invalid("Invalid path")

    segments = path.split("/")
    if any(segment in (".", "..") for segment in segments):
        raise invalid("Invalid path")


def parse_key(path: str, raw_path: str = "") -> tuple[str, re.Match]:
    """A servable object key → ('original' | 'variant' | 'render', match with the id).
    Raises the 400/404 envelopes described in the module docstring."""
    check_safe(path, raw_path)
    if (match := ORIGINAL_KEY.fullmatch(path)) is not None:
        return "original", match
    if (match := VARIANT_KEY.fullmatch(path)) is not None:
        return "variant", match
    if (match := RENDER_KEY.fullmatch(path)) is not None:
        return "render", match
    raise not_found()


# -- responses ----------------------------------------------------------------------------------


def accepts(accept: str, mime: str) -> bool:
    """Whether an Accept header lists `mime` explicitly with q > 0 (a bare `*/*` does not
    count: browsers that decode AVIF/WebP say so)."""
    for part in accept.lower().split(","):
        media, *params = [p.strip() for p in part.split(";")]
        if media != mime:
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def _etags(header: str) -> list[str]:
    """Entity tags of an If-None-Match header, without quotes or W/ (weak comparison)."""
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part:
            tags.append(part.strip('"'))
    return tags


def _range_option(header: str | None) -> dict | None | str:
    """The R2 `range` option for a Range header: a dict, None (serve it all), or
    'unsatisfiable'."""
    if not header:
        return None
    match = RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None  # several ranges, or another unit: answer with the whole object
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        n = _position(last)
        if n is None:  # more than the object holds: all of it (RFC 9110 §14.1.2)
            return {"offset": 0}
        return "unsatisfiable" if n == 0 else {"suffix": n}
    start = _position(first)
    if start is None:
        return "unsatisfiable"
    if last:
        end = _position(last)
        if end is None:  # past the end: up to the end
            return {"offset": start}
        if end < start:
            return None  # syntactically invalid: ignore (RFC 9110 §14.2)
        return {"offset": start, "length": end - start + 1}
    return {"offset": start}


def _position(digits: str) -> int | None:
    """A byte position of a Range header, or None when it is past MAX_POSITION. Any number of
    digits is allowed; only short ones are converted (Python refuses int() of more than 4,300
    digits, and no object needs more than 16)."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(MAX_POSITION)):
        return None
    value = int(significant)
    return value if value <= MAX_POSITION else None


def _headers(obj, *, extra: dict[str, str] | None = None) -> dict[str, str]:
    metadata = obj.httpMetadata or {}
    headers = {
        "ETag": obj.httpEtag,
        "Cache-Control": IMMUTABLE,
        "Accept-Ranges": "bytes",
        "Content-Type": metadata.get("contentType") or "application/octet-stream",
    }
    uploaded = getattr(obj, "uploaded", None)
    if uploaded is not None:
        headers["Last-Modified"] = _http_date(uploaded)
    headers.update(extra or {})
    return headers


@lru_cache(maxsize=1024)  # the same few objects are asked for over and over
def _http_date(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return format_datetime(moment, usegmt=True)


async def iter_body(body):
    """Chunks of an R2 body stream as bytes: local chunks are bytes already, Workers chunks
    are Uint8Array proxies (`as_bytes` copies one chunk, never the whole object)."""
    async for chunk in body:
        yield as_bytes(chunk)


def _unsatisfiable(size: int, extra: dict | None) -> NoReturn:
    raise ApiError(
        416,
        "Range not satisfiable",
        code="RANGE_NOT_SATISFIABLE",
        headers={"Content-Range": f"bytes */{size}", **(extra or {})},
    )


async def object_response(
    env: Env,
    key: str,
    request: Request,
    *,
    on_missing: Callable[[], Awaitable[bool]] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """Serve the R2 object `key` with ETag/304/Range/HEAD semantics. `on_missing`, when
    given, is awaited if the object does not exist (e.g. to generate a variant) and the read
    is retried once if it returns True. 404 envelope when there is no object."""
    bucket = env.BUCKET
    head_only = request.method == "HEAD"
    inm = _etags(request.headers.get("if-none-match", ""))
    settings = request_settings(request.scope, env)
    if settings.serve_objects_via:
        return await offloaded_response(
            env,
            key,
            inm,
            settings,
            _headers,
            on_missing=on_missing,
            extra_headers=extra_headers,
            not_found=not_found,
        )
    wanted_range = None if head_only else _range_option(request.headers.get("range"))
    if_range = request.headers.get("if-range")

    for attempt in (0, 1):
        # A list of etags, `*`, If-Range, HEAD and unsatisfiable ranges need the metadata
        # first; the common cases (plain GET, one etag, one range) are a single `get`.
        needs_head = (
            head_only
            or wanted_range == "unsatisfiable"
            or bool(inm and (len(inm) > 1 or inm == ["*"]))
            or bool(if_range and wanted_range)
        )
        meta = await bucket.head(key) if needs_head else None
        if needs_head and meta is None:
            if attempt == 0 and on_missing is not None and await on_missing():
                continue
            raise not_found()
        if meta is not None:
            if inm and ("*" in inm or meta.etag in inm):
                return Response(status_code=304, headers=_headers(meta, extra=extra_headers))
            if head_only:
                return Response(
                    status_code=200,
                    headers=_headers(
                        meta, extra={"Content-Length": str(meta.size), **(extra_headers or {})}
                    ),
                )
            if wanted_range == "unsatisfiable":
                _unsatisfiable(meta.size, extra_headers)
            if if_range and if_range.strip() != meta.httpEtag:
                wanted_range = None
        options: dict[str, Any] = {}
        if wanted_range is not None:
            options["range"] = wanted_range
        if len(inm) == 1 and inm != ["*"] and meta is None:
            options["onlyIf"] = {"etagDoesNotMatch": inm[0]}
        try:
            obj = await bucket.get(key, **options)
        except Exception:
            if wanted_range is None:
                raise
            # R2 refuses a range starting past the end (10039): that is a 416.
            meta = await bucket.head(key)
            if meta is None:
                raise not_found() from None
            _unsatisfiable(meta.size, extra_headers)
        if obj is None:
            if attempt == 0 and on_missing is not None and await on_missing():
                continue
            raise not_found()
        break

    body = getattr(obj, "body", None)
    if body is None:  # onlyIf failed: the client's copy is current
        return Response(status_code=304, headers=_headers(obj, extra=extra_headers))
    # Which bytes the body holds: local R2 reports the resolved {offset, length}; workerd
    # may echo the requested range, e.g. {suffix: n}.
    served = obj.range or {}
    if served.get("suffix") is not None:
        length = min(int(served["suffix"]), obj.size)
        offset = obj.size - length
    else:
        offset = served.get("offset") or 0
        length = served.get("length")
        length = obj.size - offset if length is None else min(length, obj.size - offset)
    status = 200
    headers = _headers(obj, extra={"Content-Length": str(obj.size), **(extra_headers or {})})
    if wanted_range is not None:
        status = 206
        headers = _headers(
            obj,
            extra={
                "Content-Range": f"bytes {offset}-{offset + length - 1}/{obj.size}",
                "Content-Length": str(length),
                **(extra_headers or {}),
            },
        )
    if length <= WHOLE_BODY_BYTES:
        return Response(await body_bytes(obj), status_code=status, headers=headers)
    return StreamingResponse(iter_body(body), status_code=status, headers=headers)
