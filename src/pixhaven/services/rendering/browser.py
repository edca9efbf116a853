"""The app's one client of the browser binding (`env.BROWSER`, pixhaven.bindings.browser):
builds the contract's JSON, calls it, and turns its answers into bytes or `ApiError`s.

Pure Python (it runs in the Worker): the binding is a service binding there and
`LocalBrowser` locally; both answer like a JS `Response`. An env without `BROWSER` answers
503 BROWSER_NOT_AVAILABLE, as a browser that cannot start does; the contract's errors keep
their status and code (400 INVALID_REQUEST, 413 OUTPUT_TOO_LARGE, 422 NAVIGATION_FAILED and
SELECTOR_NOT_FOUND, 504 RENDER_TIMEOUT); anything else is a 502. The bytes are only
rendered here, never trusted: callers store them through the upload pipeline's checks.
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any

from pixhaven.errors import ApiError
from pixhaven.interop import as_bytes
from pixhaven.net.browser_rest import rest_browser
from pixhaven.settings import Settings

if TYPE_CHECKING:
    from pixhaven.bindings.browser import Browser
    from pixhaven.bindings.env import Env

# The contract's values (pixhaven.bindings.browser, which the Worker never loads: binding
# modules are for type checking; tests/contract/test_browser.py holds these equal to it).
CONTRACT_ORIGIN = "https://browser"
FRAMES_MEDIA_TYPE = "application/vnd.pixhaven.frames"

INSTALL_HINT = (
    "This deployment has no browser to render HTML with. Locally, install Chromium "
    "(`apt-get install chromium`, or `playwright install chromium`) or set "
    "BROWSER_EXECUTABLE; on Cloudflare, deploy the companion browser Worker (README, "
    '"HTML rendering").'
)
PASSED_ON = {400, 413, 422, 503, 504}


def unavailable(message: str = INSTALL_HINT) -> ApiError:
    return ApiError(503, message, code="BROWSER_NOT_AVAILABLE", details={"hint": INSTALL_HINT})


def browser_of(env: Env) -> Browser | None:
    """Which browser renders, by configuration: the `BROWSER` binding where the deployment
    has one (the companion Worker on Cloudflare, `LocalBrowser` locally), else Cloudflare's
    Browser Rendering REST API when BROWSER_RENDERING_ACCOUNT_ID and its token are set
    (screenshots and PDFs only), else none."""
    bound = getattr(env, "BROWSER", None)
    if bound is not None:
        return bound
    return rest_browser(Settings.from_env(env))


async def call(env: Env, name: str, fields: dict[str, Any]) -> tuple[str, bytes]:
    """POST one call ("screenshot", "pdf", "frames"): (content type, body) of a 200."""
    _, content_type, data = await _call(env, name, fields)
    return content_type, data


async def _call(env: Env, name: str, fields: dict[str, Any]) -> tuple[Any, str, bytes]:
    browser = browser_of(env)
    if browser is None:
        raise unavailable()
    request = {key: value for key, value in fields.items() if value is not None}
    response = await browser.fetch(
        f"{CONTRACT_ORIGIN}/{name}", method="POST", body=json.dumps(request)
    )
    data = as_bytes(await response.arrayBuffer())
    if response.status == 200:
        content_type = (response.headers.get("content-type") or "").split(";")[0].strip()
        return response.headers, content_type, data
    code, message = _error_of(data)
    if response.status == 503:
        raise unavailable(message or INSTALL_HINT)
    if response.status in PASSED_ON:
        raise ApiError(response.status, message or "the browser refused the render", code=code)
    raise failed(f"the browser failed (HTTP {response.status}): {message}")


def failed(message: str) -> ApiError:
    return ApiError(502, message, code="BROWSER_FAILED")


def _error_of(data: bytes) -> tuple[str | None, str]:
    try:
        error = json.loads(data)["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return None, data[:200].decode("utf-8", "replace")


async def screenshot(env: Env, fields: dict[str, Any]) -> tuple[str, bytes]:
    return await call(env, "screenshot", fields)


async def pdf(env: Env, fields: dict[str, Any]) -> bytes:
    return (await call(env, "pdf", fields))[1]


async def frames(env: Env, fields: dict[str, Any]) -> tuple[list[bytes], int]:
    """The frames, each a PNG, from the contract's length-prefixed framing, and the span
    they cover in ms (`X-Animation-Duration-Ms`)."""
    headers, content_type, body = await _call(env, "frames", fields)
    if content_type != FRAMES_MEDIA_TYPE:
        raise failed(f"the browser answered {content_type}, not frames")
    try:
        duration_ms = int(headers.get("x-animation-duration-ms") or "")
    except ValueError:
        raise failed("the browser's frames carry no X-Animation-Duration-Ms") from None
    found, offset = [], 0
    while offset < len(body):
        if offset + 4 > len(body):
            raise failed("the browser's frames are cut short")
        (length,) = struct.unpack(">I", body[offset : offset + 4])
        if offset + 4 + length > len(body):
            raise failed("the browser's frames are cut short")
        found.append(body[offset + 4 : offset + 4 + length])
        offset += 4 + length
    if not found:
        raise failed("the browser answered no frames")
    return found, duration_ms
