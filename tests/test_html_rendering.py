"""Pictify `POST /image` with `html` or `url`, rendered by the local browser (env.BROWSER)
and stored as an image: through the API in process, and with Pictify's official Python
SDK against a real `pixhaven dev` (its client is a synchronous httpx client). Every result
is fetched back from its `url` and checked in its pixels.
"""

import httpx
import pytest

from tests.browser_support import RecordingServer, dark_pixels, image, near, require_browser
from tests.conftest import ADMIN_TOKEN, assert_error_envelope, served
from tests.dev_server import run_dev_server

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
CARD = (
    "<html><body style='margin:0;background:#ff0000;font:bold 40px sans-serif'>"
    "<div id='box' style='width:120px;height:40px;background:#00ff00'></div>"
    "<p style='color:#000;background:#fff;margin:0'>Hello</p></body></html>"
)


async def stored(client, answer: dict):
    return image((await served(client, answer["url"])).content)


async def test_html_is_rendered_stored_and_served(client, admin, browser_available):
    response = await client.post(
        "/image", json={"html": CARD, "width": 300, "height": 200}, headers=admin
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) >= {"url", "id", "createdAt", "width", "height", "format"}
    assert (answer["width"], answer["height"], answer["format"]) == (300, 200, "png")
    picture = (await stored(client, answer)).convert("RGB")
    assert picture.size == (300, 200)
    assert near(picture.getpixel((290, 190)), RED) and near(picture.getpixel((10, 10)), GREEN)
    assert dark_pixels(picture, (0, 40, 300, 100)) > 100  # "Hello"
    listed = (await client.get("/api/images", headers=admin)).json()
    assert answer["id"] in str(listed)


async def test_selector_scale_and_types(client, admin, browser_available):
    base = {"html": CARD, "width": 300, "height": 200}
    cases = [
        ({"selector": "#box"}, (120, 40), "PNG"),
        ({"deviceScaleFactor": 2}, (600, 400), "PNG"),
        ({"selector": "#box", "deviceScaleFactor": 2}, (240, 80), "PNG"),
        ({"fileExtension": "jpg", "quality": 90}, (300, 200), "JPEG"),
        ({"fileExtension": "webp"}, (300, 200), "WEBP"),
        ({"format": "jpeg"}, (300, 200), "JPEG"),
    ]
    for extra, size, kind in cases:
        response = await client.post("/image", json={**base, **extra}, headers=admin)
        assert response.status_code == 200, (extra, response.text)
        picture = await stored(client, response.json())
        assert (picture.size, picture.format) == (size, kind), extra


async def test_defaults_and_transparency(client, admin, browser_available):
    response = await client.post("/image", json={"html": "<p>x</p>"}, headers=admin)
    assert (response.json()["width"], response.json()["height"]) == (1200, 630)
    bare = "<div style='width:20px;height:20px;background:#00f'></div>"
    response = await client.post(
        "/image", json={"html": bare, "width": 60, "height": 60, "transparent": True}, headers=admin
    )
    picture = (await stored(client, response.json())).convert("RGBA")
    assert picture.getpixel((50, 50))[3] == 0 and near(picture.getpixel((10, 10)), (*BLUE, 255))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "components"),
        ({"html": "<p>x</p>", "url": "https://example.com/"}, "html"),
        ({"html": 5}, "html"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"html": "<p>x</p>", "fileExtension": "bmp"}, "fileExtension"),
        ({"html": "<p>x</p>", "width": 4001}, "width"),
        ({"html": "<p>x</p>", "deviceScaleFactor": 4}, "deviceScaleFactor"),
        ({"html": "<p>x</p>", "cookies": [{"name": "a", "value": "b"}]}, "cookies"),
        ({"html": "<p>x</p>", "components": []}, "html"),
        ({"html": "<p>x</p>", "template": "abc"}, "html"),
        ({"html": "<p>x</p>", "waitForTimeout": 60000}, "waitForTimeout"),
    ],
)
async def test_bad_inputs_are_400_before_any_render(client, admin, body, field):
    error = assert_error_envelope(await client.post("/image", json=body, headers=admin), 400)
    assert error["details"]["errors"][0]["field"] == field


async def test_browser_errors_keep_their_codes(client, admin, browser_available):
    body = {"html": CARD, "width": 100, "height": 100, "selector": "#nothing"}
    response = await client.post("/image", json=body, headers=admin)
    assert_error_envelope(response, 422, "SELECTOR_NOT_FOUND")
    response = await client.post("/image", json={"url": "http://127.0.0.1:9/"}, headers=admin)
    assert_error_envelope(response, 422, "NAVIGATION_FAILED")
    big = {"html": CARD, "width": 4000, "height": 4000, "deviceScaleFactor": 3}
    assert_error_envelope(await client.post("/image", json=big, headers=admin), 413)
    waited = {"html": CARD, "width": 50, "height": 50, "waitForTimeout": 300}
    assert (await client.post("/image", json=waited, headers=admin)).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"BROWSER_EXECUTABLE": "/nonexistent/chromium"}])
async def test_without_a_browser_the_answer_says_how_to_get_one(client, admin):
    response = await client.post("/image", json={"html": "<p>x</p>"}, headers=admin)
    error = assert_error_envelope(response, 503, "BROWSER_NOT_AVAILABLE")
    assert "apt-get install chromium" in error["error"] and "BROWSER_EXECUTABLE" in error["error"]
    # The component renderer does not need the browser.
    document = {"width": 40, "height": 40, "background": "#ff0000", "components": []}
    assert (await client.post("/image", json=document, headers=admin)).status_code == 200


async def test_an_env_without_the_binding_answers_503(client, admin, env):
    binding = env.BROWSER
    del env.BROWSER  # a deployment without the companion Worker's service binding
    try:
        response = await client.post("/image", json={"html": "<p>x</p>"}, headers=admin)
        error = assert_error_envelope(response, 503, "BROWSER_NOT_AVAILABLE")
        assert "apt-get install chromium" in error["error"]
    finally:
        env.BROWSER = binding


# -- Pictify's SDK against a real server -----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    folder = tmp_path_factory.mktemp("sdk")
    yield from run_dev_server(folder, BROWSER_TEST_ALLOW_LOOPBACK="1")


@pytest.fixture(scope="module")
def sdk(server):
    from pictify import Pictify

    with Pictify(api_key=ADMIN_TOKEN, base_url=server, max_retries=0) as client:
        yield client


def fetched(url: str):
    response = httpx.get(url, trust_env=False, timeout=30)
    assert response.status_code == 200, response.text
    return image(response.content)


def test_sdk_render_html(sdk):
    result = sdk.render_html(html=CARD, width=300, height=200)
    assert result.id and result.created_at
    picture = fetched(result.url).convert("RGB")
    assert picture.size == (300, 200)
    assert near(picture.getpixel((290, 190)), RED) and near(picture.getpixel((10, 10)), GREEN)
    assert dark_pixels(picture, (0, 40, 300, 100)) > 100
    cropped = fetched(sdk.render_html(html=CARD, width=300, height=200, selector="#box").url)
    assert cropped.size == (120, 40)
    assert near(cropped.convert("RGB").getpixel((60, 20)), GREEN)
    webp = fetched(sdk.render_html(html=CARD, width=300, height=200, format="webp").url)
    assert (webp.format, webp.size) == ("WEBP", (300, 200))


def test_sdk_render_html_at_device_scale_2(sdk, server):
    # The SDK has no deviceScaleFactor argument: the same request as its own, plus the
    # field Pictify documents for /image.
    body = {"html": CARD, "width": 300, "height": 200, "deviceScaleFactor": 2}
    response = httpx.post(
        server + "/image",
        json=body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        trust_env=False,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert fetched(response.json()["url"]).size == (600, 400)


def test_sdk_render_url_of_a_page_the_test_serves(sdk):
    page = RecordingServer()
    try:
        result = sdk.render_url(url=page.url + "/page", width=200, height=100)
        picture = fetched(result.url).convert("RGB")
        assert picture.size == (200, 100)
        assert near(picture.getpixel((10, 10)), GREEN) and near(picture.getpixel((190, 90)), BLUE)
        cropped = fetched(sdk.render_url(url=page.url + "/page", selector="#card").url)
        assert cropped.size == (150, 60)
        assert page.requests == ["/page", "/page"]
    finally:
        page.stop()
