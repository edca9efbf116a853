"""Contract tests for the browser binding (`env.BROWSER`, pixhaven.bindings.browser): what
comes back for each call, checked in its pixels, pages and frames; the error answers; and
that pages cannot reach private destinations (SSRF)."""

import io
import json
import struct

import pytest
from pypdf import PdfReader

from pixhaven.bindings.browser import CONTRACT_ORIGIN, FRAMES_MEDIA_TYPE
from pixhaven.interop import as_bytes
from tests.browser_support import (
    RawListener,
    RecordingServer,
    dark_pixels,
    image,
    near,
    private_address,
)

WHITE, RED, GREEN, BLUE = (255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255)
CARD = (
    "<html><body style='margin:0;background:#ff0000;font:bold 40px sans-serif'>"
    "<div id='box' style='width:120px;height:40px;background:#00ff00'></div>"
    "<p id='text' style='color:#000;background:#fff;margin:0'>Hello</p></body></html>"
)
PULSE = (
    "<style>@keyframes pulse{from{transform:scale(0.2)}to{transform:scale(1)}}"
    "body{margin:0;background:#fff}"
    "#dot{width:80px;height:80px;margin:10px;border-radius:50%;background:#f00;"
    "animation:pulse 1s ease-in-out infinite alternate}</style><div id='dot'></div>"
)


async def call(browser, name: str, **fields):
    response = await browser.fetch(
        f"{CONTRACT_ORIGIN}/{name}", method="POST", body=json.dumps(fields)
    )
    return response.status, response.headers, as_bytes(await response.arrayBuffer())


async def shot(browser, **fields):
    status, headers, body = await call(browser, "screenshot", **fields)
    assert status == 200, body[:300]
    return headers, body


def error_of(status: int, body: bytes, expected_status: int, code: str) -> str:
    assert status == expected_status, body[:300]
    error = json.loads(body)["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error["message"]


def split_frames(body: bytes) -> list[bytes]:
    frames, offset = [], 0
    while offset < len(body):
        (length,) = struct.unpack(">I", body[offset : offset + 4])
        frames.append(body[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return frames


def test_the_app_client_speaks_this_contract():
    from pixhaven.services.rendering import browser as client

    assert (client.CONTRACT_ORIGIN, client.FRAMES_MEDIA_TYPE) == (
        CONTRACT_ORIGIN,
        FRAMES_MEDIA_TYPE,
    )


async def test_screenshot_size_background_and_text(browser):
    headers, body = await shot(browser, html=CARD, width=300, height=200)
    assert headers.get("content-type") == "image/png"
    picture = image(body).convert("RGB")
    assert picture.size == (300, 200)
    assert near(picture.getpixel((290, 190)), RED)
    assert near(picture.getpixel((10, 10)), GREEN)
    assert dark_pixels(picture, (0, 40, 300, 100)) > 100  # "Hello" in black
    assert dark_pixels(picture, (0, 120, 300, 200)) == 0


async def test_selector_crop_and_device_scale(browser):
    _, body = await shot(browser, html=CARD, width=300, height=200, selector="#box")
    assert image(body).size == (120, 40)
    assert near(image(body).convert("RGB").getpixel((60, 20)), GREEN)
    _, body = await shot(browser, html=CARD, width=300, height=200, deviceScaleFactor=2)
    assert image(body).size == (600, 400)
    _, body = await shot(
        browser, html=CARD, width=300, height=200, selector="#box", deviceScaleFactor=2
    )
    assert image(body).size == (240, 80)


async def test_jpeg_webp_and_transparent_background(browser):
    headers, body = await shot(browser, html=CARD, width=100, height=80, type="jpeg", quality=90)
    assert headers.get("content-type") == "image/jpeg" and image(body).format == "JPEG"
    headers, body = await shot(browser, html=CARD, width=100, height=80, type="webp")
    assert headers.get("content-type") == "image/webp" and image(body).format == "WEBP"
    assert image(body).size == (100, 80)
    bare = "<div style='width:20px;height:20px;background:#00f'></div>"
    for kind in ("png", "webp"):
        _, body = await shot(
            browser, html=bare, width=60, height=60, omitBackground=True, type=kind
        )
        picture = image(body).convert("RGBA")
        assert picture.getpixel((50, 50))[3] == 0, kind  # transparent outside the box
        assert near(picture.getpixel((12, 12)), (*BLUE, 255)), kind


async def test_full_page_is_the_whole_document(browser):
    tall = "<body style='margin:0'><div style='height:1500px;background:#0f0'></div></body>"
    _, body = await shot(browser, html=tall, width=200, height=300, fullPage=True)
    assert image(body).size == (200, 1500)
    _, body = await shot(browser, html=tall, width=200, height=300)
    assert image(body).size == (200, 300)


async def test_waits_for_a_selector_and_a_function(browser):
    late = (
        "<body style='margin:0;background:#fff'><script>setTimeout(() => {"
        "document.body.style.background = '#0000ff';"
        "document.body.insertAdjacentHTML('beforeend', '<i id=done></i>');"
        "window.ready = true }, 300)</script></body>"
    )
    _, body = await shot(browser, html=late, width=50, height=50, waitForSelector="#done")
    assert near(image(body).convert("RGB").getpixel((25, 25)), BLUE)
    _, body = await shot(browser, html=late, width=50, height=50, waitForFunction="window.ready")
    assert near(image(body).convert("RGB").getpixel((25, 25)), BLUE)


async def test_fabric_library_is_injected_from_the_installed_copy(browser):
    page = (
        "<body style='margin:0'><canvas id='c' width='100' height='60'></canvas><script>"
        "const canvas = new fabric.StaticCanvas('c', {backgroundColor: '#00ff00'});"
        "canvas.add(new fabric.Rect({left: 0, top: 0, width: 50, height: 60, fill: '#0000ff'}));"
        "canvas.renderAll(); window.drawn = fabric.version;</script></body>"
    )
    _, body = await shot(
        browser,
        html=page,
        width=100,
        height=60,
        libraries=["fabric"],
        waitForFunction="window.drawn",
    )
    picture = image(body).convert("RGB")
    assert near(picture.getpixel((25, 30)), BLUE) and near(picture.getpixel((75, 30)), GREEN)
    status, _, body = await call(browser, "screenshot", html=page, libraries=["jquery"])
    error_of(status, body, 400, "INVALID_REQUEST")


async def test_pdf_pages_size_and_text(browser):
    html = "<section style='break-after:page'>First page</section><section>Second page</section>"
    status, headers, body = await call(browser, "pdf", html=html, format="A4")
    assert status == 200 and headers.get("content-type") == "application/pdf"
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert points(box) == (596, 842)  # A4
    assert "First page" in reader.pages[0].extract_text()
    assert "Second page" in reader.pages[1].extract_text()
    status, _, body = await call(browser, "pdf", html=html, format="Letter", landscape=True)
    box = PdfReader(io.BytesIO(body)).pages[0].mediabox
    assert points(box) == (792, 612)  # Letter, landscape
    status, _, body = await call(browser, "pdf", html=html, paperWidth="100mm", paperHeight=400)
    box = PdfReader(io.BytesIO(body)).pages[0].mediabox
    assert points(box) == (284, 300)  # 100 mm, and 400 px = 300 pt


def points(box) -> tuple[int, int]:
    """A page's size in points, to the nearest 2 pt (Chromium rounds the paper size to
    whole CSS pixels: A4's 595.3 x 841.9 pt comes out as 596 x 843)."""
    return round(float(box.width) / 2) * 2, round(float(box.height) / 2) * 2


async def test_frames_step_animations_deterministically(browser):
    request = {"html": PULSE, "width": 100, "height": 100, "fps": 10, "frameCount": 6}
    status, headers, body = await call(browser, "frames", **request)
    assert status == 200 and headers.get("content-type") == FRAMES_MEDIA_TYPE
    assert headers.get("x-frame-count") == "6"
    frames = split_frames(body)
    assert len(frames) == 6
    pictures = [image(frame).convert("RGB") for frame in frames]
    assert all(picture.size == (100, 100) for picture in pictures)
    red = [reddish(picture) for picture in pictures]
    assert red == sorted(red) and red[-1] > 2 * red[0]  # the dot grows frame by frame
    _, _, again = await call(browser, "frames", **request)
    assert [image(f).convert("RGB").tobytes() for f in split_frames(again)] == [
        picture.tobytes() for picture in pictures
    ]


async def test_frames_span_the_animation_duration_when_frame_count_is_omitted(browser):
    # PULSE's iteration is 1 s; a 0.5 s delay on a 2 s animation makes the longest 2.5 s.
    status, headers, body = await call(browser, "frames", html=PULSE, width=60, height=60, fps=4)
    assert status == 200, body[:300]
    assert (headers.get("x-animation-duration-ms"), headers.get("x-frame-count")) == ("1000", "4")
    assert len(split_frames(body)) == 4
    longer = PULSE + "<i style='display:block;animation:pulse 2s 0.5s infinite'>x</i>"
    status, headers, body = await call(browser, "frames", html=longer, width=60, height=60, fps=2)
    assert (headers.get("x-animation-duration-ms"), headers.get("x-frame-count")) == ("2500", "5")
    # Capped by maxDuration and maxFrames; a page without animations spans 1 s.
    capped = {"html": longer, "width": 60, "height": 60, "fps": 10, "maxDuration": 2000}
    _, headers, _ = await call(browser, "frames", **capped, maxFrames=8)
    assert (headers.get("x-animation-duration-ms"), headers.get("x-frame-count")) == ("2000", "8")
    _, headers, _ = await call(browser, "frames", html="<p>still</p>", width=60, height=60, fps=3)
    assert (headers.get("x-animation-duration-ms"), headers.get("x-frame-count")) == ("1000", "3")
    # An explicit span (a live page recorded for a while) wins over the measured one.
    _, headers, body = await call(browser, "frames", **capped, duration=1500)
    assert (headers.get("x-animation-duration-ms"), headers.get("x-frame-count")) == ("1500", "15")
    # With frameCount sent the header is the measured duration.
    _, headers, _ = await call(browser, "frames", html=PULSE, width=60, height=60, frameCount=2)
    assert (headers.get("x-animation-duration-ms"), headers.get("x-frame-count")) == ("1000", "2")


async def test_local_and_companion_answer_the_same_frame_counts(local_browsers, companion_browsers):
    """The two implementations count frames and spans alike, halves included (round() as
    Python's: to the even neighbour)."""
    longer = PULSE + "<i style='display:block;animation:pulse 2s 0.5s infinite'>x</i>"
    requests = [
        {"html": longer, "fps": 3},
        {"html": longer, "fps": 10, "maxDuration": 1250, "maxFrames": 7},
        {"html": "<p>still</p>", "fps": 10, "duration": 250},  # 2.5 frames: 2
        {"html": "<p>still</p>", "fps": 10, "duration": 350},  # 3.5 frames: 4
        {"html": "<p>still</p>", "fps": 1, "duration": 400},  # at least one frame
        {"html": PULSE, "fps": 7, "frameCount": 3},
    ]
    for fields in requests:
        answers = []
        for browser, _ in (local_browsers, companion_browsers):
            status, headers, body = await call(browser, "frames", width=40, height=40, **fields)
            assert status == 200, body[:300]
            count = headers.get("x-frame-count")
            assert len(split_frames(body)) == int(count)
            answers.append((count, headers.get("x-animation-duration-ms")))
        assert answers[0] == answers[1], (fields, answers)
    status, headers, _ = await call(
        companion_browsers[0], "frames", html="<p>x</p>", width=40, height=40, fps=10, duration=250
    )
    assert (headers.get("x-frame-count"), headers.get("x-animation-duration-ms")) == ("2", "250")


def reddish(picture) -> int:
    """How many pixels are clearly red (the pulsing dot)."""
    red, green, _ = picture.split()
    mask = [r > 200 and g < 100 for r, g in zip(red.tobytes(), green.tobytes(), strict=True)]
    return sum(mask)


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("screenshot", {}),
        ("screenshot", {"html": "<p>x</p>", "url": "https://example.com/"}),
        ("screenshot", {"html": "<p>x</p>", "type": "gif"}),
        ("screenshot", {"html": "<p>x</p>", "width": 0}),
        ("screenshot", {"html": "<p>x</p>", "deviceScaleFactor": 5}),
        ("screenshot", {"html": "<p>x</p>", "timeout": 600000}),
        ("screenshot", {"url": "file:///etc/passwd"}),
        ("pdf", {"html": "<p>x</p>", "format": "B7"}),
        ("pdf", {"html": "<p>x</p>", "paperWidth": "10mm"}),
        ("frames", {"html": "<p>x</p>", "frameCount": 1000}),
        ("frames", {"html": "<p>x</p>", "frameCount": 0}),
        ("frames", {"html": "<p>x</p>", "maxDuration": 60000}),
        ("frames", {"html": "<p>x</p>", "maxFrames": 301}),
        ("frames", {"html": "<p>x</p>", "duration": 0}),
    ],
)
async def test_invalid_requests_are_400(browser, name, fields):
    status, _, body = await call(browser, name, **fields)
    error_of(status, body, 400, "INVALID_REQUEST")


async def test_anything_but_a_post_to_a_call_is_404(browser):
    status, _, body = await call(browser, "print", html="<p>x</p>")
    error_of(status, body, 404, "NOT_FOUND")
    response = await browser.fetch(f"{CONTRACT_ORIGIN}/screenshot", method="GET", body="")
    error_of(response.status, as_bytes(await response.arrayBuffer()), 404, "NOT_FOUND")


async def test_selector_not_found_output_too_large_and_blocked_url(browser):
    status, _, body = await call(browser, "screenshot", html=CARD, selector="#missing")
    error_of(status, body, 422, "SELECTOR_NOT_FOUND")
    status, _, body = await call(
        browser, "screenshot", html=CARD, width=5000, height=5000, deviceScaleFactor=4
    )
    error_of(status, body, 413, "OUTPUT_TOO_LARGE")
    status, _, body = await call(browser, "screenshot", url="http://169.254.169.254/latest/")
    assert "metadata" in error_of(status, body, 422, "NAVIGATION_FAILED")


async def test_endless_script_times_out_and_the_browser_recovers(browser):
    status, _, body = await call(
        browser, "screenshot", html="<script>while (true) {}</script>", timeout=2000
    )
    error_of(status, body, 504, "RENDER_TIMEOUT")
    _, body = await shot(browser, html=CARD, width=64, height=48)
    assert image(body).size == (64, 48)


async def test_concurrent_calls_each_get_their_own_page(browser):
    import asyncio

    colours = ["#ff0000", "#00ff00", "#0000ff", "#ffffff"]
    answers = await asyncio.gather(
        *(
            shot(browser, html=f"<body style='background:{c}'></body>", width=40, height=30)
            for c in colours
        )
    )
    for colour, (_, body) in zip(colours, answers, strict=True):
        expected = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert near(image(body).convert("RGB").getpixel((20, 15)), expected)


async def test_url_source_through_the_test_loopback_allowance(loopback_browser, browser):
    server = RecordingServer()
    try:
        _, body = await shot(loopback_browser, url=server.url + "/page", width=200, height=100)
        picture = image(body).convert("RGB")
        assert near(picture.getpixel((10, 10)), GREEN) and near(picture.getpixel((190, 90)), BLUE)
        _, body = await shot(
            loopback_browser, url=server.url + "/page", width=200, height=100, selector="#card"
        )
        assert image(body).size == (150, 60)
        # Puppeteer's Chromium also asks for the page's icon; it is the same allowed origin.
        assert [path for path in server.requests if path != "/favicon.ico"] == ["/page", "/page"]
        # Without the allowance the same URL is refused before any request is made.
        status, _, body = await call(browser, "screenshot", url=server.url + "/page")
        error_of(status, body, 422, "NAVIGATION_FAILED")
        # Puppeteer's Chromium also asks for the page's icon; it is the same allowed origin.
        assert [path for path in server.requests if path != "/favicon.ico"] == ["/page", "/page"]
    finally:
        server.stop()


async def test_page_cannot_reach_private_destinations(browser):
    """Inline HTML loading loopback, metadata and IPv6 loopback addresses, by every route a
    page has: none of them arrives at the test's own listeners."""
    v4, v6 = RecordingServer("127.0.0.1"), RecordingServer("::1")
    address = private_address()
    private = RecordingServer(address) if address else None
    page = (
        "<body style='margin:0;background:#fff'>"
        f"<img src='{v4.url}/secret'>"
        "<img src='http://169.254.169.254/latest/meta-data/'>"
        f"<iframe src='{v6.url}/'></iframe>"
        f"<link rel='stylesheet' href='http://localhost:{v4.server_address[1]}/css'>"
        f"<script src='http://0x7f.1:{v4.server_address[1]}/script'></script>"
        f"<img src='file:///etc/passwd'>"
        "<script>"
        f"fetch('{v4.url}/fetch').catch(() => 0);"
        f"const x = new XMLHttpRequest(); x.open('GET', '{v6.url}/xhr'); x.send();"
        f"try {{ new WebSocket('ws://127.0.0.1:{v4.server_address[1]}/ws') }} catch (e) {{}}"
        f"navigator.sendBeacon('{v4.url}/beacon', 'x'); new EventSource('{v4.url}/events');"
        "new Worker(URL.createObjectURL(new Blob(["
        f"\"fetch('{v4.url}/worker').catch(() => 0)\"])));"
        f"setTimeout(() => {{ location.href = '{v4.url}/navigate' }}, 50);"
        "</script>" + (f"<img src='{private.url}/private'>" if private else "") + "</body>"
    )
    try:
        _, body = await shot(browser, html=page, width=100, height=100, waitUntil="networkidle")
        assert image(body).size == (100, 100)
        assert v4.requests == [] and v6.requests == []
        assert private is None or private.requests == []
    finally:
        for server in (v4, v6, private):
            if server is not None:
                server.stop()


async def test_redirects_to_private_addresses_are_blocked(loopback_browser):
    """A page the loopback allowance lets through, whose images redirect to the metadata
    address, to 10.0.0.1 and to this machine's own private address (a listener of the
    test's): those hops are refused, while a hop back to the loopback server is followed."""
    server = RecordingServer()
    address = private_address()
    private = RecordingServer(address) if address else None
    if private is not None:
        server.redirect_targets.append(private.url + "/private")
    try:
        _, body = await shot(
            loopback_browser,
            url=server.url + "/redirect-page",
            width=100,
            height=100,
            waitUntil="networkidle",
        )
        assert image(body).size == (100, 100)
        redirects = [path for path in server.requests if path.startswith("/redirect-to?")]
        assert len(redirects) == 3 + len(server.redirect_targets)
        # Only the hop back to the allowed loopback server was followed.
        assert server.requests.count("/after-redirect") == 1
        if private is not None:
            assert private.requests == []
        # The page's own navigation: a redirect to a loopback page is followed, one to a
        # private address fails the render.
        hop = server.url + "/redirect-to?"
        _, body = await shot(loopback_browser, url=hop + server.url + "/page", width=50, height=50)
        assert near(image(body).convert("RGB").getpixel((10, 10)), GREEN)
        status, _, body = await call(loopback_browser, "screenshot", url=hop + "http://10.0.0.1/")
        error_of(status, body, 422, "NAVIGATION_FAILED")
        if private is not None:
            status, _, body = await call(
                loopback_browser, "screenshot", url=hop + private.url + "/private"
            )
            error_of(status, body, 422, "NAVIGATION_FAILED")
            assert private.requests == []
    finally:
        server.stop()
        if private is not None:
            private.stop()


async def test_webrtc_cannot_reach_private_destinations(browser):
    """STUN (UDP) and TURN (TCP) go around request interception: from the page itself and
    from a fresh iframe's realm, nothing arrives at the test's loopback listeners."""
    listener = RawListener()
    servers = (
        f"[{{urls: 'stun:127.0.0.1:{listener.udp_port}'}}, "
        f"{{urls: 'turn:127.0.0.1:{listener.tcp_port}?transport=tcp', "
        "username: 'u', credential: 'p'}]"
    )
    page = (
        "<body><script>"
        "function gather(realm) {"
        f"  const pc = new realm.RTCPeerConnection({{iceServers: {servers}}});"
        "  pc.createDataChannel('x');"
        "  return pc.createOffer().then((offer) => pc.setLocalDescription(offer)).then(() =>"
        "    new Promise((done) => { pc.onicegatheringstatechange = () =>"
        "      pc.iceGatheringState === 'complete' && done(); }));"
        "}"
        "const frame = document.createElement('iframe'); document.body.appendChild(frame);"
        "Promise.allSettled([window, frame.contentWindow].map((realm) =>"
        "  new Promise((go) => go(gather(realm)))))"
        "  .then((results) => { window.outcome = results.map((r) => r.status).join(); });"
        "</script></body>"
    )
    try:
        _, body = await shot(
            browser, html=page, width=50, height=50, waitForFunction="window.outcome"
        )
        assert image(body).size == (50, 50)
        assert listener.received == []
    finally:
        listener.stop()
