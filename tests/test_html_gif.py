"""Pictify `POST /gif` from `html` or `url` and `POST /gif/capture`: the page's animations
stepped by the local browser, encoded as an animated GIF, stored as an image; through the API
in process and with Pictify's official SDK (`render_gif`) against a real `pixhaven dev`.
Every GIF is fetched back from its `url` and checked frame by frame.
"""

import httpx
import pytest
from PIL import ImageChops, ImageSequence

from tests.browser_support import RecordingServer, image, near, require_browser
from tests.conftest import ADMIN_TOKEN, assert_error_envelope, served
from tests.dev_server import run_dev_server

# The docs' example (sdks/python.mdx, "GIFs / Create from HTML"), 400 x 400.
PULSE = """
    <div class="container">
        <style>
            @keyframes pulse {
                0% { transform: scale(1); }
                50% { transform: scale(1.1); }
                100% { transform: scale(1); }
            }
            .pulse { animation: pulse 1s infinite; }
        </style>
        <div class="pulse">Animated!</div>
    </div>
    """


def frames_of(data: bytes):
    """Each frame as RGB, and its delay in ms."""
    picture = image(data)
    assert picture.format == "GIF"
    return [
        (frame.convert("RGB"), frame.info.get("duration"))
        for frame in ImageSequence.Iterator(picture)
    ]


def moving(frames) -> int:
    """How many consecutive pairs of frames differ in their pixels."""
    return sum(
        ImageChops.difference(a, b).getbbox() is not None
        for (a, _), (b, _) in zip(frames, frames[1:], strict=False)
    )


async def stored_frames(client, answer: dict):
    return frames_of((await served(client, answer["url"])).content)


async def test_html_gif_loops_one_iteration_of_the_animation(client, admin, browser_available):
    body = {"html": PULSE, "width": 200, "height": 100, "quality": "low"}
    response = await client.post("/gif", json=body, headers=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    # 1 s at low quality's 10 fps: 10 frames of 100 ms.
    assert (answer["frameCount"], answer["duration"], answer["fps"]) == (10, 1000, 10)
    gif = answer["gif"]
    assert gif == {
        "url": answer["url"],
        "uid": answer["id"],
        "width": 200,
        "height": 100,
        "animationLength": 1.0,
    }
    frames = await stored_frames(client, answer)
    assert len(frames) == 10 and {delay for _, delay in frames} == {100}
    assert all(frame.size == (200, 100) for frame, _ in frames)
    assert moving(frames) >= 5
    listed = (await client.get("/api/images", headers=admin)).json()
    assert answer["id"] in str(listed)


async def test_defaults_and_a_page_without_animation(client, admin, browser_available):
    response = await client.post("/gif", json={"html": "<p>still</p>"}, headers=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    # 800 x 600 by default; medium quality, 15 fps over the 1 s a still page gets.
    assert (answer["width"], answer["height"], answer["frameCount"]) == (800, 600, 15)
    frames = await stored_frames(client, answer)
    assert len(frames) == 15 and moving(frames) == 0


async def test_frame_budget_lowers_the_frame_rate_not_the_span(client, admin, browser_available):
    # 2000 x 1500 = 3 M pixels a frame: the 30 M pixel budget allows 10 frames, spread over
    # the whole 1 s iteration (not 10 of 15 frames, which would cut the loop short).
    body = {"html": PULSE, "width": 2000, "height": 1500}
    answer = (await client.post("/gif", json=body, headers=admin)).json()
    assert (answer["frameCount"], answer["duration"]) == (10, 1000)


@pytest.mark.parametrize("settings_overrides", [{"BROWSER_TEST_ALLOW_LOOPBACK": "1"}])
async def test_capture_records_a_live_page_for_its_duration(client, admin, browser_available):
    page = RecordingServer()
    try:
        body = {
            "url": page.url + "/animated",
            "width": 200,
            "height": 100,
            "quality": "low",
            "frameDurationSeconds": 2,
        }
        response = await client.post("/gif/capture", json=body, headers=admin)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["frameCount"], answer["gif"]["animationLength"]) == (20, 2.0)
        frames = await stored_frames(client, answer)
        assert len(frames) == 20
        # The blue bar slides 150 px in 2 s: 7.5 px a frame, left to right.
        lefts = [
            next(x for x in range(200) if near(frame.getpixel((x, 50)), (0, 0, 255)))
            for frame, _ in frames
        ]
        assert lefts == sorted(lefts) and lefts[0] == 0 and lefts[-1] >= 135
        assert page.requests == ["/animated"]
    finally:
        page.stop()


async def test_the_gif_itself_with_accept(client, admin, browser_available):
    response = await client.post(
        "/gif",
        json={"html": PULSE, "width": 80, "height": 40, "quality": "low"},
        headers={**admin, "Accept": "image/gif"},
    )
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    assert len(frames_of(response.content)) == 10


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/gif", {"html": "<p>x</p>", "url": "https://example.com/"}, "html"),
        ("/gif", {"html": "<p>x</p>", "quality": "ultra"}, "quality"),
        ("/gif", {"html": "<p>x</p>", "width": 2001}, "width"),
        ("/gif", {"html": "<p>x</p>", "frameDurationSeconds": 20}, "frameDurationSeconds"),
        ("/gif", {"html": "<p>x</p>", "template": "tpl"}, "template"),
        ("/gif", {"html": "<p>x</p>", "frames": [{"components": []}]}, "html"),
        ("/gif", {"url": "file:///etc/passwd"}, "url"),
        ("/gif/capture", {}, "html"),
        ("/gif/capture", {"html": "<p>x</p>"}, "html"),
        ("/gif/capture", {"url": "https://example.com/", "frameDurationSeconds": 0.5}, None),
    ],
)
async def test_bad_inputs_are_400_before_any_render(client, admin, path, body, field):
    error = assert_error_envelope(await client.post(path, json=body, headers=admin), 400)
    if field:
        assert error["details"]["errors"][0]["field"] == field


async def test_capture_of_a_private_address_is_refused(client, admin, browser_available):
    body = {"url": "http://169.254.169.254/latest/meta-data/", "frameDurationSeconds": 1}
    response = await client.post("/gif/capture", json=body, headers=admin)
    assert_error_envelope(response, 422, "NAVIGATION_FAILED")


async def test_an_env_without_the_binding_answers_503(client, admin, env):
    binding = env.BROWSER
    del env.BROWSER
    try:
        response = await client.post("/gif", json={"html": PULSE}, headers=admin)
        assert_error_envelope(response, 503, "BROWSER_NOT_AVAILABLE")
        # Component-document GIFs do not need the browser.
        frames = {"width": 20, "height": 20, "frames": [{"components": []}]}
        assert (await client.post("/gif", json=frames, headers=admin)).status_code == 200
    finally:
        env.BROWSER = binding


# -- Pictify's SDK against a real server -----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    yield from run_dev_server(tmp_path_factory.mktemp("sdk-gif"))


def test_sdk_render_gif_of_the_docs_pulse(server):
    from pictify import Pictify

    def run():
        with Pictify(api_key=ADMIN_TOKEN, base_url=server, max_retries=0) as sdk:
            result = sdk.render_gif(html=PULSE, width=400, height=400)
        assert result.url and (result.width, result.height) == (400, 400)
        assert result.animation_length == 1.0
        response = httpx.get(result.url, trust_env=False, timeout=30)
        assert response.status_code == 200
        return frames_of(response.content)

    first = run()
    # The SDK asks for medium quality: 15 fps over the pulse's 1 s iteration.
    assert len(first) == 15
    assert all(frame.size == (400, 400) for frame, _ in first)
    assert moving(first) >= 10  # the text grows and shrinks between most frames
    second = run()
    assert [frame.tobytes() for frame, _ in second] == [frame.tobytes() for frame, _ in first]
