"""Pictify `POST /image` with `html` or `url`: a browser screenshot (services/rendering/
browser.py), stored as an image through the upload pipeline like every render.

Fields as Pictify documents them (openapi v1 `ImageRequest`, api-reference/generation/
images.mdx): `html` | `url` (exactly one), `width`, `height` (1..4000, default 1200 x 630),
`fileExtension` or `format` (png | jpg | jpeg | webp), `quality` (1..100, default 85),
`deviceScaleFactor` (1..3), `transparent`, `selector`, `fullPage`, `waitForSelector`,
`waitForTimeout` (ms after load, at most 30000). `userAgent`, `cookies` and `headers` are not
supported (400): a page rendered without them would silently be the wrong page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixhaven.errors import invalid
from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import browser
from pixhaven.services.rendering.store import store_image_render

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

TYPES = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
DEFAULT_WIDTH, DEFAULT_HEIGHT, MAX_SIDE = 1200, 630, 4000
MAX_WAIT_MS = 30_000
RENDER_TIMEOUT_MS = 30_000  # the browser's budget for loading and capturing, plus any wait
UNSUPPORTED = ("userAgent", "cookies", "headers")


def bad(field: str, explanation: str):
    return invalid(
        f"Invalid {field}: {explanation}", field=field, explanation=explanation, as_list=True
    )


def number(body: dict, field: str, low: float, high: float, default, whole: bool = True):
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise bad(field, f"a number from {low:g} to {high:g}")
    if whole:
        if value != int(value):
            raise bad(field, f"a whole number from {low:g} to {high:g}")
        return int(value)
    return value


def flag(body: dict, field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise bad(field, "true or false")
    return value


def string(body: dict, field: str) -> str | None:
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise bad(field, "a non-empty string")
    return value


def source(body: dict) -> tuple[str | None, str | None]:
    """The body's `html` or `url` (exactly one), checked; the url stripped."""
    html, url = body.get("html"), body.get("url")
    if (html is None) == (url is None):
        raise bad("html", "send exactly one of html and url")
    if html is not None and not isinstance(html, str):
        raise bad("html", "an HTML document or fragment as a string")
    if url is not None and (
        not isinstance(url, str) or not url.strip().lower().startswith(("http://", "https://"))
    ):
        raise bad("url", "an http or https URL")
    return html, url.strip() if url is not None else None


def screenshot_request(body: dict) -> tuple[dict[str, Any], str]:
    """The contract's screenshot fields for a Pictify body, and the stored extension."""
    html, url = source(body)
    for field in UNSUPPORTED:
        if body.get(field) is not None:
            raise bad(field, "not supported by this deployment")
    name = "fileExtension" if body.get("fileExtension") is not None else "format"
    chosen = body.get(name) or "png"
    if not isinstance(chosen, str) or chosen.strip().lower() not in TYPES:
        raise bad(name, "png, jpg, jpeg or webp")
    kind = TYPES[chosen.strip().lower()]
    wait_ms = number(body, "waitForTimeout", 0, MAX_WAIT_MS, 0)
    fields = {
        "html": html,
        "url": url,
        "width": number(body, "width", 1, MAX_SIDE, DEFAULT_WIDTH),
        "height": number(body, "height", 1, MAX_SIDE, DEFAULT_HEIGHT),
        "deviceScaleFactor": number(body, "deviceScaleFactor", 1, 3, None, whole=False),
        "type": kind,
        "quality": number(body, "quality", 1, 100, 85) if kind != "png" else None,
        "omitBackground": flag(body, "transparent") if kind != "jpeg" else None,
        "fullPage": flag(body, "fullPage"),
        "selector": string(body, "selector"),
        "waitForSelector": string(body, "waitForSelector"),
        "timeout": RENDER_TIMEOUT_MS + wait_ms,
    }
    if wait_ms:
        # "Wait this long after load", as a contract `waitForFunction`: the first poll
        # (after load) sets the moment, later polls wait for it.
        fields["waitForFunction"] = (
            f"(window.__pixhavenWaitUntil ??= performance.now() + {wait_ms}) <= performance.now()"
        )
    return fields, EXTENSIONS[kind]


async def render_and_store(
    env: Env, settings: Settings, owner: str, key_id: str | None, base: str, body: dict
) -> dict:
    """Screenshot the body's html or url and store it: Pictify's answer."""
    fields, extension = screenshot_request(body)
    _, data = await browser.screenshot(env, fields)
    source = "html" if fields["html"] is not None else "url"
    detail = {"api": "pictify", "source": source, "format": extension, "bytes": len(data)}
    answer = await store_image_render(
        env, settings, owner, key_id, data, name=f"{source}.{extension}", base=base, detail=detail
    )
    answer["format"] = extension
    await webhooks.emit(env, owner, "render.completed", answer)
    return answer
