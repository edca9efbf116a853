"""The browser contract answered by Cloudflare's Browser Rendering REST API, for deployments
without the companion Worker (browser/): screenshots and PDFs only.

    browser = rest_browser(settings)      # None unless both settings below are set
    answer = await browser.fetch("https://browser/screenshot", method="POST", body=json_text)

Settings: `BROWSER_RENDERING_ACCOUNT_ID` and the `BROWSER_RENDERING_API_TOKEN` secret (an API
token with the "Browser Rendering - Edit" permission). Each call is one
`POST https://api.cloudflare.com/client/v4/accounts/{id}/browser-rendering/screenshot` (or
`/pdf`) with the contract's fields in the API's names (`viewport`, `gotoOptions`,
`waitForSelector`, `screenshotOptions`, `selector`, `pdfOptions`), `?cacheTTL=0` so every
render is fresh. Cloudflare's answer (the bytes, or its `{"success": false, "errors": [...]}`
envelope) comes back in the contract's shapes and codes.

What the REST API cannot do is refused with 503 BROWSER_NOT_AVAILABLE, naming the companion
Worker: `frames` (the API takes one screenshot of a live page; its CSS animations cannot be
paused and stepped, so the frames would be neither the requested instants nor repeatable),
`libraries` (the API injects scripts only after the page's own, and fabric.js is never
loaded from a CDN) and `waitForFunction` (the API has no such wait).

Outbound safety: a `url` must pass `net.addresses` (422 NAVIGATION_FAILED otherwise). The
page's own sub-requests cannot be intercepted through the REST API; they leave from
Cloudflare's browser inside Cloudflare's network, which does not route to the deployer's
private network or metadata services (README.md, "Browser rendering on Cloudflare").

`httpx` is imported when a call is made; tests pass `transport` (an `httpx.MockTransport`
standing in for Cloudflare's API).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from pixhaven.net.browser_request import MAX_OUTPUT_BYTES, Call, ContractError, parse_call

if TYPE_CHECKING:
    from pixhaven.bindings.browser import Browser

API_BASE = "https://api.cloudflare.com/client/v4"
# Cloudflare's side of a call may take its own time on top of the render's.
API_OVERHEAD_SECONDS = 15.0
COMPANION = (
    "deploy the companion Worker in browser/ and bind it as BROWSER "
    '(README.md, "Browser rendering on Cloudflare")'
)
_WAIT_UNTIL = {
    "load": "load",
    "domcontentloaded": "domcontentloaded",
    "networkidle": "networkidle0",
}


class RestSettings(Protocol):
    @property
    def browser_rendering_account_id(self) -> str: ...
    @property
    def browser_rendering_api_token(self) -> str: ...


def rest_browser(settings: RestSettings, *, transport: Any = None) -> Browser | None:
    """The REST API as the browser, or None when the account id or token is not set."""
    account = settings.browser_rendering_account_id.strip()
    token = settings.browser_rendering_api_token.strip()
    if not account or not token:
        return None
    return RestBrowser(account, token, transport=transport)


class RestAnswer:
    """The contract's answer, shaped like the JS `Response` a service binding returns."""

    def __init__(self, status: int, content_type: str, body: bytes, extra: dict | None = None):
        import httpx

        self.status = status
        self.headers = httpx.Headers({"content-type": content_type, **(extra or {})})
        self._body = body

    @classmethod
    def error(cls, error: ContractError) -> RestAnswer:
        return cls(error.status, "application/json", error.body().encode())

    async def arrayBuffer(self) -> bytes:
        return self._body

    async def text(self) -> str:
        return self._body.decode()


class RestBrowser:
    def __init__(self, account_id: str, api_token: str, *, transport: Any = None):
        self.endpoint = f"{API_BASE}/accounts/{account_id}/browser-rendering"
        self.api_token = api_token
        self.transport = transport

    async def fetch(self, url: str, /, *, method: str, body: str) -> RestAnswer:
        from urllib.parse import urlsplit

        path = urlsplit(url).path  # the contract's origin is "https://browser"
        try:
            if method.upper() != "POST":
                raise ContractError(404, "NOT_FOUND", "the browser answers POST calls only")
            call = parse_call(path, body)
            refusal = unsupported(call)
            if refusal:
                raise ContractError(503, "BROWSER_NOT_AVAILABLE", refusal)
            return await self._render(call)
        except ContractError as error:
            return RestAnswer.error(error)

    async def _render(self, call: Call) -> RestAnswer:
        import httpx

        timeout = call.fields["timeout"] / 1000 + API_OVERHEAD_SECONDS
        client = httpx.AsyncClient(
            transport=self.transport,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(timeout),
        )
        try:
            async with (
                client,
                client.stream(
                    "POST",
                    f"{self.endpoint}/{call.name}",
                    params={"cacheTTL": "0"},
                    json=request_body(call),
                    headers={"Authorization": f"Bearer {self.api_token}"},
                ) as response,
            ):
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MAX_OUTPUT_BYTES:
                        raise ContractError(
                            413, "OUTPUT_TOO_LARGE", f"the output is over {MAX_OUTPUT_BYTES} bytes"
                        )
                content_type = response.headers.get("content-type", "")
                if response.status_code != 200 or content_type.startswith("application/json"):
                    raise cloudflare_error(call, response.status_code, bytes(content))
                if call.name == "pdf":
                    return RestAnswer(200, "application/pdf", bytes(content))
                return RestAnswer(200, f"image/{call.fields['type']}", bytes(content))
        except httpx.TimeoutException:
            raise ContractError(
                504, "RENDER_TIMEOUT", f"Cloudflare's API did not answer within {timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise ContractError(
                503,
                "BROWSER_NOT_AVAILABLE",
                f"Cloudflare's Browser Rendering API could not be reached ({type(exc).__name__})",
            ) from None


def unsupported(call: Call) -> str | None:
    """Why the REST API cannot answer this call, or None."""
    if call.name == "frames":
        return (
            "GIF capture needs the companion Worker: the Browser Rendering REST API cannot "
            "pause and step a page's animations, so its frames would not be the requested "
            f"instants; {COMPANION}"
        )
    if call.fields["libraries"]:
        return (
            "libraries (fabric.js) need the companion Worker: the REST API adds scripts only "
            f"after the page's own, and fabric.js is never loaded from a CDN; {COMPANION}"
        )
    if call.fields["waitForFunction"]:
        return f"waitForFunction needs the companion Worker (the REST API has none); {COMPANION}"
    return None


def _px(value: float) -> str:
    return f"{value:g}px"


def request_body(call: Call) -> dict[str, Any]:
    """The REST API's JSON body for a contract call (screenshot or pdf)."""
    fields = call.fields
    body: dict[str, Any] = {
        "html" if fields["html"] is not None else "url": fields["html"] or fields["url"],
        "viewport": {
            "width": fields["width"],
            "height": fields["height"],
            "deviceScaleFactor": fields["deviceScaleFactor"],
        },
        "gotoOptions": {
            "waitUntil": _WAIT_UNTIL[fields["waitUntil"]],
            "timeout": fields["timeout"],
        },
    }
    if fields["waitForSelector"]:
        body["waitForSelector"] = {
            "selector": fields["waitForSelector"],
            "timeout": fields["timeout"],
        }
    if call.name == "screenshot":
        options: dict[str, Any] = {
            "type": fields["type"],
            "omitBackground": fields["omitBackground"],
            "fullPage": fields["fullPage"],
        }
        if fields["quality"] is not None:
            options["quality"] = fields["quality"]
        body["screenshotOptions"] = options
        if fields["selector"]:
            body["selector"] = fields["selector"]
    else:
        pdf: dict[str, Any] = {
            "landscape": fields["landscape"],
            "printBackground": fields["printBackground"],
        }
        if fields["format"]:
            pdf["format"] = fields["format"].lower()  # the API's enum: "a4", "letter", ...
        else:
            pdf["width"] = _px(fields["paperWidth"])
            pdf["height"] = _px(fields["paperHeight"])
        if fields["margin"]:
            pdf["margin"] = {side: _px(px) for side, px in fields["margin"].items()}
        body["pdfOptions"] = pdf
    return body


def cloudflare_error(call: Call, status: int, content: bytes) -> ContractError:
    """Cloudflare's failure (its error envelope, or anything else) as a contract error."""
    import json

    try:
        envelope = json.loads(content)
        errors = envelope.get("errors") or []
        message = "; ".join(str(error.get("message", error)) for error in errors)
    except (ValueError, AttributeError):
        message = content[:200].decode("utf-8", "replace")
    message = message or f"HTTP {status}"
    said = f"Cloudflare's Browser Rendering API answered {status}: {message}"
    lowered = message.lower()
    if status in (401, 403):
        return ContractError(
            503,
            "BROWSER_NOT_AVAILABLE",
            f"{said} (BROWSER_RENDERING_API_TOKEN needs the Browser Rendering - Edit permission "
            "on BROWSER_RENDERING_ACCOUNT_ID)",
        )
    if status == 429:
        return ContractError(503, "BROWSER_NOT_AVAILABLE", f"{said} (the plan's rate limit)")
    if "timeout" in lowered or "timed out" in lowered:
        return ContractError(504, "RENDER_TIMEOUT", said)
    if call.fields.get("selector") and "selector" in lowered:
        return ContractError(422, "SELECTOR_NOT_FOUND", said)
    if status >= 500:
        return ContractError(503, "BROWSER_NOT_AVAILABLE", said)
    return ContractError(422, "NAVIGATION_FAILED", said)
