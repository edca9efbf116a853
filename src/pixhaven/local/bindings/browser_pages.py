"""What the local browser does with one page, per call of the contract
(pixhaven.bindings.browser): load the source, wait as asked, then screenshot, print or step
through the animations frame by frame. Each function returns (content type, body)."""

from __future__ import annotations

import io
import json
import struct
import time
from typing import TYPE_CHECKING, Any, cast

from pixhaven.bindings.browser import FRAMES_MEDIA_TYPE
from pixhaven.local.bindings.browser_request import ContractError, RenderRequest

if TYPE_CHECKING:
    from playwright.async_api import Page

# The inline `html` is served from this URL by the page guard (browser_guard.py), so it is
# a real navigation: init scripts (`libraries`) run before the page's own scripts, and the
# page's relative URLs point at a name that does not exist rather than at anything local.
DOCUMENT_URL = "http://pixhaven-render.invalid/"
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

# Pause every document animation (CSS animations and transitions, Web Animations) and seek
# it to `t` ms, then let two animation frames pass: transform and opacity animations run on
# the compositor, which must receive the new state before the screenshot is taken.
SEEK_ANIMATIONS = """(t) => {
  for (const animation of document.getAnimations()) {
    animation.pause();
    animation.currentTime = t;
  }
  return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
}"""
# A library runs as the document's first script: an init script runs before the document has
# an element, which fabric.js (and others) touch while loading, so it waits for the root
# element and evaluates the library in global scope (its top-level `var`s become globals).
LIBRARY_LOADER = """(() => {
  const run = () => (0, eval)(%s);
  if (document.documentElement) { run(); return; }
  const observer = new MutationObserver(() => {
    if (document.documentElement) { observer.disconnect(); run(); }
  });
  observer.observe(document, { childList: true });
})();"""
# WebRTC opens its own UDP and TCP connections (STUN, TURN), which no request interception
# sees: a page could reach private addresses with them. Every frame loses the API before
# its own scripts run (Chromium also gets --force-webrtc-ip-handling-policy).
NO_WEBRTC = """(() => {
  for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "RTCDataChannel",
                      "RTCIceTransport", "RTCRtpSender", "RTCRtpReceiver", "WebTransport"]) {
    try {
      Object.defineProperty(globalThis, name, { value: undefined, writable: false,
                                                configurable: false });
    } catch (e) {}
  }
})();"""
# One iteration of the longest document animation (its delay plus one iteration), in ms:
# what a GIF of the page loops over. Infinite or missing durations count as none.
LONGEST_ANIMATION = """() => {
  let longest = 0;
  for (const animation of document.getAnimations()) {
    const timing = animation.effect && animation.effect.getComputedTiming();
    if (!timing) continue;
    const once = (timing.delay || 0) + Number(timing.duration || 0);
    if (Number.isFinite(once)) longest = Math.max(longest, once);
  }
  return longest;
}"""
DEFAULT_DURATION_MS = 1000  # a page without animations: one second of (still) frames
PAGE_SIZE = "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"


class Deadline:
    """One deadline for the whole call; Playwright's own timeouts are the time left."""

    def __init__(self, timeout_ms: int):
        self.end = time.monotonic() + timeout_ms / 1000

    def ms(self) -> float:
        left = (self.end - time.monotonic()) * 1000
        if left <= 0:
            raise ContractError(504, "RENDER_TIMEOUT", "the render did not finish in `timeout`")
        return left


def too_large(pixels: float, limit: int, what: str) -> None:
    if limit and pixels > limit:
        raise ContractError(
            413,
            "OUTPUT_TOO_LARGE",
            f"{what} would be {int(pixels)} pixels, more than this browser's limit of {limit}",
        )


def library_script(code: str) -> str:
    return LIBRARY_LOADER % json.dumps(code)


async def load(page: Page, request: RenderRequest, deadline: Deadline) -> None:
    """Navigate to the source and wait for what the request says."""
    if request.call == "frames":
        # Best effort for script-driven motion: Date.now() stands still (timers still run).
        await page.clock.set_fixed_time(time.time())
    response = await page.goto(
        request.url or DOCUMENT_URL,
        wait_until=cast("Any", request.wait_until),
        timeout=deadline.ms(),
    )
    if response is not None and response.status >= 400:
        raise ContractError(422, "NAVIGATION_FAILED", f"the page answered HTTP {response.status}")
    if request.wait_for_selector:
        await page.wait_for_selector(
            request.wait_for_selector, state="attached", timeout=deadline.ms()
        )
    if request.wait_for_function:
        await page.wait_for_function(request.wait_for_function, timeout=deadline.ms())


async def screenshot(
    page: Page, request: RenderRequest, deadline: Deadline, max_pixels: int
) -> tuple[str, bytes]:
    shot_type = "jpeg" if request.type == "jpeg" else "png"  # webp: from the PNG, below
    options: dict[str, Any] = {
        "type": shot_type,
        "omit_background": request.omit_background and shot_type == "png",
        "animations": "allow",
        "caret": "hide",
    }
    if shot_type == "jpeg":
        options["quality"] = request.quality
    scale2 = request.scale**2
    if request.selector:
        element = await page.query_selector(request.selector)
        box = await element.bounding_box() if element is not None else None
        if element is None or box is None:
            raise ContractError(
                422, "SELECTOR_NOT_FOUND", f"no visible element matches {request.selector!r}"
            )
        too_large(box["width"] * box["height"] * scale2, max_pixels, "the element's screenshot")
        data = await element.screenshot(timeout=deadline.ms(), **options)
    else:
        width, height = request.width, request.height
        if request.full_page:
            width, height = await page.evaluate(PAGE_SIZE)
        too_large(width * height * scale2, max_pixels, "the screenshot")
        data = await page.screenshot(full_page=request.full_page, timeout=deadline.ms(), **options)
    if request.type == "webp":
        data = to_webp(data, request.quality, keep_alpha=request.omit_background)
    return IMAGE_TYPES[request.type], data


def to_webp(png: bytes, quality: int | None, keep_alpha: bool) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        converted = image.convert("RGBA" if keep_alpha else "RGB")
        out = io.BytesIO()
        converted.save(out, "WEBP", quality=quality or 80)
        return out.getvalue()


async def pdf(page: Page, request: RenderRequest, deadline: Deadline) -> tuple[str, bytes]:
    deadline.ms()
    data = await page.pdf(
        **request.paper,
        landscape=request.landscape,
        margin=cast("Any", request.margin or None),
        print_background=request.print_background,
    )
    return "application/pdf", data


async def frames(
    page: Page, request: RenderRequest, deadline: Deadline, max_pixels: int
) -> tuple[str, bytes]:
    """The frames; sets `request.frame_count` and `request.duration_ms` (the answer's
    X-Frame-Count and X-Animation-Duration-Ms) when the request left them to the page."""
    measured = await page.evaluate(LONGEST_ANIMATION)
    measured = int(round(measured)) if measured and measured > 0 else DEFAULT_DURATION_MS
    measured = min(measured, request.max_duration_ms)
    if request.frame_count is None:
        request.duration_ms = request.duration_ms or measured
        wanted = max(1, round(request.fps * request.duration_ms / 1000))
        request.frame_count = min(wanted, request.max_frames)
        step = request.duration_ms / request.frame_count
    else:
        request.duration_ms = measured
        step = 1000 / request.fps
    frame_pixels = request.width * request.height * request.scale**2
    too_large(frame_pixels * request.frame_count, max_pixels, "all frames together")
    body = bytearray()
    # Pause everything once first: the first seek would otherwise also be the moment the
    # compositor stops running the animations, and frame 0 could differ by a pixel.
    await page.evaluate(SEEK_ANIMATIONS, 0)
    for index in range(request.frame_count):
        await page.evaluate(SEEK_ANIMATIONS, index * step)
        shot = await page.screenshot(
            type="png", animations="allow", caret="hide", timeout=deadline.ms()
        )
        body += struct.pack(">I", len(shot)) + shot
    return FRAMES_MEDIA_TYPE, bytes(body)
