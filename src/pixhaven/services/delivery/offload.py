"""Handing a public object to the web server in front: `X-Accel-Redirect` (nginx) or
`X-Sendfile` (Apache, lighttpd; Caddy through `handle_response`), when SERVE_OBJECTS_VIA
is set (README, "Behind nginx or Caddy").

`object_response` (objects.py) calls this only after every check of the request has
passed: the path's shape, the image's visibility and expiry, signed URLs, the IP allowlist
and rate limits (middleware). The answer carries Pixhaven's headers (ETag, Content-Type,
Cache-Control, Last-Modified, CORS) and no body; the web server sends the file's bytes, and
answers Range requests from the file itself. nginx keeps Content-Type, Cache-Control and
Last-Modified (the plain copy's mtime is the upload time) of such an answer; the others are
re-added by README's `location` snippet (`add_header ETag $upstream_http_etag`, ...).

The file comes from the bucket's `plain_file(key)`, which only a bucket kept in a folder
has (the local R2 binding). Cloudflare's R2 has no files and a Worker no web server in
front, so there the setting is a configuration error, answered as one on every object
request instead of quietly streaming the bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi.responses import Response

from pixhaven.errors import ApiError

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings


def misconfigured() -> ApiError:
    return ApiError(
        500,
        "SERVE_OBJECTS_VIA is set, but this bucket has no files for a web server to send "
        "(only a local bucket folder has): unset it",
        code="MISCONFIGURED",
    )


async def offloaded_response(
    env: Env,
    key: str,
    if_none_match: list[str],
    settings: Settings,
    headers_of: Callable[..., dict[str, str]],
    *,
    on_missing: Callable[[], Awaitable[bool]] | None,
    extra_headers: dict[str, str] | None,
    not_found: Callable[[], ApiError],
) -> Response:
    plain_file = getattr(env.BUCKET, "plain_file", None)
    if plain_file is None:
        raise misconfigured()
    found = await plain_file(key)
    if found is None and on_missing is not None and await on_missing():
        found = await plain_file(key)
    if found is None:
        raise not_found()
    meta, path = found
    headers = headers_of(meta, extra=extra_headers)
    if if_none_match and ("*" in if_none_match or meta.etag in if_none_match):
        return Response(status_code=304, headers=headers)
    del headers["Accept-Ranges"]  # the web server says it, as it answers the ranges
    if settings.serve_objects_via == "nginx":
        headers["X-Accel-Redirect"] = settings.accel_redirect_prefix + path.name
    else:
        headers["X-Sendfile"] = str(path.resolve())
    return Response(status_code=200, headers=headers)
