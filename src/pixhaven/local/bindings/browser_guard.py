"""Every request a rendered page makes goes through here (`context.route("**/*")`): the same
outbound rules as `remote_fetch` (pixhaven.net), applied by us, not by Chromium.

The page's document, images, fonts, CSS, scripts, XHR/fetch and iframes are fetched by
this process with httpx after `pixhaven.net.fetch.check_destination` (scheme, host name,
address literals, and every address the name resolves to), and handed to Chromium with
`route.fulfill`. Redirects are followed here, one hop at a time, each hop checked again:
Chromium never follows a redirect itself, because it never sees one. That matters twice
over: Playwright routes no redirect hop of a request it let through (`route.continue_`),
and a 3xx handed over with `route.fulfill` is followed by Chromium without routing the next
request either (checked: it went straight to DNS). So no answer is fulfilled with a
`Location`. A navigation that was redirected keeps its first URL as the page's address.
A refused request is aborted, so it fails inside the page and never reaches its
destination. Other schemes (`file:`, `ftp:`,
`chrome:` …) are aborted; `data:` and `blob:` never leave the browser and are not routed.

`allow_loopback` (the test-only BROWSER_TEST_ALLOW_LOOPBACK) lets loopback address
literals (127.0.0.0/8, ::1) through for the test suite's own servers; nothing else changes.

Residual risk, accepted: as in `remote_fetch`, DNS rebinding between our check and httpx's
own resolution. Request bodies and headers (cookies included: Chromium scopes them to
their site, and the context lives for one render) are passed on.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from pixhaven.net.errors import BlockedDestination, RemoteFetchError, TooLarge
from pixhaven.net.fetch import REDIRECTS, check_destination

if TYPE_CHECKING:
    import httpx
    from playwright.async_api import Request, Route

MAX_RESPONSE_BYTES = 25_000_000  # one sub-resource
MAX_PAGE_BYTES = 100_000_000  # everything one render fetches
MAX_REDIRECTS = 5
# Hop-by-hop, or describing the encoded body httpx has already decoded.
# (`location`: see above.)
DROP_RESPONSE_HEADERS = {
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "connection",
    "location",
}
DROP_REQUEST_HEADERS = {"host", "content-length", "connection", "accept-encoding"}


class PageGuard:
    """The route handler for one render's context; counts what the page fetched."""

    def __init__(self, client: httpx.AsyncClient, *, allow_loopback: bool, document=None):
        self.client = client
        self.allow_loopback = allow_loopback
        self.document = document  # (url, html): served once for the main frame
        self.fetched_bytes = 0
        self.blocked: list[str] = []

    async def check(self, url: str) -> None:
        if self.allow_loopback and _is_loopback_literal(url):
            return
        await check_destination(url)

    async def handle(self, route: Route, request: Request) -> None:
        url = request.url
        if self.document is not None and url == self.document[0]:
            html = self.document[1]
            self.document = None  # the inline document is served once, to the navigation
            await route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html.encode()
            )
            return
        if not url.lower().startswith(("http://", "https://")):
            self.blocked.append(url)
            await route.abort("blockedbyclient")
            return
        try:
            status, headers, body = await self.forward(request)
        except RemoteFetchError:
            self.blocked.append(url)
            await route.abort("blockedbyclient")
            return
        await route.fulfill(status=status, headers=headers, body=body)

    async def forward(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """Fetch what the page asked for, checking every hop; (status, headers, body)."""
        import httpx

        method, url = request.method, request.url
        content = request.post_data_buffer
        headers = {
            name: value
            for name, value in (await request.all_headers()).items()
            if name.lower() not in DROP_REQUEST_HEADERS and not name.startswith(":")
        }
        for _ in range(MAX_REDIRECTS + 1):
            await self.check(url)
            try:
                async with self.client.stream(
                    method, url, content=content, headers=headers
                ) as response:
                    if response.status_code in REDIRECTS and response.headers.get("location"):
                        url = str(response.url.join(response.headers["location"]))
                        if (
                            response.status_code == 303
                            or method == "POST"
                            and (response.status_code in (301, 302))
                        ):
                            method, content = "GET", None
                        continue
                    body = await self._read(response, url)
                    kept = {
                        name: value
                        for name, value in response.headers.items()
                        if name.lower() not in DROP_RESPONSE_HEADERS
                    }
                    return response.status_code, kept, body
            except httpx.HTTPError as exc:
                raise RemoteFetchError(f"the fetch failed: {type(exc).__name__}", url) from None
        raise BlockedDestination(f"more than {MAX_REDIRECTS} redirects", url)

    async def _read(self, response: httpx.Response, url: str) -> bytes:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            self.fetched_bytes += len(chunk)
            if len(body) > MAX_RESPONSE_BYTES or self.fetched_bytes > MAX_PAGE_BYTES:
                raise TooLarge("the page fetched too much", url)
        return bytes(body)


def _is_loopback_literal(url: str) -> bool:
    import httpx

    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").strip("[]")
        return parsed.scheme in ("http", "https") and ipaddress.ip_address(host).is_loopback
    except (ValueError, UnicodeDecodeError, httpx.InvalidURL):
        return False
