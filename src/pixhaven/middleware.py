"""ASGI middleware around the whole app: response headers, logging, the IP allowlist,
CORS preflight, request body limits, and the last-resort 500.

Written as plain ASGI (not Starlette's BaseHTTPMiddleware) so it is cheap, streams bodies
untouched, and wraps even the responses FastAPI never sees.
"""

import itertools
import json
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from pixhaven.dependencies import RESPONSE_HEADERS
from pixhaven.errors import (
    BodyTooLarge,
    JsonTooDeep,
    error_body,
    is_problem_path,
    problem_fields,
)
from pixhaven.json_depth import JsonDepth, is_json_content_type
from pixhaven.numerals import is_ascii_digits
from pixhaven.security.ip_allowlist import is_allowed, parse_allowlist
from pixhaven.services.images.upload_urls import upload_too_large
from pixhaven.settings import Settings, request_settings

log = logging.getLogger("pixhaven")

CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type, Authorization, Idempotency-Key"
CORS_MAX_AGE = "86400"
EXPOSED_HEADERS = (
    "X-Request-Id, Content-Length, Content-Range, ETag, Retry-After,"
    " X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
)


@lru_cache(maxsize=8)  # one setting value, asked on every request
def _cors_headers(origin: str) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"access-control-allow-origin", origin.encode()),
        (b"access-control-allow-methods", CORS_METHODS.encode()),
        (b"access-control-allow-headers", CORS_HEADERS.encode()),
        (b"access-control-max-age", CORS_MAX_AGE.encode()),
        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
    )


async def _send_simple(send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class PixhavenMiddleware:
    """Everything that must hold for every response, in the order it must apply:

    1. a request id, CORS headers and `X-Content-Type-Options: nosniff` on every response,
       and the headers the request's handlers asked for (`add_response_headers`);
    2. one structured log line per request;
    3. the IP allowlist (plain-text 403 `Forbidden`, as Splinterpic documents);
    4. CORS preflight (`OPTIONS`) answered without reaching the routes;
    5. the request body counted as the app reads it: past its route's limit (`body_limit`)
       the read fails with the 413 envelope, chunked or not;
    6. any unhandled exception becomes the JSON 500 envelope, never a stack trace.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or _request_ids.next()
        client_ip = scope["client"][0] if scope.get("client") else None
        status_seen = {"status": 500, "started": False}
        try:
            settings = request_settings(scope, scope.get("env"))
            allowlist = parse_allowlist(settings.allowed_ips)
            configuration_error = None
        except ValueError as exc:  # fail closed on a broken configuration
            settings, allowlist, configuration_error = Settings(), (), str(exc)

        extra_headers = [
            (b"x-request-id", request_id.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        extra_headers += _cors_headers(settings.cors_allow_origin)
        limited_receive = LimitedReceive(
            receive, body_limit(scope["method"], scope.get("path", ""), settings), scope
        )

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                limited_receive.responding = True
                status_seen["status"] = message["status"]
                status_seen["started"] = True
                names = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(n, v) for n, v in extra_headers if n not in names]
                # Headers a handler or dependency asked for on whatever answer the request
                # gets, errors included (dependencies.add_response_headers).
                asked = scope.get("state", {}).get(RESPONSE_HEADERS, {})
                headers += [
                    (n.lower().encode("latin-1"), v.encode("latin-1"))
                    for n, v in asked.items()
                    if n.lower().encode("latin-1") not in names
                ]
                message = {**message, "headers": headers}
            await send(message)

        try:
            if configuration_error is not None:
                raise RuntimeError(f"invalid configuration: {configuration_error}")
            if not is_allowed(client_ip, allowlist):
                await _send_simple(
                    send_with_headers, 403, b"Forbidden", b"text/plain; charset=utf-8"
                )
            elif scope["method"] == "OPTIONS":
                await _send_simple(send_with_headers, 204, b"", b"text/plain; charset=utf-8")
            else:
                await self.app(scope, limited_receive, send_with_headers)
        except Exception as exc:  # the last line of defence: log it, answer JSON
            log.error(
                json.dumps(
                    {
                        "event": "unhandled_error",
                        "request_id": request_id,
                        "error": repr(exc),
                        "traceback": traceback.format_exc(),
                    }
                )
            )
            if status_seen["started"]:
                raise
            envelope = error_body(500, "Internal server error")
            if is_problem_path(scope):
                problem = problem_fields(envelope, 500, scope.get("path", ""), None)
                envelope.update({k: v for k, v in problem.items() if k not in envelope})
            body = json.dumps(envelope).encode()
            await _send_simple(send_with_headers, 500, body, b"application/json")
        finally:
            if log.isEnabledFor(logging.INFO):  # LOG_LEVEL=warning: not even built
                log.info(
                    json.dumps(
                        {
                            "event": "request",
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope.get("path", ""),
                            "status": status_seen["status"],
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "client_ip": client_ip,
                        }
                    )
                )


# -- request body limits ----------------------------------------------------------------------

# Multipart framing and the small text fields around an uploaded file.
UPLOAD_FRAMING = 1024 * 1024


@dataclass(frozen=True)
class BodyLimit:
    """How many bytes a request's body may have, and the 413 past them."""

    max_bytes: int
    exceeded: Callable[[], BodyTooLarge]  # the 413 to raise


def is_upload(method: str, path: str) -> bool:
    """The routes whose body is an image file: CattoPic's multipart upload and PixelFlare's
    signed PUT of the raw bytes. Every other route's body is JSON (or nothing)."""
    return (method == "POST" and path == "/api/upload/single") or (
        method == "PUT" and path.startswith("/v1/uploads/")
    )


def body_limit(method: str, path: str, settings: Settings) -> BodyLimit:
    """The one place that decides how large a request body may be: uploads up to
    `MAX_UPLOAD_BYTES` (plus the multipart framing; the file itself is held to the setting
    by the upload pipeline), JSON bodies up to `MAX_JSON_BYTES`."""
    if is_upload(method, path):
        return BodyLimit(
            settings.max_upload_bytes + UPLOAD_FRAMING, lambda: upload_too_large(settings)
        )
    limit = settings.max_json_bytes
    return BodyLimit(
        limit,
        lambda: BodyTooLarge(
            f"Request body exceeds maximum size of {limit} bytes",
            code="PAYLOAD_TOO_LARGE",
            max_bytes=limit,
        ),
    )


class LimitedReceive:
    """The app's `receive`, counting the request body as it arrives. A read that takes the
    body past its limit raises the limit's 413 (an `ApiError`, answered as the envelope), so
    no reader ever holds more than the limit plus one chunk, however the body is sent. A
    declared `Content-Length` over the limit fails the first read the same way, before a
    byte is taken: the same answer at the same point of the handler as the streamed count.
    Once the response has started nothing is counted (a streaming response's disconnect
    watcher reads and drops what is left)."""

    def __init__(self, receive, limit: BodyLimit, scope):
        self.receive = receive
        self.limit = limit
        self.scope = scope
        self.received = 0
        self.responding = False
        self.started = False
        # A JSON body is also refused once it nests too deeply for a parser (json_depth).
        self.depth: JsonDepth | None = None

    async def __call__(self):
        if self.responding:
            return await self.receive()
        if not self.started:  # on the first read: most requests never read a body
            self.started = True
            declared = _declared_length(self.scope)
            if declared is not None and declared > self.limit.max_bytes:
                raise self.limit.exceeded()
            if is_json_content_type(_header(self.scope, b"content-type")):
                self.depth = JsonDepth()
        message = await self.receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self.limit.max_bytes:
                raise self.limit.exceeded()
            if self.depth is not None and self.depth.feed(chunk):
                raise JsonTooDeep(self.depth.limit)
        return message


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _declared_length(scope) -> int | None:
    value = _header(scope, b"content-length")
    if value is None or not is_ascii_digits(value):
        return None
    # More digits than any body could have: past every limit (and int() refuses strings of
    # more than 4,300 digits).
    return int(value) if len(value) <= 18 else 10**18


class RequestIds:
    """Ids for requests that come without one (no `cf-ray`: the local server): a random
    prefix per process and a counter, 32 hex digits like a UUID's. Unique across the
    processes of `--workers N` and across restarts, and a fraction of the cost of a uuid4
    (a urandom call and a UUID object) on every request. The prefix is drawn on the first
    request, never at import, and again in a forked child."""

    def __init__(self) -> None:
        self._prefix = ""
        self._counter = itertools.count()
        if hasattr(os, "register_at_fork"):  # not on Windows, nor in Pyodide (no fork)
            os.register_at_fork(after_in_child=self._forget_prefix)

    def _forget_prefix(self) -> None:
        self._prefix = ""

    def next(self) -> str:
        if not self._prefix:
            self._prefix = os.urandom(8).hex()
        return f"{self._prefix}{next(self._counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


_request_ids = RequestIds()


def _incoming_request_id(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cf-ray":
            return value.decode("latin-1")[:64]
    return None


def cloudflare_client_address(app):
    """On Cloudflare the ASGI scope has no socket address; `CF-Connecting-IP`, set by
    Cloudflare's edge, is the client. Only `src/entry.py` applies this wrapper, so the local
    server (whose clients could send any header) never trusts it."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"cf-connecting-ip":
                    scope = {**scope, "client": (value.decode("latin-1").strip(), 0)}
                    break
            else:
                scope = {**scope, "client": None}
        await app(scope, receive, send)

    return wrapped
