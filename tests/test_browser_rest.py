"""The browser contract over Cloudflare's Browser Rendering REST API (net/browser_rest.py).

An `httpx.MockTransport` stands in for api.cloudflare.com: each test asserts the exact
request Pixhaven sends (URL, token, JSON fields in the API's names) and how Cloudflare's
answers, bytes or its error envelope, come back as the contract's answers.
"""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from pixhaven.bindings.browser import CONTRACT_ORIGIN
from pixhaven.interop import as_bytes
from pixhaven.net.browser_rest import rest_browser
from pixhaven.settings import Settings

ENDPOINT = "https://api.cloudflare.com/client/v4/accounts/acc-1234/browser-rendering"
SETTINGS = Settings(browser_rendering_account_id="acc-1234", browser_rendering_api_token="tok-5678")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (51, 102, 204)).save(buffer, "PNG")
    return buffer.getvalue()


class Cloudflare:
    """Cloudflare's API as the test scripts it: records requests, answers `reply(request)`."""

    def __init__(self, reply):
        self.reply = reply
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request)

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(request.content) for request in self.requests]


def envelope(status: int, message: str, code: int = 2001) -> httpx.Response:
    return httpx.Response(
        status,
        json={"success": False, "errors": [{"code": code, "message": message}], "messages": []},
    )


async def call(cloudflare: Cloudflare, name: str, method: str = "POST", **fields):
    browser = rest_browser(SETTINGS, transport=httpx.MockTransport(cloudflare))
    assert browser is not None
    answer = await browser.fetch(
        f"{CONTRACT_ORIGIN}/{name}", method=method, body=json.dumps(fields)
    )
    return answer.status, answer.headers, as_bytes(await answer.arrayBuffer())


async def error(cloudflare: Cloudflare, name: str, **fields) -> tuple[int, str, str]:
    status, headers, body = await call(cloudflare, name, **fields)
    assert headers.get("content-type") == "application/json"
    answer = json.loads(body)["error"]
    return status, answer["code"], answer["message"]


def test_configured_only_with_both_settings():
    assert rest_browser(Settings()) is None
    assert rest_browser(Settings(browser_rendering_account_id="acc")) is None
    assert rest_browser(Settings(browser_rendering_api_token="tok")) is None
    assert rest_browser(SETTINGS) is not None


def test_settings_are_read_from_the_environment():
    class Env:
        BROWSER_RENDERING_ACCOUNT_ID = " acc-1234 "
        BROWSER_RENDERING_API_TOKEN = "tok-5678\n"

    settings = Settings.from_env(Env())  # type: ignore[arg-type]
    assert settings.browser_rendering_account_id == "acc-1234"
    assert settings.browser_rendering_api_token == "tok-5678"


async def test_screenshot_of_html_is_one_api_call_and_its_bytes():
    image = png_bytes()
    cloudflare = Cloudflare(
        lambda request: httpx.Response(200, content=image, headers={"content-type": "image/png"})
    )
    status, headers, body = await call(
        cloudflare, "screenshot", html="<h1>Hi</h1>", width=400, height=200
    )
    assert (status, headers.get("content-type"), body) == (200, "image/png", image)
    [request] = cloudflare.requests
    assert request.method == "POST"
    assert str(request.url) == f"{ENDPOINT}/screenshot?cacheTTL=0"
    assert request.headers["authorization"] == "Bearer tok-5678"
    assert request.headers["content-type"] == "application/json"
    assert cloudflare.bodies == [
        {
            "html": "<h1>Hi</h1>",
            "viewport": {"width": 400, "height": 200, "deviceScaleFactor": 1},
            "gotoOptions": {"waitUntil": "load", "timeout": 15000},
            "screenshotOptions": {"type": "png", "omitBackground": False, "fullPage": False},
        }
    ]


async def test_screenshot_of_a_url_with_every_option():
    cloudflare = Cloudflare(
        lambda request: httpx.Response(
            200, content=b"\xff\xd8\xff", headers={"content-type": "image/jpeg"}
        )
    )
    status, headers, _ = await call(
        cloudflare,
        "screenshot",
        url="https://example.com/card",
        width=1200,
        height=630,
        deviceScaleFactor=2,
        waitUntil="networkidle",
        waitForSelector=".ready",
        timeout=30000,
        type="jpeg",
        quality=85,
        selector="#card",
    )
    assert (status, headers.get("content-type")) == (200, "image/jpeg")
    assert cloudflare.bodies == [
        {
            "url": "https://example.com/card",
            "viewport": {"width": 1200, "height": 630, "deviceScaleFactor": 2},
            "gotoOptions": {"waitUntil": "networkidle0", "timeout": 30000},
            "waitForSelector": {"selector": ".ready", "timeout": 30000},
            "screenshotOptions": {
                "type": "jpeg",
                "omitBackground": False,
                "fullPage": False,
                "quality": 85,
            },
            "selector": "#card",
        }
    ]


async def test_pdf_with_a_preset_and_with_a_paper_size():
    cloudflare = Cloudflare(
        lambda request: httpx.Response(
            200, content=b"%PDF-1.7 ...", headers={"content-type": "application/pdf"}
        )
    )
    status, headers, body = await call(
        cloudflare,
        "pdf",
        html="<p>Invoice</p>",
        format="Letter",
        landscape=True,
        margin={"top": "10mm", "left": 24},
    )
    assert (status, headers.get("content-type"), body) == (200, "application/pdf", b"%PDF-1.7 ...")
    assert str(cloudflare.requests[0].url) == f"{ENDPOINT}/pdf?cacheTTL=0"
    assert cloudflare.bodies[0]["pdfOptions"] == {
        "landscape": True,
        "printBackground": True,
        "format": "letter",
        "margin": {"top": "37.7953px", "right": "0px", "bottom": "0px", "left": "24px"},
    }
    await call(
        cloudflare,
        "pdf",
        html="<p>Receipt</p>",
        paperWidth="80mm",
        paperHeight=600,
        printBackground=False,
    )
    assert cloudflare.bodies[1]["pdfOptions"] == {
        "landscape": False,
        "printBackground": False,
        "width": "302.362px",
        "height": "600px",
    }


async def test_defaults_and_fields_that_do_not_apply():
    cloudflare = Cloudflare(
        lambda request: httpx.Response(
            200, content=png_bytes(), headers={"content-type": "image/png"}
        )
    )
    await call(cloudflare, "screenshot", html="<p>", quality=50, fullPage=True, selector="#a")
    await call(cloudflare, "screenshot", html="<p>", type="jpeg", omitBackground=True, width=800.0)
    first, second = cloudflare.bodies
    assert first["viewport"] == {"width": 1280, "height": 720, "deviceScaleFactor": 1}
    assert first["screenshotOptions"] == {"type": "png", "omitBackground": False, "fullPage": False}
    assert first["selector"] == "#a"
    assert second["viewport"]["width"] == 800
    assert second["screenshotOptions"] == {
        "type": "jpeg",
        "omitBackground": False,
        "fullPage": False,
    }


def never_called(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"Cloudflare should not have been asked: {request.url}")


@pytest.mark.parametrize(
    ("name", "fields", "needs"),
    [
        ("frames", {"html": "<div>", "fps": 10, "frameCount": 10}, "GIF"),
        ("screenshot", {"html": "<canvas>", "libraries": ["fabric"]}, "fabric"),
        ("screenshot", {"html": "<p>", "waitForFunction": "window.ready"}, "waitForFunction"),
    ],
)
async def test_what_the_rest_api_cannot_do_needs_the_companion(name, fields, needs):
    cloudflare = Cloudflare(never_called)
    status, code, message = await error(cloudflare, name, **fields)
    assert (status, code) == (503, "BROWSER_NOT_AVAILABLE")
    assert needs in message and "companion Worker" in message and "browser/" in message
    assert cloudflare.requests == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (400, "INVALID_REQUEST")),
        ({"html": "x", "url": "https://example.com/"}, (400, "INVALID_REQUEST")),
        ({"html": "x", "width": 5001}, (400, "INVALID_REQUEST")),
        ({"html": "x", "type": "gif"}, (400, "INVALID_REQUEST")),
        ({"html": "x", "type": "jpeg", "quality": 101}, (400, "INVALID_REQUEST")),
        ({"url": "file:///etc/passwd"}, (400, "INVALID_REQUEST")),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, (422, "NAVIGATION_FAILED")),
        ({"url": "http://2130706433/"}, (422, "NAVIGATION_FAILED")),
        ({"url": "http://[::ffff:10.0.0.1]/"}, (422, "NAVIGATION_FAILED")),
        ({"url": "http://printer.local/"}, (422, "NAVIGATION_FAILED")),
        (
            {"html": "x", "width": 5000, "height": 5000, "deviceScaleFactor": 4},
            (413, "OUTPUT_TOO_LARGE"),
        ),
    ],
)
async def test_invalid_calls_are_refused_before_cloudflare_is_asked(fields, expected):
    cloudflare = Cloudflare(never_called)
    assert (await error(cloudflare, "screenshot", **fields))[:2] == expected
    assert cloudflare.requests == []


async def test_unknown_calls_methods_and_bodies():
    cloudflare = Cloudflare(never_called)
    browser = rest_browser(SETTINGS, transport=httpx.MockTransport(cloudflare))
    assert browser is not None
    for method, path, body, expected in [
        ("POST", "/evaluate", "{}", 404),
        ("GET", "/screenshot", "{}", 404),
        ("POST", "/screenshot", "{oops", 400),
        ("POST", "/screenshot", "[]", 400),
    ]:
        answer = await browser.fetch(f"{CONTRACT_ORIGIN}{path}", method=method, body=body)
        assert answer.status == expected, path
        assert "error" in json.loads(await answer.text())
    assert cloudflare.requests == []


@pytest.mark.parametrize(
    ("reply", "fields", "expected"),
    [
        (envelope(401, "Authentication error", 10000), {}, (503, "BROWSER_NOT_AVAILABLE")),
        (
            envelope(403, "Unauthorized to access requested resource", 9109),
            {},
            (503, "BROWSER_NOT_AVAILABLE"),
        ),
        (envelope(429, "Rate limit exceeded"), {}, (503, "BROWSER_NOT_AVAILABLE")),
        (envelope(500, "Internal error"), {}, (503, "BROWSER_NOT_AVAILABLE")),
        (
            envelope(422, "net::ERR_NAME_NOT_RESOLVED at https://nowhere.example/"),
            {},
            (422, "NAVIGATION_FAILED"),
        ),
        (envelope(400, "Navigation timeout of 15000 ms exceeded"), {}, (504, "RENDER_TIMEOUT")),
        (
            envelope(422, "No element found for selector: #missing"),
            {"selector": "#missing"},
            (422, "SELECTOR_NOT_FOUND"),
        ),
        (httpx.Response(502, text="<html>Bad gateway</html>"), {}, (503, "BROWSER_NOT_AVAILABLE")),
        # A 200 that is Cloudflare's envelope, not an image, is no success either.
        (envelope(200, "Unable to render the page"), {}, (422, "NAVIGATION_FAILED")),
    ],
)
async def test_cloudflare_errors_become_contract_errors(reply, fields, expected):
    cloudflare = Cloudflare(lambda request: reply)
    status, code, message = await error(
        cloudflare, "screenshot", url="https://example.com/", **fields
    )
    assert (status, code) == expected
    assert "Cloudflare's Browser Rendering API answered" in message
    if reply.status_code in (401, 403):
        assert "Browser Rendering - Edit" in message


async def test_network_failures_and_timeouts():
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    assert (await error(Cloudflare(unreachable), "pdf", html="x"))[:2] == (
        503,
        "BROWSER_NOT_AVAILABLE",
    )
    assert (await error(Cloudflare(slow), "pdf", html="x"))[:2] == (504, "RENDER_TIMEOUT")


async def test_an_oversized_answer_is_413():
    huge = b"\x89PNG" + bytes(50 * 1024 * 1024)
    cloudflare = Cloudflare(
        lambda request: httpx.Response(200, content=huge, headers={"content-type": "image/png"})
    )
    assert (await error(cloudflare, "screenshot", html="x"))[:2] == (413, "OUTPUT_TOO_LARGE")


def test_configuration_picks_the_binding_then_the_rest_api_then_none():
    from pixhaven.net.browser_rest import RestBrowser
    from pixhaven.services.rendering.browser import browser_of

    class Bound:
        BROWSER = object()  # the companion Worker's service binding
        BROWSER_RENDERING_ACCOUNT_ID = "acc"
        BROWSER_RENDERING_API_TOKEN = "tok"

    class RestOnly:
        BROWSER_RENDERING_ACCOUNT_ID = "acc"
        BROWSER_RENDERING_API_TOKEN = "tok"

    class Neither:
        pass

    assert browser_of(Bound()) is Bound.BROWSER  # type: ignore[arg-type]
    assert isinstance(browser_of(RestOnly()), RestBrowser)  # type: ignore[arg-type]
    assert browser_of(Neither()) is None  # type: ignore[arg-type]
