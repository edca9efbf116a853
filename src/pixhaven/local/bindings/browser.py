"""`env.BROWSER` locally: Playwright driving a system Chromium, answering the browser
contract (pixhaven.bindings.browser) as the companion Worker does on Cloudflare.

- One browser per `LocalBrowser` (the local env has one per process), launched on the first
  call and closed by `close()` (the env's close, so at server shutdown).
- Playwright runs on one dedicated thread with its own event loop; calls from any loop
  (uvicorn's, each test's) are handed to it. One browser then serves every loop, and a page
  that hogs Chromium never blocks the caller's loop.
- Each call gets a fresh context (cookies, storage, cache: nothing survives a call) whose
  every request passes the outbound rules (browser_guard.py); service workers and
  WebSockets are blocked. The whole call has one deadline (`timeout`): past it the context
  is closed, and if even that hangs the browser is restarted for the next call.
- The executable: `BROWSER_EXECUTABLE` (a path or a name on PATH), else `chromium`,
  `chromium-browser`, `google-chrome` on PATH, else Playwright's own download
  (`playwright install chromium`). None of them: 503 BROWSER_NOT_AVAILABLE saying so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pixhaven.bindings.browser import CONTRACT_ORIGIN
from pixhaven.local.bindings import browser_pages as pages
from pixhaven.local.bindings.browser_guard import PageGuard
from pixhaven.local.bindings.browser_request import CALLS, ContractError, RenderRequest, parse

log = logging.getLogger("pixhaven.local.browser")

SEARCHED = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without the background-networking switches Chromium keeps trying to reach Google's
# services, which on a closed network makes it misbehave; the sandbox needs privileges
# containers rarely have. Animations run on the main thread, not the compositor's: frames
# (paused and seeked animations) then come out the same pixel for pixel on every run.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--dns-prefetch-disable",
    "--disable-threaded-animation",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
]
INSTALL_HINT = (
    "install Chromium (`apt-get install chromium`, or `playwright install chromium`) or set "
    "BROWSER_EXECUTABLE to a Chromium or Chrome executable"
)
MAX_CONCURRENT = 4
CLOSE_GRACE_SECONDS = 5.0


def find_executable(setting: str | None = None) -> str | None:
    """The Chromium to launch: the setting (a path or a name on PATH), else the first of
    SEARCHED on PATH; None means "try Playwright's own download"."""
    if setting:
        return setting if Path(setting).is_file() else shutil.which(setting)
    return next((found for name in SEARCHED if (found := shutil.which(name))), None)


class BrowserHeaders:
    def __init__(self, values: dict[str, str]):
        self._values = {name.lower(): value for name, value in values.items()}

    def get(self, name: str, /) -> str | None:
        return self._values.get(name.lower())


class LocalBrowserResponse:
    """The answer, shaped like the JS `Response` a service binding gives."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self._status, self._headers, self._body = status, BrowserHeaders(headers), body

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> BrowserHeaders:
        return self._headers

    async def arrayBuffer(self) -> bytes:
        return self._body

    async def text(self) -> str:
        return self._body.decode("utf-8", "replace")


def error_response(error: ContractError) -> LocalBrowserResponse:
    body = {"error": {"code": error.code, "message": error.message}}
    return LocalBrowserResponse(
        error.status, {"content-type": "application/json"}, json.dumps(body).encode()
    )


class LocalBrowser:
    def __init__(
        self,
        executable: str | None = None,
        *,
        allow_loopback: bool = False,
        max_pixels: int = 48_000_000,
        script_path: Callable[[str], Path] | None = None,
    ):
        """`executable`: the BROWSER_EXECUTABLE setting; `allow_loopback`: only from the
        test-only BROWSER_TEST_ALLOW_LOOPBACK; `max_pixels`: the decode budget's limit, for
        any one output; `script_path(name)`: the installed file of a `libraries` entry."""
        self.setting = executable
        self.allow_loopback = allow_loopback
        self.max_pixels = max_pixels
        self.script_path = script_path
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock = threading.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._launch_lock: asyncio.Lock | None = None
        self._slots: asyncio.Semaphore | None = None
        self._scripts: dict[str, str] = {}

    # -- the contract -------------------------------------------------------------------
    async def fetch(self, url: str, /, *, method: str, body: str) -> LocalBrowserResponse:
        try:
            name = url[len(CONTRACT_ORIGIN) + 1 :] if url.startswith(CONTRACT_ORIGIN + "/") else ""
            if method.upper() != "POST" or name not in CALLS:
                raise ContractError(
                    404, "NOT_FOUND", "the browser answers POST /screenshot, /pdf and /frames"
                )
            request = parse(url[len(CONTRACT_ORIGIN) + 1 :], body)
            scripts = [await asyncio.to_thread(self._script, name) for name in request.libraries]
            content_type, data = await self._on_browser_thread(self._render(request, scripts))
        except ContractError as error:
            return error_response(error)
        headers = {"content-type": content_type, "content-length": str(len(data))}
        if request.call == "frames":
            headers["x-frame-count"] = str(request.frame_count)
            headers["x-animation-duration-ms"] = str(request.duration_ms)
        return LocalBrowserResponse(200, headers, data)

    def _script(self, name: str) -> str:
        """The library's code, read from its installed copy once per LocalBrowser."""
        if name not in self._scripts:
            if self.script_path is None:
                raise ContractError(400, "INVALID_REQUEST", f"no installed copy of {name}")
            try:
                self._scripts[name] = self.script_path(name).read_text(encoding="utf-8")
            except ValueError as exc:  # not installed, and it cannot be fetched here
                raise ContractError(503, "BROWSER_NOT_AVAILABLE", str(exc)) from None
        return self._scripts[name]

    # -- the browser thread -------------------------------------------------------------
    async def _on_browser_thread(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        with self._start_lock:
            if self._thread is None:
                ready = threading.Event()
                self._thread = threading.Thread(
                    target=self._run_loop, args=(ready,), name="pixhaven-browser", daemon=True
                )
                self._thread.start()
                ready.wait()
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wrap_future(future)

    def _run_loop(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._launch_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _ensure_browser(self) -> Any:
        assert self._launch_lock is not None
        async with self._launch_lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            await self._shutdown()
            try:
                from playwright.async_api import async_playwright
            except ImportError:
                raise ContractError(
                    503,
                    "BROWSER_NOT_AVAILABLE",
                    "Playwright is not installed (pip install playwright); then " + INSTALL_HINT,
                ) from None
            executable = find_executable(self.setting)
            if self.setting and executable is None:
                raise ContractError(
                    503,
                    "BROWSER_NOT_AVAILABLE",
                    f"BROWSER_EXECUTABLE={self.setting} was not found: " + INSTALL_HINT,
                )
            self._playwright = await async_playwright().start()
            try:
                self._browser = await self._playwright.chromium.launch(
                    executable_path=executable, args=ARGS, headless=True
                )
            except Exception as exc:
                log.warning("could not start a browser: %s", str(exc).splitlines()[0])
                await self._shutdown()
                raise ContractError(
                    503, "BROWSER_NOT_AVAILABLE", "No browser could be started: " + INSTALL_HINT
                ) from None
            return self._browser

    async def _shutdown(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        for closing in (browser and browser.close(), playwright and playwright.stop()):
            if closing:
                try:
                    await asyncio.wait_for(closing, CLOSE_GRACE_SECONDS)
                except Exception:
                    log.warning("the browser did not close cleanly", exc_info=True)

    async def _render(self, request: RenderRequest, scripts: list[str]) -> tuple[str, bytes]:
        assert self._slots is not None
        deadline = pages.Deadline(request.timeout_ms)
        try:
            async with asyncio.timeout(deadline.ms() / 1000):
                async with self._slots:
                    browser = await self._ensure_browser()
                    return await self._in_context(browser, request, scripts, deadline)
        except TimeoutError:
            raise ContractError(
                504, "RENDER_TIMEOUT", f"the render took longer than {request.timeout_ms} ms"
            ) from None

    async def _in_context(self, browser, request, scripts, deadline) -> tuple[str, bytes]:
        import httpx
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        context = await browser.new_context(
            viewport={"width": request.width, "height": request.height},
            device_scale_factor=request.scale,
            service_workers="block",
            accept_downloads=False,
        )
        client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=10.0)
        document = (pages.DOCUMENT_URL, request.html) if request.html is not None else None
        guard = PageGuard(client, allow_loopback=self.allow_loopback, document=document)
        try:
            await context.route("**/*", guard.handle)
            await context.route_web_socket("**/*", lambda socket: socket.close())
            await context.add_init_script(script=pages.NO_WEBRTC)
            for code in scripts:
                await context.add_init_script(script=pages.library_script(code))
            page = await context.new_page()
            if request.url is not None:
                await self._check_url(guard, request.url)
            await pages.load(page, request, deadline)
            if request.call == "pdf":
                return await pages.pdf(page, request, deadline)
            if request.call == "frames":
                return await pages.frames(page, request, deadline, self.max_pixels)
            return await pages.screenshot(page, request, deadline, self.max_pixels)
        except PlaywrightTimeout:
            raise ContractError(
                504, "RENDER_TIMEOUT", "the page did not get there in `timeout`"
            ) from None
        except PlaywrightError as exc:
            raise ContractError(422, "NAVIGATION_FAILED", _first_line(exc)) from None
        finally:
            await client.aclose()
            await self._close_context(context)

    async def _check_url(self, guard: PageGuard, url: str) -> None:
        from pixhaven.net.errors import RemoteFetchError

        try:
            await guard.check(url)
        except RemoteFetchError as exc:
            raise ContractError(422, "NAVIGATION_FAILED", exc.message) from None

    async def _close_context(self, context) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(context.close()), CLOSE_GRACE_SECONDS)
        except Exception:
            # A page that will not let go (a script in an endless loop): start afresh.
            log.warning("a render context did not close; restarting the browser")
            await self._shutdown()

    async def close(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop, thread = self._loop, self._thread
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._shutdown(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        self._loop = self._thread = None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
