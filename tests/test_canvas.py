"""Pictify `POST /image/canvas`: FabricJS JSON drawn by fabric.js (the installed 5.3 copy)
in the local browser, `{{variables}}` filled in, stored as an image; the docs' example
checked in its pixels. The variable filling and the page it builds are checked as pure
functions too."""

import json

import pytest

from pixhaven.services.rendering import canvas
from tests.browser_support import image, near
from tests.conftest import assert_error_envelope, served

# The docs' canvas example (sdks/python.mdx "Canvas Rendering").
EXAMPLE = {
    "fabricJSData": {
        "version": "5.3.0",
        "objects": [
            {"type": "rect", "fill": "#667eea", "width": 1200, "height": 630},
            {"type": "textbox", "text": "{{title}}", "fill": "white", "fontSize": 48},
        ],
    },
    "variables": {"title": "Dynamic Content"},
    "width": 1200,
    "height": 630,
}
PURPLE, WHITE = (0x66, 0x7E, 0xEA), (255, 255, 255)


async def stored(client, answer: dict):
    return image((await served(client, answer["url"])).content)


def white_pixels(picture, box) -> int:
    data = picture.convert("RGB").crop(box).tobytes()
    return sum(near(data[i : i + 3], WHITE, 30) for i in range(0, len(data), 3))


async def test_the_docs_example(client, admin, browser_available):
    response = await client.post("/image/canvas", json=EXAMPLE, headers=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["width"], answer["height"], answer["format"]) == (1200, 630, "png")
    picture = (await stored(client, answer)).convert("RGB")
    assert picture.size == (1200, 630)
    for point in ((1100, 500), (600, 400), (5, 620), (1195, 5)):
        assert near(picture.getpixel(point), PURPLE, 2), point
    # The textbox sits at the top left (fabric wraps it to its word widths: two lines):
    # its white glyphs are there and nowhere else.
    assert white_pixels(picture, (0, 0, 300, 60)) > 500  # "Dynamic"
    assert white_pixels(picture, (0, 60, 300, 120)) > 500  # "Content"
    assert white_pixels(picture, (0, 130, 1200, 630)) == 0
    assert white_pixels(picture, (320, 0, 1200, 630)) == 0


async def test_an_unfilled_placeholder_is_drawn_as_written(client, admin, browser_available):
    # "{{title}}" is wider than "Hi": with the variable the glyphs end further left.
    def body(variables):
        return {
            "fabricJSData": {
                "objects": [
                    {"type": "rect", "fill": "#000000", "width": 400, "height": 80},
                    {"type": "text", "text": "{{title}}", "fill": "white", "fontSize": 40},
                ]
            },
            "variables": variables,
            "width": 400,
            "height": 80,
            "fileExtension": "jpg",
        }

    filled = await client.post("/image/canvas", json=body({"title": "Hi"}), headers=admin)
    raw = await client.post("/image/canvas", json=body({}), headers=admin)
    assert filled.status_code == raw.status_code == 200, filled.text
    short, long = await stored(client, filled.json()), await stored(client, raw.json())
    assert short.format == "JPEG" and short.size == (400, 80)
    assert white_pixels(short, (80, 0, 400, 80)) == 0 < white_pixels(long, (80, 0, 400, 80))


async def test_size_defaults_to_the_canvas_json(client, admin, browser_available):
    data = {"width": 300, "height": 120, "background": "#00ff00", "objects": []}
    response = await client.post("/image/canvas", json={"fabricJSData": data}, headers=admin)
    assert response.status_code == 200, response.text
    picture = await stored(client, response.json())
    assert picture.size == (300, 120) and near(picture.convert("RGB").getpixel((5, 5)), (0, 255, 0))


async def test_json_that_fabric_cannot_load_is_422(client, admin, browser_available):
    data = {"objects": [{"type": "no-such-shape", "width": 10, "height": 10}]}
    response = await client.post(
        "/image/canvas", json={"fabricJSData": data, "width": 50, "height": 50}, headers=admin
    )
    assert_error_envelope(response, 422, "CANVAS_NOT_DRAWN")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "fabricJSData"),
        ({"fabricJSData": "rect"}, "fabricJSData"),
        ({"fabricJSData": [1, 2]}, "fabricJSData"),
        ({"fabricJSData": {}, "variables": [1]}, "variables"),
        ({"fabricJSData": {}, "width": 4001}, "width"),
        ({"fabricJSData": {}, "fileExtension": "gif"}, "fileExtension"),
        (
            {
                "fabricJSData": {},
                "variableDefinitions": [{"name": "t", "validation": {"required": True}}],
            },
            "variables",
        ),
    ],
)
async def test_bad_inputs_are_400(client, admin, body, field):
    error = assert_error_envelope(await client.post("/image/canvas", json=body, headers=admin), 400)
    assert error["details"]["errors"][0]["field"] == field


def test_variables_fill_text_objects_only_and_defaults_apply():
    data = {
        "objects": [
            {"type": "textbox", "text": "Hello {{ name }}, {{missing}} {{n}}"},
            {"type": "rect", "text": "{{name}}"},
            {"type": "group", "objects": [{"type": "i-text", "text": "{{greeting}}"}]},
        ]
    }
    body = {
        "variables": {"name": "Ada", "n": 3},
        "variableDefinitions": [{"name": "greeting", "defaultValue": "hi"}],
    }
    filled = canvas.fill(data, canvas.variables_of(body))
    assert filled["objects"][0]["text"] == "Hello Ada, {{missing}} 3"
    assert filled["objects"][1]["text"] == "{{name}}"
    assert filled["objects"][2]["objects"][0]["text"] == "hi"
    assert data["objects"][0]["text"].startswith("Hello {{")  # the input is not changed


def test_the_page_carries_the_json_as_data_that_cannot_end_its_script():
    hostile = {"objects": [{"type": "text", "text": "</script><script>alert(1)</script><!--"}]}
    page = canvas.page_of(hostile, 100, 50)
    start = page.index('id="pixhaven-canvas-data">') + len('id="pixhaven-canvas-data">')
    text = page[start : page.index("</script>", start)]
    assert json.loads(text) == {"width": 100, "height": 50, "data": hostile}
    assert "<" not in text
