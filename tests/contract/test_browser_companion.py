"""The browser contract (src/pixhaven/bindings/browser.py), held against the companion
Worker's page logic (browser/src/page.js) driving the system Chromium through the Node
harness (browser/test/harness.mjs): screenshots, PDFs and frames checked by their pixels
and pages, the contract's errors, and the outbound rules for everything a page loads.

`browser` is any object with the contract's `fetch(url, method=, body=)`; the suite
asserts only what the contract says, so another implementation can be given the same
tests by parametrising that fixture.

The harness is started with `--allow-loopback-port` for this module's page server only;
the "secret" listener's port is not allowed, so a request it records is a hole.
"""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from pixhaven.bindings.browser import CONTRACT_ORIGIN, FRAMES_MEDIA_TYPE
from pixhaven.interop import as_bytes
from tests.contract.companion_harness import Harness, node_script
from tests.imagegen import pixels

BLUE = (51, 102, 204)
RED = (255, 0, 0)
# Generous: these pages are tiny, but other tests share the machine's two cores.
TIMEOUT_MS = 45000


# -- servers the pages load from ------------------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """Records every request, and every connection that sends anything at all (a TURN
    client speaks no HTTP); answers pages, a PNG, redirects and 404s."""

    def handle(self):
        # A connection that says nothing is a browser's speculative preconnect: Chromium
        # opens one for an iframe navigation before that navigation is intercepted and
        # refused. It carries no request, so it is not counted.
        self.request.settimeout(3)
        try:
            first = self.request.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if first:
            self.server.talkers.append(first)  # type: ignore[attr-defined]
            super().handle()

    def do_GET(self):
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.end_headers()
        elif self.path == "/page.html":
            self.answer(
                "text/html",
                b'<body style="margin:0;background:rgb(51,102,204)">'
                b'<img id="dot" src="/dot.png" style="width:50px;height:50px"></body>',
            )
        elif self.path == "/dot.png":
            buffer = io.BytesIO()
            Image.new("RGB", (10, 10), RED).save(buffer, "PNG")
            self.answer("image/png", buffer.getvalue())
        else:
            self.send_response(404)
            self.end_headers()

    def answer(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(server_class, address) -> ThreadingHTTPServer:
    server = server_class(address, Recorder)
    server.requests = []  # type: ignore[attr-defined]
    server.talkers = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Secret:
    """The address an attacker wants the browser to reach: one port on 127.0.0.1 and,
    where the machine has IPv6, the same port on ::1. Nothing may ever arrive here."""

    def __init__(self):
        self.servers = [serve(ThreadingHTTPServer, ("127.0.0.1", 0))]
        self.port = self.servers[0].server_address[1]
        try:
            self.servers.append(serve(IPv6Server, ("::1", self.port)))
        except OSError:
            pass  # no IPv6 loopback here: [::1] cannot reach anything anyway

    @property
    def requests(self) -> list[str]:
        return [path for server in self.servers for path in server.requests]  # type: ignore[attr-defined]

    @property
    def talkers(self) -> list[bytes]:
        """The first byte of every connection that sent anything, HTTP or not."""
        return [first for server in self.servers for first in server.talkers]  # type: ignore[attr-defined]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def pages() -> Iterator[ThreadingHTTPServer]:
    server = serve(ThreadingHTTPServer, ("127.0.0.1", 0))
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def secret() -> Iterator[Secret]:
    listener = Secret()
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def browser(pages):
    """The companion's page logic behind the contract, allowed to load `pages` only."""
    harness = Harness.start_or_skip(allow_loopback_ports=[pages.server_address[1]])
    yield harness.browser
    harness.stop()


# -- helpers -------------------------------------------------------------------------------


async def call(browser, name: str, **fields) -> tuple[int, object, bytes]:
    fields.setdefault("timeout", TIMEOUT_MS)
    answer = await browser.fetch(
        f"{CONTRACT_ORIGIN}/{name}", method="POST", body=json.dumps(fields)
    )
    return answer.status, answer.headers, as_bytes(await answer.arrayBuffer())


async def image(browser, **fields) -> Image.Image:
    status, _, body = await call(browser, "screenshot", **fields)
    assert status == 200, body[:300]
    return Image.open(io.BytesIO(body))


async def error(browser, name: str, **fields) -> tuple[int, str]:
    status, headers, body = await call(browser, name, **fields)
    assert headers.get("content-type").startswith("application/json"), body[:200]
    return status, json.loads(body)["error"]["code"]


def near(pixel, colour, tolerance=6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def frames_of(body: bytes) -> list[bytes]:
    frames, offset = [], 0
    while offset < len(body):
        size = int.from_bytes(body[offset : offset + 4], "big")
        frames.append(body[offset + 4 : offset + 4 + size])
        offset += 4 + size
    assert offset == len(body)
    return frames


CARD = (
    '<body style="margin:0;background:rgb(51,102,204)">'
    '<h1 style="margin:0;color:#fff;font:bold 60px sans-serif">Hello</h1>'
    '<div id="card" style="position:absolute;left:50px;top:100px;width:120px;height:80px;'
    'background:rgb(255,0,0)"></div></body>'
)


# -- screenshots ---------------------------------------------------------------------------


async def test_screenshot_has_the_viewport_size_background_and_text(browser):
    picture = (await image(browser, html=CARD, width=400, height=200)).convert("RGB")
    assert picture.size == (400, 200)
    assert near(picture.getpixel((390, 190)), BLUE)
    text = picture.crop((0, 0, 250, 70))
    white = sum(1 for pixel in pixels(text) if near(pixel, (255, 255, 255), 30))
    assert white > 300  # the heading's white glyphs
    assert near(picture.getpixel((110, 140)), RED)


async def test_device_scale_factor_two_doubles_the_size(browser):
    picture = await image(browser, html=CARD, width=400, height=200, deviceScaleFactor=2)
    assert picture.size == (800, 400)
    assert near(picture.convert("RGB").getpixel((220, 280)), RED)


async def test_selector_crops_to_the_element(browser):
    picture = (await image(browser, html=CARD, width=400, height=200, selector="#card")).convert(
        "RGB"
    )
    assert picture.size == (120, 80)
    assert all(near(pixel, RED) for pixel in pixels(picture))


async def test_selector_matching_nothing_is_422(browser):
    assert await error(browser, "screenshot", html=CARD, selector="#missing") == (
        422,
        "SELECTOR_NOT_FOUND",
    )


async def test_jpeg_and_webp(browser):
    status, headers, body = await call(
        browser, "screenshot", html=CARD, width=300, height=150, type="jpeg", quality=80
    )
    assert status == 200 and headers.get("content-type") == "image/jpeg"
    assert body[:3] == b"\xff\xd8\xff"
    jpeg = Image.open(io.BytesIO(body))
    assert jpeg.size == (300, 150) and near(jpeg.convert("RGB").getpixel((290, 140)), BLUE, 10)
    status, headers, body = await call(
        browser, "screenshot", html=CARD, width=300, height=150, type="webp"
    )
    assert status == 200 and headers.get("content-type") == "image/webp"
    assert body[:4] == b"RIFF" and body[8:12] == b"WEBP"
    assert Image.open(io.BytesIO(body)).size == (300, 150)


async def test_omit_background_leaves_the_page_transparent(browser):
    html = '<body style="margin:0"><div style="width:40px;height:40px;background:red"></div>'
    clear = (await image(browser, html=html, width=100, height=100, omitBackground=True)).convert(
        "RGBA"
    )
    assert clear.getpixel((90, 90))[3] == 0
    assert clear.getpixel((10, 10)) == (255, 0, 0, 255)
    plain = (await image(browser, html=html, width=100, height=100)).convert("RGBA")
    assert plain.getpixel((90, 90)) == (255, 255, 255, 255)


async def test_full_page_captures_beyond_the_viewport(browser):
    html = '<body style="margin:0"><div style="height:900px;background:rgb(51,102,204)"></div>'
    picture = await image(browser, html=html, width=200, height=300, fullPage=True)
    assert picture.size == (200, 900)
    assert near(picture.convert("RGB").getpixel((100, 850)), BLUE)


async def test_defaults_and_fields_that_do_not_apply(browser):
    assert (await image(browser, html=CARD)).size == (1280, 720)  # the default viewport
    # quality means nothing to png, fullPage nothing once a selector crops: both left out.
    cropped = await image(
        browser, html=CARD, width=400, height=200, quality=50, fullPage=True, selector="#card"
    )
    assert cropped.format == "PNG" and cropped.size == (120, 80)
    status, headers, _ = await call(browser, "frames", html=CARD, width=40, height=30)
    assert status == 200 and headers.get("x-frame-count") == "10"  # fps and frameCount: 10


async def test_a_focused_field_shows_no_caret(browser):
    html = (
        '<body style="margin:0;background:#fff"><input autofocus style="border:0;outline:0;'
        'width:100px;height:40px;font-size:30px;background:#fff"></body>'
    )
    picture = (await image(browser, html=html, width=100, height=40)).convert("L")
    assert min(pixels(picture)) > 240  # all white: the caret is hidden


async def test_fabric_is_injected_before_the_page_scripts(browser):
    html = (
        '<canvas id="c" width="200" height="100"></canvas><script>'
        'const canvas = new fabric.StaticCanvas("c", {backgroundColor: "rgb(51,102,204)"});'
        'canvas.add(new fabric.Rect({left: 20, top: 20, width: 60, height: 40, fill: "red"}));'
        "canvas.renderAll(); window.drawn = fabric.version;</script>"
    )
    picture = await image(
        browser,
        html=html,
        width=200,
        height=100,
        libraries=["fabric"],
        waitForFunction="window.drawn === '5.3.0'",
        selector="#c",
    )
    picture = picture.convert("RGB")
    assert picture.size == (200, 100)
    assert near(picture.getpixel((50, 40)), RED) and near(picture.getpixel((150, 80)), BLUE)
    # Without the library the page's script fails: fabric is not there by accident.
    assert await error(
        browser,
        "screenshot",
        html=html,
        waitForFunction="window.drawn === '5.3.0'",
        timeout=3000,
    ) == (504, "RENDER_TIMEOUT")


async def test_url_from_a_test_server(browser, pages):
    port = pages.server_address[1]
    picture = await image(browser, url=f"http://127.0.0.1:{port}/page.html", width=200, height=100)
    picture = picture.convert("RGB")
    assert near(picture.getpixel((25, 25)), RED)  # its image, from the same server
    assert near(picture.getpixel((150, 80)), BLUE)
    assert await error(browser, "screenshot", url=f"http://127.0.0.1:{port}/missing") == (
        422,
        "NAVIGATION_FAILED",
    )


# -- pdf -----------------------------------------------------------------------------------


async def test_pdf_of_two_pages_has_the_preset_size_and_text(browser):
    from pypdf import PdfReader

    html = '<section style="break-after:page">First page</section><section>Second page</section>'
    status, headers, body = await call(browser, "pdf", html=html, format="A4")
    assert status == 200 and headers.get("content-type") == "application/pdf"
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 2
    for page in reader.pages:  # A4 is 595 x 842 points
        assert abs(float(page.mediabox.width) - 595) < 2
        assert abs(float(page.mediabox.height) - 842) < 2
    assert "First page" in reader.pages[0].extract_text()
    assert "Second page" in reader.pages[1].extract_text()


async def test_pdf_paper_size_landscape_and_margins(browser):
    from pypdf import PdfReader

    status, _, body = await call(
        browser,
        "pdf",
        html="<p>Receipt</p>",
        paperWidth="100mm",
        paperHeight="50mm",
        margin={"top": "5mm", "left": 10},
    )
    assert status == 200
    page = PdfReader(io.BytesIO(body)).pages[0]
    assert abs(float(page.mediabox.width) - 283.5) < 2  # 100 mm in points
    assert abs(float(page.mediabox.height) - 141.7) < 2
    status, _, body = await call(
        browser, "pdf", html="<p>Wide</p>", format="Letter", landscape=True
    )
    page = PdfReader(io.BytesIO(body)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (792, 612)


# -- frames --------------------------------------------------------------------------------

PULSE = (
    "<style>body{margin:0}"
    "#pulse{width:100px;height:100px;animation:fade 1s linear infinite}"
    "@keyframes fade{from{background:rgb(0,0,0)}to{background:rgb(250,250,250)}}</style>"
    '<div id="pulse"></div>'
)


async def test_frames_step_the_animations_deterministically(browser):
    async def capture() -> list[bytes]:
        status, headers, body = await call(
            browser, "frames", html=PULSE, width=100, height=100, fps=4, frameCount=4
        )
        assert status == 200, body[:300]
        assert headers.get("content-type") == FRAMES_MEDIA_TYPE
        assert headers.get("x-frame-count") == "4"
        return frames_of(body)

    first = await capture()
    shades = []
    for frame in first:
        picture = Image.open(io.BytesIO(frame))
        assert picture.format == "PNG" and picture.size == (100, 100)
        shades.append(picture.convert("L").getpixel((50, 50)))
    # Frame i is the animation at i * 1000 / fps ms: 0, 250, 500, 750 ms of a 1 s fade.
    for shade, expected in zip(shades, [0, 62.5, 125, 187.5]):
        assert abs(shade - expected) <= 4, shades
    assert await capture() == first


async def test_frames_step_compositor_animations_too(browser):
    """transform runs on the compositor thread: a seek must reach it before each shot."""
    html = (
        "<style>body{margin:0;background:#fff}"
        "#box{width:10px;height:10px;background:rgb(255,0,0);"
        "animation:move 1s linear infinite;will-change:transform}"
        "@keyframes move{from{transform:translateX(0)}to{transform:translateX(80px)}}</style>"
        '<div id="box"></div>'
    )
    status, _, body = await call(
        browser, "frames", html=html, width=100, height=10, fps=4, frameCount=4
    )
    assert status == 200
    for index, frame in enumerate(frames_of(body)):
        row = Image.open(io.BytesIO(frame)).convert("RGB")
        red = [x for x in range(100) if near(row.getpixel((x, 5)), RED, 40)]
        assert red and abs(red[0] - 20 * index) <= 1, (index, red[:3])


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        ("screenshot", {}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "url": "https://example.com/"}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "width": 0}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "height": 5001}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "deviceScaleFactor": 5}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "timeout": 60001}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "libraries": ["jquery"]}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "type": "gif"}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "quality": 101, "type": "jpeg"}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "waitUntil": "never"}, (400, "INVALID_REQUEST")),
        ("screenshot", {"url": "file:///etc/passwd"}, (400, "INVALID_REQUEST")),
        ("screenshot", {"url": "ftp://example.com/"}, (400, "INVALID_REQUEST")),
        ("screenshot", {"url": "http://169.254.169.254/"}, (422, "NAVIGATION_FAILED")),
        ("screenshot", {"url": "http://metadata.google.internal/"}, (422, "NAVIGATION_FAILED")),
        ("screenshot", {"url": "http://[::ffff:10.0.0.1]/"}, (422, "NAVIGATION_FAILED")),
        ("pdf", {"html": "x", "format": "B5"}, (400, "INVALID_REQUEST")),
        ("pdf", {"html": "x", "paperWidth": "10cm"}, (400, "INVALID_REQUEST")),
        ("pdf", {"html": "x", "margin": {"top": "1 furlong"}}, (400, "INVALID_REQUEST")),
        ("frames", {"html": "x", "fps": 51, "frameCount": 2}, (400, "INVALID_REQUEST")),
        ("frames", {"html": "x", "fps": 10, "frameCount": 301}, (400, "INVALID_REQUEST")),
        ("frames", {"html": "x", "fps": 0}, (400, "INVALID_REQUEST")),
        ("screenshot", {"html": "x", "quality": 0, "type": "webp"}, (400, "INVALID_REQUEST")),
        (
            "screenshot",
            {"html": "x", "width": 5000, "height": 5000, "deviceScaleFactor": 4},
            (413, "OUTPUT_TOO_LARGE"),
        ),
    ],
)
async def test_invalid_calls_are_refused_with_the_contract_error(browser, name, fields, expected):
    assert await error(browser, name, **fields) == expected


async def test_bad_json_unknown_calls_and_other_methods(browser):
    answer = await browser.fetch(f"{CONTRACT_ORIGIN}/screenshot", method="POST", body="{oops")
    assert answer.status == 400
    assert json.loads(await answer.text())["error"]["code"] == "INVALID_REQUEST"
    for method, path in [("POST", "/evaluate"), ("GET", "/screenshot"), ("POST", "/")]:
        answer = await browser.fetch(f"{CONTRACT_ORIGIN}{path}", method=method, body="{}")
        assert answer.status == 404, path
        assert json.loads(await answer.text())["error"]["code"] == "NOT_FOUND"


async def test_scripts_are_time_boxed(browser):
    busy = "<script>while (true) {}</script>"
    assert await error(browser, "screenshot", html=busy, timeout=2000) == (504, "RENDER_TIMEOUT")
    assert await error(browser, "screenshot", html="x", waitForSelector="#never", timeout=1500) == (
        504,
        "RENDER_TIMEOUT",
    )
    # The browser is still fine afterwards.
    assert (await image(browser, html=CARD, width=50, height=50)).size == (50, 50)


# -- outbound rules ------------------------------------------------------------------------


async def test_nothing_the_page_loads_reaches_private_addresses(browser, pages, secret):
    s, p = secret.port, pages.server_address[1]
    html = f"""
        <body style="margin:0">
        <div style="position:fixed;z-index:1;right:0;bottom:0;width:20px;height:20px;
                    background:rgb(255,0,0)"></div>
        <img src="http://127.0.0.1:{s}/secret">
        <img src="http://169.254.169.254/latest/meta-data/">
        <img src="http://2130706433:{s}/decimal">
        <img src="http://0x7f.1:{s}/hex">
        <img src="http://localhost:{s}/name">
        <img src="http://[::ffff:127.0.0.1]:{s}/mapped">
        <img src="http://127.0.0.1:{p}/redirect?to=http://127.0.0.1:{s}/redirected">
        <iframe src="http://[::1]:{s}/frame"></iframe>
        <iframe src="data:text/html,<script>new WebSocket('ws://127.0.0.1:{s}/data-frame')</script>">
        </iframe>
        <iframe src="http://127.0.0.1:{p}/redirect?to=http://127.0.0.1:{s}/frame-redirect"></iframe>
        <a id="popup" target="_blank" href="http://127.0.0.1:{s}/popup-link">x</a>
        <form id="form" target="_blank" action="http://127.0.0.1:{s}/popup-form"></form>
        <link rel="preconnect" href="http://127.0.0.1:{s}">
        <link rel="dns-prefetch" href="http://127.0.0.1:{s}">
        <link rel="prefetch" href="http://127.0.0.1:{s}/prefetch">
        <link rel="stylesheet" href="http://127.0.0.1:{s}/style.css">
        <div style="background:url(http://127.0.0.1:{s}/background.png)">x</div>
        <script>
          fetch("http://127.0.0.1:{s}/fetch").catch(() => {{}});
          window.open("http://127.0.0.1:{s}/popup-open");
          document.getElementById("popup").dispatchEvent(new MouseEvent("click"));
          document.getElementById("form").submit();
          navigator.sendBeacon && navigator.sendBeacon("http://127.0.0.1:{s}/beacon");
          try {{ new WebSocket("ws://127.0.0.1:{s}/socket"); }} catch (e) {{}}
          try {{
            const inner = document.createElement("iframe");
            document.body.appendChild(inner);
            new inner.contentWindow.WebSocket("ws://127.0.0.1:{s}/blank-frame-socket");
          }} catch (e) {{}}
          try {{
            const code = 'new WebSocket("ws://127.0.0.1:{s}/worker-socket");'
              + 'fetch("http://127.0.0.1:{s}/worker-fetch")';
            new Worker(URL.createObjectURL(new Blob([code])));
          }} catch (e) {{}}
          try {{
            const peer = new RTCPeerConnection({{iceServers: [{{
              urls: "turn:127.0.0.1:{s}?transport=tcp", username: "u", credential: "p"}}]}});
            peer.createDataChannel("x");
            peer.createOffer().then((offer) => peer.setLocalDescription(offer));
          }} catch (e) {{}}
          const xhr = new XMLHttpRequest();
          xhr.open("GET", "http://127.0.0.1:{s}/xhr"); xhr.send();
        </script></body>"""
    picture = await image(browser, html=html, width=300, height=200, waitUntil="networkidle")
    assert near(picture.convert("RGB").getpixel((290, 190)), RED)  # the page itself rendered
    assert secret.requests == []
    assert secret.talkers == []  # nor any other protocol (TURN over TCP)
    assert f"/redirect?to=http://127.0.0.1:{s}/redirected" in pages.requests  # type: ignore[attr-defined]


async def test_the_page_cannot_navigate_itself_to_a_private_address(browser, secret):
    for html in [
        f'<meta http-equiv="refresh" content="0;url=http://127.0.0.1:{secret.port}/refresh">',
        f'<script>location.href = "http://127.0.0.1:{secret.port}/location";</script>',
    ]:
        status, _, _ = await call(browser, "screenshot", html=html, waitUntil="networkidle")
        assert status in (200, 422)  # the page, or its failed navigation; never the secret
    assert secret.requests == []


async def test_navigation_redirected_to_a_private_address_fails(browser, pages, secret):
    p = pages.server_address[1]
    url = f"http://127.0.0.1:{p}/redirect?to=http://127.0.0.1:{secret.port}/navigation"
    assert await error(browser, "screenshot", url=url) == (422, "NAVIGATION_FAILED")
    assert await error(browser, "screenshot", url=f"http://127.0.0.1:{secret.port}/") == (
        422,
        "NAVIGATION_FAILED",
    )
    assert secret.requests == []


URLS = [
    "http://example.com/",
    "https://images.example.org:8443/a.png?x=1",
    "http://8.8.8.8/",
    "http://[2606:4700:4700::1111]/",
    "http://[::ffff:8.8.8.8]/",
    "http://[64:ff9b::808:808]/",
    "http://127.0.0.1/",
    "http://127.1/",
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://172.32.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://100.127.255.255/",
    "http://100.128.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.1.1/",
    "http://100.100.100.200/",
    "http://168.63.129.16/",
    "http://192.0.0.192/",
    "http://192.0.2.1/",
    "http://198.18.0.1/",
    "http://203.0.113.9/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/",
    "http://metadata/",
    "http://intranet/",
    "http://router.lan/",
    "http://nas.home.arpa/",
    "http://user:secret@example.com/",
    "file:///etc/passwd",
    "ftp://example.com/",
    "gopher://example.com/",
]


def test_the_companion_refuses_what_remote_fetch_refuses():
    """src/addresses.js and pixhaven.net.addresses agree on every URL above."""
    from pixhaven.net.addresses import split_url
    from pixhaven.net.errors import RemoteFetchError

    answers = json.loads(node_script("refusals.mjs", json.dumps(URLS)))
    disagreements = []
    for url, why in zip(URLS, answers):
        try:
            split_url(url)
            python_refuses = False
        except RemoteFetchError:
            python_refuses = True
        if python_refuses != (why is not None):
            disagreements.append((url, why))
    assert disagreements == []
    loaded = [url for url, why in zip(URLS, answers) if why is None]
    assert loaded == [*URLS[:6], "http://172.32.0.1/", "http://100.128.0.1/"]  # public ones


def test_data_urls_are_loaded_and_other_schemes_are_not():
    answers = json.loads(
        node_script(
            "refusals.mjs", json.dumps(["data:image/png;base64,AAAA", "blob:x", "ws://a.b/"])
        )
    )
    assert answers[0] is None and answers[1] and answers[2]
