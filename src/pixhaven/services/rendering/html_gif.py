"""Pictify `POST /gif` with `html` or `url`, and `POST /gif/capture`: the page's animations
stepped frame by frame by the browser binding (the contract's `frames` call: animations
paused and seeked, so the same input gives the same GIF), encoded as an animated GIF
(render/gif.py) and stored as an image like every render.

Fields as Pictify's OpenAPI (`GifRequest`, `GifCaptureRequest`): `width`, `height` (1..2000,
default 800 x 600), `quality` (low | medium | high, default medium: the presets below),
`frameDurationSeconds` (1..the preset's longest, the span recorded; without it `/gif`
records one iteration of the page's longest animation, at most MAX_ANIMATION_MS, 1 s for a
page without animations), `waitForSelector`.

Memory is bounded as for component GIFs (gif_pdf.py): at most MAX_GIF_PIXELS pixels over
all frames. When a long span at the preset's frame rate would exceed it, the browser spreads
fewer frames over the same span (a lower frame rate), so the GIF still loops the whole
animation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import browser
from pixhaven.services.rendering.gif_pdf import MAX_GIF_FRAME_PIXELS, MAX_GIF_PIXELS
from pixhaven.services.rendering.html import bad, number, source, string
from pixhaven.services.rendering.store import store_image_render

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

# quality -> (frames per second, colours per frame, longest recording in seconds); the
# rates and durations are Pictify's documented presets, the colours ours (fewer colours,
# smaller files; 256 keeps gradients and antialiased text close to the page).
QUALITY = {"low": (10, 64, 10), "medium": (15, 128, 15), "high": (24, 256, 30)}
DEFAULT_QUALITY = "medium"
DEFAULT_WIDTH, DEFAULT_HEIGHT, MAX_SIDE = 800, 600, 2000
MAX_ANIMATION_MS = 10_000  # one iteration of a page's animation, when no span is sent
MAX_BROWSER_FRAMES = 300  # the contract's limit
FRAMES_TIMEOUT_MS = 60_000  # the contract's longest call: loading plus every screenshot


def gif_request(body: dict, *, capture: bool) -> tuple[dict[str, Any], int]:
    """The contract's frames fields for a Pictify GIF body, and the colours per frame."""
    if capture:
        if body.get("html") is not None:
            raise bad("html", "/gif/capture records a url; send html to POST /gif")
        _, url = source({"url": body.get("url")})
        html = None
    else:
        html, url = source(body)
        for field in ("template", "templateUid"):
            if body.get(field) is not None:
                raise bad(field, "send html or url, or frames of component documents")
    quality = body.get("quality") if body.get("quality") is not None else DEFAULT_QUALITY
    if quality not in QUALITY:
        raise bad("quality", "low, medium or high")
    fps, colors, longest_s = QUALITY[quality]
    width = number(body, "width", 1, MAX_SIDE, DEFAULT_WIDTH)
    height = number(body, "height", 1, MAX_SIDE, DEFAULT_HEIGHT)
    if width * height > MAX_GIF_FRAME_PIXELS:
        raise bad("width", f"width x height must be at most {MAX_GIF_FRAME_PIXELS} pixels")
    seconds = number(body, "frameDurationSeconds", 1, longest_s, None, whole=False)
    fields = {
        "html": html,
        "url": url,
        "width": width,
        "height": height,
        "fps": fps,
        "duration": int(round(seconds * 1000)) if seconds is not None else None,
        "maxDuration": MAX_ANIMATION_MS,
        "maxFrames": max(1, min(MAX_BROWSER_FRAMES, MAX_GIF_PIXELS // (width * height))),
        "waitForSelector": string(body, "waitForSelector"),
        "timeout": FRAMES_TIMEOUT_MS,
    }
    return fields, colors


async def render(env: Env, fields: dict[str, Any], colors: int) -> tuple[bytes, dict]:
    """The GIF, and what it is: frameCount, duration (ms), fps."""
    from pixhaven.render.gif import encode_screenshots

    frames, duration_ms = await browser.frames(env, fields)
    count = len(frames)
    try:
        content = encode_screenshots(
            frames, (fields["width"], fields["height"]), duration_ms / count, 0, colors
        )
    except ValueError as exc:
        raise browser.failed(f"the browser's frames are not usable: {exc}") from None
    shape = {"frameCount": count, "duration": duration_ms, "fps": round(count * 1000 / duration_ms)}
    return content, shape


def answer(stored: dict, shape: dict) -> dict:
    """The stored image's fields and Pictify's `{gif: {url, uid, width, height,
    animationLength}}` (animationLength in seconds, as the OpenAPI describes it)."""
    gif = {
        "url": stored["url"],
        "uid": stored["id"],
        "width": stored["width"],
        "height": stored["height"],
        "animationLength": shape["duration"] / 1000,
    }
    return {**stored, **shape, "gif": gif}


async def render_file(env: Env, body: dict, *, capture: bool) -> tuple[bytes, dict]:
    """The GIF itself (`Accept: image/gif`), and the usage detail; nothing is stored."""
    fields, colors = gif_request(body, capture=capture)
    content, shape = await render(env, fields, colors)
    return content, {"output": "gif", "frames": shape["frameCount"], "bytes": len(content)}


async def render_and_store(
    env: Env,
    settings: Settings,
    owner: str,
    key_id: str | None,
    base: str,
    body: dict,
    *,
    capture: bool,
) -> dict:
    fields, colors = gif_request(body, capture=capture)
    content, shape = await render(env, fields, colors)
    detail = {
        "api": "pictify",
        "output": "gif",
        "source": "html" if fields["html"] is not None else "url",
        "frames": shape["frameCount"],
        "bytes": len(content),
    }
    stored = await store_image_render(
        env, settings, owner, key_id, content, name="render.gif", base=base, detail=detail
    )
    result = answer(stored, shape)
    await webhooks.emit(env, owner, "render.completed", result)
    return result
