"""`POST /templates/preview` over HTTP: an unsaved template (component document, HTML) with
variables rendered to the image itself, checked in its pixels; nothing stored."""

import io

from PIL import Image

from tests.browser_support import near
from tests.conftest import assert_error_envelope, bearer
from tests.test_templates import TEMPLATE

GREEN, RED = (0, 255, 0), (255, 0, 0)


def draft(**changes) -> dict:
    """The test card without its name (a preview needs none), with `changes`."""
    body = {key: value for key, value in TEMPLATE.items() if key != "name"}
    return {**body, **changes}


async def preview(client, headers, body, status=200):
    response = await client.post("/templates/preview", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response


async def test_component_draft_renders_with_variables_and_nothing_is_stored(client, admin):
    response = await preview(
        client, admin, {"template": draft(), "variables": {"name": "Ada", "bg": "#00ff00"}}
    )
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    picture = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert picture.size == (300, 150)
    assert near(picture.getpixel((290, 140)), GREEN)  # the background variable
    assert near(picture.getpixel((12, 12)), RED)  # the accent bar's default colour

    # Edited and previewed again without saving: the change shows at once.
    edited = draft(document={**TEMPLATE["document"], "width": 120})
    again = await preview(client, admin, {"template": edited, "variables": {"name": "Ada"}})
    assert Image.open(io.BytesIO(again.content)).size == (120, 150)
    # Width and height of the request override the draft's canvas, as in a render.
    sized = await preview(
        client, admin, {"template": draft(), "variables": {"name": "A"}, "width": 64, "height": 32}
    )
    assert Image.open(io.BytesIO(sized.content)).size == (64, 32)

    # Nothing was stored: no image, no template.
    assert (await client.get("/v1/images", headers=admin)).json()["data"] == []
    assert (await client.get("/templates", headers=admin)).json()["templates"] == []


async def test_formats(client, admin):
    body = {"template": draft(), "variables": {"name": "Ada"}}
    webp = await preview(client, admin, {**body, "format": "webp"})
    assert webp.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(webp.content)).format == "WEBP"
    svg = await preview(client, admin, {**body, "format": "svg"})
    assert svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content[:200]
    # A drawing of our origin must never run as a document.
    assert "sandbox" in svg.headers["content-security-policy"]
    assert svg.headers["cache-control"] == "no-store"
    assert_error_envelope(
        await client.post("/templates/preview", json={**body, "format": "bmp"}, headers=admin), 400
    )


async def test_draft_errors_are_the_create_and_render_errors(client, admin):
    missing = await preview(client, admin, {"template": draft()}, status=400)
    assert "name" in missing.text  # the required variable
    unknown = draft(document={**TEMPLATE["document"], "background": "{{nope}}"})
    assert_error_envelope(
        await client.post("/templates/preview", json={"template": unknown}, headers=admin), 400
    )
    wrong_type = {"template": draft(), "variables": {"name": "A", "bg": "green-ish"}}
    assert_error_envelope(
        await client.post("/templates/preview", json=wrong_type, headers=admin), 400
    )
    for body in ({}, {"template": "<p>hi</p>"}, {"template": None}):
        response = await client.post("/templates/preview", json=body, headers=admin)
        assert_error_envelope(response, 400)
    both = {"template": {"html": "<p>x</p>", "fabricJSData": {"objects": []}}}
    assert_error_envelope(await client.post("/templates/preview", json=both, headers=admin), 400)


async def test_preview_needs_the_render_scope(client, make_key):
    reader, _ = await make_key(["templates:read", "templates:write"])
    response = await client.post(
        "/templates/preview", json={"template": draft()}, headers=bearer(reader)
    )
    assert_error_envelope(response, 403)


async def test_html_draft_renders_through_the_browser(client, admin, browser_available):
    template = {
        "html": '<html><body style="margin:0;background:{{color}}"></body></html>',
        "width": 80,
        "height": 40,
        "variableDefinitions": [{"name": "color", "type": "color", "defaultValue": "#ff0000"}],
    }
    red = await preview(client, admin, {"template": template})
    picture = Image.open(io.BytesIO(red.content)).convert("RGB")
    assert picture.size == (80, 40) and near(picture.getpixel((40, 20)), RED)
    green = await preview(client, admin, {"template": template, "variables": {"color": "#00ff00"}})
    assert near(Image.open(io.BytesIO(green.content)).convert("RGB").getpixel((40, 20)), GREEN)
    assert (await client.get("/v1/images", headers=admin)).json()["data"] == []
