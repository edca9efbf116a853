"""Any positive fontSize is drawn (the document schema says so): sizes under half a pixel,
down to 1e-87, through POST /image (PNG), /gif, /pdf/render, /pdf/multi-page and Craftr's
/api/v1/image. A glyph under half a pixel leaves no ink, so such text draws nothing (FreeType
has no size that small); a tag's pill is as small as its text and drawn as well as it can be.
"""

import io
from xml.etree import ElementTree

import pytest
from PIL import Image, ImageSequence

pypdf = pytest.importorskip("pypdf")

BACKGROUND = (16, 32, 48)


def document(*components) -> dict:
    return {"width": 120, "height": 80, "background": "#102030", "components": list(components)}


def text(size: float, x: float = 10, y: float = 10) -> dict:
    return {
        "type": "text",
        "text": "Hi there",
        "fontSize": size,
        "color": "#ffffff",
        "x": x,
        "y": y,
    }


def tag(size: float, x: float = 10, y: float = 10) -> dict:
    return {"type": "tag", "text": "Hi there", "fontSize": size, "x": x, "y": y}


async def fetch(client, url: str) -> bytes:
    response = await client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.text
    return response.content


def only_background(image: Image.Image) -> bool:
    return image.convert("RGB").getextrema() == tuple((c, c) for c in BACKGROUND)


@pytest.mark.parametrize("size", [0.49, 0.4, 1e-87])
async def test_png_text_under_half_a_pixel_draws_nothing(client, admin, size):
    response = await client.post("/image", json=document(text(size)), headers=admin)
    assert response.status_code == 200, response.text
    png = Image.open(io.BytesIO(await fetch(client, response.json()["url"])))
    assert png.format == "PNG" and png.size == (120, 80)
    assert only_background(png)


async def test_png_text_of_half_a_pixel_and_more_still_draws(client, admin):
    response = await client.post("/image", json=document(text(0.5), text(6, y=40)), headers=admin)
    assert response.status_code == 200, response.text
    png = Image.open(io.BytesIO(await fetch(client, response.json()["url"]))).convert("RGB")
    assert not only_background(png.crop((8, 38, 60, 50)))


@pytest.mark.parametrize("x", [10, 10.9, 0.3])
async def test_png_tags_with_tiny_text_draw_at_most_their_tiny_pill(client, admin, x):
    response = await client.post(
        "/image", json=document(tag(0.4, x, x), tag(1e-87, x, x + 30)), headers=admin
    )
    assert response.status_code == 200, response.text
    png = Image.open(io.BytesIO(await fetch(client, response.json()["url"]))).convert("RGB")
    # The pills are a couple of pixels wide and one tall at most: nothing beyond.
    edge = int(x)
    assert only_background(png.crop((edge + 4, 0, 120, 80)))
    assert only_background(png.crop((0, edge + 2, 120, edge + 30)))
    assert only_background(png.crop((0, edge + 32, 120, 80)))


async def test_craftr_png_and_svg_with_tiny_sizes(client, admin):
    body = document(text(0.3), tag(1e-87, y=40))
    png = await client.post("/api/v1/image", json=body, headers={**admin, "Accept": "image/png"})
    assert png.status_code == 200, png.text
    assert only_background(Image.open(io.BytesIO(png.content)).crop((0, 0, 120, 39)))
    svg = await client.post(
        "/api/v1/image", json=body, headers={**admin, "Accept": "image/svg+xml"}
    )
    assert svg.status_code == 200, svg.text
    ElementTree.fromstring(svg.content)  # well-formed


async def test_gif_frames_with_tiny_sizes(client, admin):
    body = {
        "width": 120,
        "height": 80,
        "delay": 100,
        "frames": [document(text(0.4)), document(tag(1e-87)), document(text(0.2), tag(0.3))],
    }
    response = await client.post("/gif", json=body, headers=admin)
    assert response.status_code == 200, response.text
    gif = Image.open(io.BytesIO(await fetch(client, response.json()["url"])))
    frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(gif)]
    assert len(frames) == 3
    assert only_background(frames[0])
    assert only_background(frames[1].crop((12, 0, 120, 80)))


async def test_pdf_render_tag_of_1e_87(client, admin):
    body = document(tag(1e-87), {**text(20, y=40), "text": "Readable"})
    response = await client.post("/pdf/render", json=body, headers=admin)
    assert response.status_code == 200, response.text
    reader = pypdf.PdfReader(io.BytesIO(await fetch(client, response.json()["url"])))
    assert len(reader.pages) == 1
    assert "Readable" in reader.pages[0].extract_text()


async def test_pdf_multi_page_tag_and_text_of_1e_87(client, admin):
    body = {
        "pages": [
            document(tag(1e-87)),
            document(text(1e-87), {**text(20, y=40), "text": "Second"}),
        ]
    }
    response = await client.post("/pdf/multi-page", json=body, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["pages"] == 2
    reader = pypdf.PdfReader(io.BytesIO(await fetch(client, response.json()["url"])))
    assert len(reader.pages) == 2
    assert "Second" in reader.pages[1].extract_text()
