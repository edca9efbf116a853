"""The browser binding (`env.BROWSER`): a headless browser that renders HTML and URLs
(docs/BINDINGS.md, "Browser").

Types only: import under `if TYPE_CHECKING:`.

On Cloudflare `env.BROWSER` is a service binding to the companion Worker in `browser/`, which
holds Cloudflare's Browser Rendering binding and drives it with `@cloudflare/puppeteer`.
Locally it is `pixhaven.local.bindings.browser.LocalBrowser` (Playwright driving a system
Chromium). Both speak one wire contract, the one a service binding carries: a `fetch` of a
JSON request, answered with the rendered bytes. An env without `BROWSER` still serves (read it
with `getattr(env, "BROWSER", None)`); the HTML routes then answer 503.

The wire contract (the contract suite in tests/contract/ holds both implementations to it):

    POST https://browser/screenshot   body: JSON, see below   -> 200 image/png|jpeg|webp
    POST https://browser/pdf                                  -> 200 application/pdf
    POST https://browser/frames                               -> 200 application/vnd.pixhaven.frames

Every call carries exactly one source: `html` (a whole document or a fragment) or `url`
(http(s) only). Common fields: `width`, `height` (CSS pixels, 1..5000, the viewport),
`deviceScaleFactor` (1..4, default 1), `waitUntil` ("load" | "domcontentloaded" |
"networkidle", default "load"), `waitForSelector`, `waitForFunction` (a JS expression that
must become truthy), `timeout` (ms for the whole call, default 15000, at most 60000),
`libraries` (names of scripts the implementation injects from its own installed copy before
the page's scripts run; only "fabric" = fabric.js 5.3.x, exposed as `window.fabric`).

- screenshot: `type` ("png" | "jpeg" | "webp", default "png"), `quality` (1..100, jpeg/webp),
  `omitBackground` (transparent background, png/webp), `fullPage`, `selector` (crop to the
  first matching element; 422 SELECTOR_NOT_FOUND when none matches).
- pdf: `format` ("A4", "A3", "A5", "Letter", "Legal", "Tabloid"; default "A4") or both
  `paperWidth` and `paperHeight` (CSS lengths such as "210mm" or numbers in px),
  `landscape`, `margin` ({top, right, bottom, left}, CSS lengths or px numbers),
  `printBackground` (default true). Several pages are one HTML document whose sections
  break with CSS (`break-after: page`); the caller joins them.
- frames: `fps` (1..50, default 10), `frameCount` (1..300), `type` "png". Frame i shows
  the page with every document animation (CSS animations and transitions, Web Animations)
  paused and set to `currentTime = i * 1000 / fps` ms, so the same input gives the same
  frames. The page's animation duration D is measured after load: the longest
  `delay + one iteration` over `document.getAnimations()` (finite ones), 1000 ms when there
  are none, at most `maxDuration` ms (1..30000, default 10000). With `frameCount` omitted
  the frames span `duration` ms (1..30000) if sent, else D: there are
  `min(maxFrames, max(1, round(fps * span / 1000)))` of them (`maxFrames` 1..300, default
  300) and frame i is at `i * span / count` ms. The body is the frames back to back, each a
  4-byte big-endian length followed by that many bytes; the `X-Frame-Count` header says how
  many, `X-Animation-Duration-Ms` the span (with `frameCount` sent: D).

Errors are non-2xx answers with `{"error": {"code": "...", "message": "..."}}`:
404 NOT_FOUND (anything but a POST to one of the three calls),
400 INVALID_REQUEST (a field out of range, both or neither of html/url, unknown library),
422 NAVIGATION_FAILED (the page could not be loaded, or its URL is not allowed),
422 SELECTOR_NOT_FOUND, 413 OUTPUT_TOO_LARGE, 504 RENDER_TIMEOUT, 503 BROWSER_NOT_AVAILABLE
(no browser could be started; the message says how to get one).

Safety is the implementation's job, whichever it is: the navigation and every sub-request
the page makes (images, fonts, CSS, scripts, XHR/fetch, redirects, iframes) pass the outbound
rules of `pixhaven.net.addresses` (no private, loopback, link-local, CGNAT or metadata
destinations; http, https and `data:` only), blocked requests fail inside the page without
reaching their destination, and scripts run only within `timeout`. The local implementation
may be told to allow loopback destinations for the test suite's own servers; that is a
constructor argument set from a test-only setting, never a field of the request.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from pixhaven.bindings.js import JsBytes

CONTRACT_ORIGIN = "https://browser"
FRAMES_MEDIA_TYPE = "application/vnd.pixhaven.frames"


class BrowserHeaders(Protocol):
    def get(self, name: str, /) -> str | None: ...


class BrowserResponse(Protocol):
    """The answer, shaped like a JS `Response` (what a service binding's fetch returns)."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> BrowserHeaders: ...
    def arrayBuffer(self) -> Awaitable[bytes | memoryview | JsBytes]:
        """The body; read it with `pixhaven.interop.as_bytes`."""

    def text(self) -> Awaitable[str]: ...


class Browser(Protocol):
    def fetch(self, url: str, /, *, method: str, body: str) -> Awaitable[BrowserResponse]:
        """`url` is `CONTRACT_ORIGIN` + "/screenshot", "/pdf" or "/frames"; `method` is
        "POST"; `body` the JSON request as text."""
