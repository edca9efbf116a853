"""Craftr's POST /api/v1/image: what is drawn, not only that something was returned.

Fonts come from the local runtime's installer (npm packages cached in
~/.cache/pixhaven/fonts on first use; offline afterwards).
"""

import base64
import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageChops, ImageDraw

from tests.conftest import assert_error_envelope, bearer
from tests.imagegen import pixels

BACKGROUND = (16, 32, 48)
GREEN = (0, 200, 80)


def png_data_url(size=(120, 80), color=GREEN) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


KNOWN = {
    "width": 900,
    "height": 500,
    "background": "#102030",
    "components": [
        {
            "type": "text",
            "text": "Pixhaven draws",
            "fontSize": 48,
            "fontWeight": "700",
            "fontFamily": "Inter",
            "color": "#ffffff",
            "x": 40,
            "y": 30,
            "frameWidth": "fit",
        },
        {
            "type": "text",
            "text": "Words wrap inside a frame of three hundred pixels",
            "fontSize": 24,
            "fontFamily": "Roboto",
            "color": "#ffcc00",
            "x": 40,
            "y": 120,
            "frameWidth": 300,
        },
        {
            "type": "divider",
            "length": 500,
            "width": "thick",
            "direction": "horizontal",
            "color": "#ff0000",
            "x": 40,
            "y": 300,
        },
        {
            "type": "divider",
            "length": 150,
            "width": "medium",
            "direction": "vertical",
            "color": "#00ffff",
            "x": 860,
            "y": 20,
        },
        {
            "type": "tag",
            "text": "Featured",
            "fontSize": 16,
            "color": "#ffffff",
            "backgroundColor": "#ff0066",
            "x": 40,
            "y": 400,
        },
        {
            "type": "image",
            "src": png_data_url(),
            "width": 200,
            "height": 120,
            "radius": 30,
            "x": 600,
            "y": 330,
        },
    ],
}


async def render(client, admin, document, accept="image/png"):
    response = await client.post(
        "/api/v1/image", json=document, headers={**admin, "Accept": accept}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == accept
    return response


def ink_mask(image: Image.Image, background=BACKGROUND) -> Image.Image:
    """255 wherever the pixel differs noticeably from the background."""
    flat = Image.new("RGB", image.size, background)
    return (
        ImageChops.difference(image.convert("RGB"), flat)
        .convert("L")
        .point(lambda v: 255 if v > 24 else 0)
    )


def ink_bbox(mask: Image.Image, box):
    return mask.crop(box).getbbox()


def text_regions(document):
    """Generous regions each text/tag component may ink: (left, top, right, bottom)."""
    regions = []
    for c in document["components"]:
        if c["type"] == "text":
            size = c["fontSize"]
            width = c["frameWidth"] if c["frameWidth"] != "fit" else len(c["text"]) * size * 0.75
            regions.append((c["x"], c["y"], c["x"] + width, c["y"] + size * 6))
    return regions


async def test_png_draws_every_component_where_the_document_says(client, admin):
    png = Image.open(io.BytesIO((await render(client, admin, KNOWN)).content))
    assert png.format == "PNG" and png.size == (900, 500)
    rgb = png.convert("RGB")
    for corner in [(0, 0), (899, 0), (0, 499), (899, 499)]:
        assert rgb.getpixel(corner) == BACKGROUND
    mask = ink_mask(rgb)

    # Title: ink starts at x (within a few px of side bearing), within one 48 px line.
    title = ink_bbox(mask, (0, 0, 800, 110))
    assert title is not None
    assert 38 <= title[0] <= 46 and 30 <= title[1] <= 50 and title[3] <= 30 + 60
    assert title[2] - title[0] > 250  # "Pixhaven draws" at 48 px bold is wide

    # Wrapped text: stays inside its 300 px frame and takes several lines.
    wrapped = ink_bbox(mask, (0, 115, 800, 290))
    assert wrapped is not None
    assert 39 <= wrapped[0] and wrapped[2] <= 340 + 1
    assert wrapped[3] - wrapped[1] > 2 * 24  # two lines of 24 px text, not one

    # Dividers: exact rectangles in their colours.
    assert rgb.getpixel((40, 300)) == (255, 0, 0) and rgb.getpixel((539, 303)) == (255, 0, 0)
    assert rgb.getpixel((540, 301)) == BACKGROUND and rgb.getpixel((300, 304)) == BACKGROUND
    assert ink_bbox(mask, (0, 295, 580, 310)) == (40, 5, 540, 9)
    assert rgb.getpixel((861, 20)) == (0, 255, 255) and rgb.getpixel((860, 169)) == (0, 255, 255)
    assert ink_bbox(mask, (850, 0, 900, 200)) == (10, 20, 12, 170)

    # Tag: a pill filled with its background colour, with the white label inside it.
    pill = ink_bbox(mask, (0, 390, 400, 460))
    assert pill is not None and pill[0] == 40 and pill[1] == 10
    assert 16 * 4 < pill[2] - pill[0] < 16 * 10  # "Featured" plus padding
    middle_y = 390 + (pill[1] + pill[3]) // 2
    assert rgb.getpixel((44, middle_y)) == (255, 0, 102)
    assert rgb.getpixel((40, 391 + pill[1])) == BACKGROUND  # rounded corner
    label = [rgb.getpixel((x, middle_y)) for x in range(40, 40 + pill[2] - pill[0])]
    assert any(min(p) > 200 for p in label)  # white glyph pixels inside the pill

    # Image: the picture fills its box, its corners clipped by the 30 px radius.
    assert rgb.getpixel((700, 390)) == GREEN
    assert rgb.getpixel((601, 331)) == BACKGROUND and rgb.getpixel((798, 448)) == BACKGROUND
    assert rgb.getpixel((635, 331)) == GREEN and rgb.getpixel((601, 365)) == GREEN
    assert ink_bbox(mask, (560, 320, 900, 480)) == (40, 10, 240, 130)

    # Nothing anywhere else.
    allowed = Image.new("L", rgb.size, 0)
    draw = ImageDraw.Draw(allowed)
    for left, top, right, bottom in text_regions(KNOWN):
        draw.rectangle((left - 3, top, right + 3, bottom), fill=255)
    for box in [
        (40, 300, 540, 304),
        (860, 20, 862, 170),
        (40, 400, 40 + pill[2], 390 + pill[3]),
        (600, 330, 800, 450),
    ]:
        draw.rectangle(box, fill=255)
    stray = ImageChops.subtract(mask, allowed)
    assert stray.getbbox() is None, stray.getbbox()


async def test_svg_has_glyph_paths_and_matches_the_png(client, admin):
    import resvg_py

    svg = (await render(client, admin, KNOWN, "image/svg+xml")).content
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == "900" and root.get("height") == "500"
    tags = {element.tag.split("}")[1] for element in root.iter()}
    assert "text" not in tags and "path" in tags and "image" in tags and "clipPath" in tags
    for element in root.iter("{http://www.w3.org/2000/svg}image"):
        assert element.get("{http://www.w3.org/1999/xlink}href").startswith("data:image/")

    from_svg = Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg.decode()))))
    from_png = Image.open(io.BytesIO((await render(client, admin, KNOWN)).content))
    assert from_svg.size == from_png.size
    svg_mask, png_mask = ink_mask(from_svg), ink_mask(from_png)
    for region in [
        (0, 0, 800, 110),
        (0, 115, 800, 290),
        (0, 390, 400, 460),
        (560, 320, 900, 480),
        (0, 295, 580, 310),
    ]:
        a, b = ink_bbox(svg_mask, region), ink_bbox(png_mask, region)
        assert a is not None and b is not None
        assert all(abs(p - q) <= 2 for p, q in zip(a, b)), (region, a, b)
    # Whole-image agreement: only antialiasing differs.
    difference = ImageChops.difference(svg_mask, png_mask)
    assert sum(1 for v in pixels(difference) if v) < 0.01 * 900 * 500


SEED_EXAMPLE = {
    "width": 1200,
    "height": 630,
    "background": "#ffffff",
    "components": [
        {
            "type": "text",
            "text": "Hello World",
            "fontSize": 48,
            "fontWeight": "700",
            "fontFamily": "Inter",
            "color": "#000000",
            "x": 600,
            "y": 315,
            "frameWidth": "fit",
        }
    ],
}


@pytest.mark.parametrize(
    "accept", ["image/svg+xml", "image/png", "image/jpeg", "image/webp", "image/avif"]
)
async def test_seed_fetch_example_for_every_accept_type(client, make_key, accept):
    key, _ = await make_key(["render"])
    response = await client.post(
        "/api/v1/image",
        json=SEED_EXAMPLE,
        headers={**bearer(key), "Content-Type": "application/json", "Accept": accept},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == accept
    assert response.headers["content-disposition"] == "inline"
    assert response.headers["cache-control"] == "public, max-age=31536000"
    if accept == "image/svg+xml":
        root = ET.fromstring(response.text)
        assert root.get("width") == "1200" and root.get("height") == "630"
        return
    image = Image.open(io.BytesIO(response.content))
    assert (
        image.format
        == {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/avif": "AVIF"}[
            accept
        ]
    )
    assert image.size == (1200, 630)
    rgb = image.convert("RGB")
    assert all(v > 240 for v in rgb.getpixel((5, 5)))
    ink = ink_mask(rgb, (255, 255, 255)).getbbox()
    assert ink is not None and 598 <= ink[0] <= 606 and 315 <= ink[1] <= 340


async def test_default_and_wildcard_accept_give_svg(client, admin):
    for accept in (None, "*/*", "image/*", "text/html, image/png;q=0.5"):
        headers = dict(admin)
        if accept:
            headers["Accept"] = accept
        response = await client.post("/api/v1/image", json=SEED_EXAMPLE, headers=headers)
        assert response.status_code == 200
        expected = "image/png" if accept and "png" in accept else "image/svg+xml"
        assert response.headers["content-type"] == expected
    response = await client.post(
        "/api/v1/image", json=SEED_EXAMPLE, headers={**admin, "Accept": "text/html"}
    )
    assert_error_envelope(response, 406)


async def test_auth_and_scope(client, make_key):
    assert_error_envelope(await client.post("/api/v1/image", json=SEED_EXAMPLE), 401)
    # "401 Unauthorized - missing or invalid Authorization header; 403 Forbidden - invalid
    # API key": a header that is not `Bearer <token>` is a 401, an unknown key a 403.
    for header in ("Basic dXNlcjpwYXNz", "Bearer ", "pxf_nobearer"):
        response = await client.post(
            "/api/v1/image", json=SEED_EXAMPLE, headers={"Authorization": header}
        )
        assert_error_envelope(response, 401)
    response = await client.post(
        "/api/v1/image", json=SEED_EXAMPLE, headers=bearer("pxf_not_a_real_key")
    )
    body = assert_error_envelope(response, 403)
    assert body["details"] == {"reason": "unknown or revoked API key"}
    # The other dialects keep their 401 for an unknown key.
    for method, path in (("GET", "/api/images"), ("GET", "/v1/images"), ("GET", "/templates")):
        response = await client.request(method, path, headers=bearer("pxf_not_a_real_key"))
        assert_error_envelope(response, 401)
    key, _ = await make_key(["images:read"])
    assert_error_envelope(
        await client.post("/api/v1/image", json=SEED_EXAMPLE, headers=bearer(key)), 403
    )


@pytest.mark.parametrize(
    "component, field",
    [
        ({"type": "text", "text": "x", "fontSize": -3}, "fontSize"),
        ({"type": "text", "text": "x", "fontWeight": "450"}, "fontWeight"),
        ({"type": "text", "text": "x", "fontWeight": "٣٠٠"}, "fontWeight"),  # not CSS digits
        ({"type": "text", "text": "x", "fontWeight": "³⁰⁰"}, "fontWeight"),
        ({"type": "text", "text": "x", "color": "#12345"}, "color"),
        ({"type": "text", "text": "x", "fontStyle": "oblique"}, "fontStyle"),
        ({"type": "text", "fontSize": 20}, "text"),
        ({"type": "tag", "text": "x", "backgroundColor": "red"}, "backgroundColor"),
        ({"type": "divider", "length": 10, "width": "huge"}, "width"),
        ({"type": "image", "src": "data:image/png;base64,AAA", "width": 10}, "height"),
        ({"type": "circle"}, "type"),
    ],
)
async def test_invalid_components_name_index_and_field(client, admin, component, field):
    document = {**SEED_EXAMPLE, "components": [SEED_EXAMPLE["components"][0], component]}
    body = assert_error_envelope(
        await client.post("/api/v1/image", json=document, headers=admin), 400
    )
    assert "component 1" in body["error"] and field in body["error"]
    assert body["details"]["errors"][0]["component"] == 1
    assert body["details"]["errors"][0]["field"] == field


async def test_colours_accept_3_6_and_8_hex_digits(client, admin):
    document = {
        "width": 40,
        "height": 20,
        "background": "#f00",
        "components": [
            {
                "type": "divider",
                "length": 40,
                "width": "thick",
                "color": "#00ff0080",
                "x": 0,
                "y": 0,
            }
        ],
    }
    rgb = Image.open(io.BytesIO((await render(client, admin, document)).content)).convert("RGB")
    assert rgb.getpixel((5, 10)) == (255, 0, 0)
    red, green, blue = rgb.getpixel((5, 1))
    assert abs(red - 127) <= 2 and abs(green - 128) <= 2 and blue == 0  # 50 % green over red


async def test_unknown_family_lists_the_supported_ones(client, admin):
    document = {
        **SEED_EXAMPLE,
        "components": [{**SEED_EXAMPLE["components"][0], "fontFamily": "Comic Sans"}],
    }
    body = assert_error_envelope(
        await client.post("/api/v1/image", json=document, headers=admin), 400
    )
    assert "Comic Sans" in body["error"] and "Playfair Display" in body["error"]
    assert "Noto Sans SC" in body["details"]["supported"]


async def test_component_limit_defaults_to_ten(client, admin):
    divider = {"type": "divider", "length": 10}
    ok = await client.post(
        "/api/v1/image",
        headers=admin,
        json={"width": 50, "height": 50, "components": [divider] * 10},
    )
    assert ok.status_code == 200
    body = assert_error_envelope(
        await client.post(
            "/api/v1/image",
            headers=admin,
            json={"width": 50, "height": 50, "components": [divider] * 11},
        ),
        400,
    )
    assert "10" in body["error"] and body["details"]["limit"] == 10


@pytest.mark.parametrize("settings_overrides", [{"MAX_COMPONENTS": "2"}])
async def test_component_limit_is_configurable(client, admin, settings_overrides):
    body = assert_error_envelope(
        await client.post(
            "/api/v1/image",
            headers=admin,
            json={"width": 50, "height": 50, "components": [{"type": "divider", "length": 5}] * 3},
        ),
        400,
    )
    assert "limit is 2" in body["error"]


async def test_image_sources(client, admin):
    def doc(src):
        return {
            "width": 60,
            "height": 60,
            "components": [
                {"type": "image", "src": src, "width": 40, "height": 40, "x": 10, "y": 10}
            ],
        }

    bare = png_data_url((4, 4), (255, 0, 0)).split(",", 1)[1]
    rgb = Image.open(io.BytesIO((await render(client, admin, doc(bare))).content)).convert("RGB")
    assert rgb.getpixel((30, 30)) == (255, 0, 0) and rgb.getpixel((5, 5)) == (255, 255, 255)

    remote = assert_error_envelope(
        await client.post("/api/v1/image", json=doc("https://127.0.0.1/a.png"), headers=admin), 422
    )
    assert "loopback" in remote["error"] and remote["details"]["errors"][0]["field"] == "src"
    for bad in (
        "data:image/png;base64,%%%",
        "bm90IGFuIGltYWdl",
        "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode(),
    ):
        body = assert_error_envelope(
            await client.post("/api/v1/image", json=doc(bad), headers=admin), 400
        )
        assert "component 0" in body["error"]


async def test_image_is_cropped_like_object_fit_cover(client, admin):
    # Left half blue, right half red, 200x100 drawn into a 50x50 box: the centre shows the
    # boundary, the outer columns are cropped away.
    source = Image.new("RGB", (200, 100), (0, 0, 255))
    source.paste((255, 0, 0), (100, 0, 200, 100))
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    document = {
        "width": 50,
        "height": 50,
        "components": [{"type": "image", "src": src, "width": 50, "height": 50}],
    }
    rgb = Image.open(io.BytesIO((await render(client, admin, document)).content)).convert("RGB")
    assert rgb.getpixel((5, 25)) == (0, 0, 255) and rgb.getpixel((45, 25)) == (255, 0, 0)


def text_doc(text, **style):
    return {
        "width": 700,
        "height": 200,
        "background": "#ffffff",
        "components": [
            {
                "type": "text",
                "text": text,
                "fontSize": 40,
                "x": 20,
                "y": 20,
                "color": "#000000",
                **style,
            }
        ],
    }


async def ink_of(client, admin, document):
    image = Image.open(io.BytesIO((await render(client, admin, document)).content))
    return ink_mask(image, (255, 255, 255))


async def test_cjk_falls_back_and_wraps_per_character(client, admin):
    in_inter = await ink_of(client, admin, text_doc("你好世界", fontFamily="Inter"))
    in_sc = await ink_of(client, admin, text_doc("你好世界", fontFamily="Noto Sans SC"))
    assert in_inter.getbbox() is not None
    # The fallback draws Noto Sans SC's glyphs (not Inter's empty boxes): the same shapes,
    # on the baseline of Inter's line box.
    a, b = in_inter.crop(in_inter.getbbox()), in_sc.crop(in_sc.getbbox())
    assert a.size == b.size and in_inter.getbbox()[0] == in_sc.getbbox()[0]
    assert ImageChops.difference(a, b).getbbox() is None

    wrapped = await ink_of(client, admin, text_doc("汉字没有空格也会按字换行显示", frameWidth=130))
    box = wrapped.getbbox()
    assert box[2] <= 20 + 130 and box[3] - box[1] > 3 * 40  # 3 characters a line, 4+ lines


async def test_weights_and_italic_change_the_drawing(client, admin):
    thin = await ink_of(client, admin, text_doc("Weight", fontWeight="100"))
    black = await ink_of(client, admin, text_doc("Weight", fontWeight="900"))
    count = lambda mask: sum(1 for v in pixels(mask) if v)  # noqa: E731
    assert count(black) > 2 * count(thin)
    upright = await ink_of(client, admin, text_doc("Italic", fontFamily="Poppins"))
    italic = await ink_of(
        client, admin, text_doc("Italic", fontFamily="Poppins", fontStyle="italic")
    )
    assert ImageChops.difference(upright, italic).getbbox() is not None
    # Playfair Display starts at 400: a thinner request still renders, with the nearest face.
    await render(client, admin, text_doc("Serif", fontFamily="Playfair Display", fontWeight="100"))


async def test_missing_fonts_answer_503_naming_the_install_command(client, admin, env, monkeypatch):
    from pixhaven.render.fonts import LIBRARY

    monkeypatch.delattr(env, "FONT_INSTALLER")
    LIBRARY.clear()
    body = assert_error_envelope(
        await client.post("/api/v1/image", json=SEED_EXAMPLE, headers=admin),
        503,
        "FONTS_NOT_INSTALLED",
    )
    assert "pixhaven fonts install" in body["error"]
    assert body["details"]["missing"] == "fonts/inter/Inter_700Bold.ttf"
    # Dividers need no font: they still render.
    response = await client.post(
        "/api/v1/image",
        headers={**admin, "Accept": "image/png"},
        json={"width": 10, "height": 10, "components": [{"type": "divider", "length": 5}]},
    )
    assert response.status_code == 200


async def test_craftr_renders_are_usage_events(client, admin, env):
    from pixhaven.db import usage_events

    document = {
        "width": 200,
        "height": 100,
        "background": "#ffffff",
        "components": [
            {
                "type": "divider",
                "length": 100,
                "width": "thin",
                "direction": "horizontal",
                "color": "#000000",
                "x": 10,
                "y": 10,
            }
        ],
    }
    response = await client.post(
        "/api/v1/image", json=document, headers={**admin, "Accept": "image/png"}
    )
    assert response.status_code == 200
    events = await usage_events.list_for_owner(env.DB, "default_user", "render")
    assert [(e["detail"]["api"], e["detail"]["format"], e["detail"]["width"]) for e in events] == [
        ("craftr", "image/png", 200)
    ]


async def test_monthly_render_limit_answers_429_with_retry_after(app, env, client_from, admin):
    """Craftr's plans count renders per month: past RENDER_MONTHLY_LIMIT the answer is 429
    with `retryAfter`, the first moment of next month."""
    import re

    env.RENDER_MONTHLY_LIMIT = "2"
    document = {"width": 50, "height": 50, "background": "#ffffff", "components": []}
    async with client_from() as http:
        for _ in range(2):
            ok = await http.post("/api/v1/image", json=document, headers=admin)
            assert ok.status_code == 200
        refused = await http.post("/api/v1/image", json=document, headers=admin)
    body = assert_error_envelope(refused, 429, "RATE_LIMITED")
    assert body["error"] == "Rate limit exceeded"
    assert re.fullmatch(r"\d{4}-\d\d-01T00:00:00\.000Z", body["retryAfter"])
    assert int(refused.headers["retry-after"]) > 0
    assert body["details"]["limit"] == 2


@pytest.mark.parametrize(
    "component,field",
    [
        ({"type": "text", "text": "a", "y": False}, "y"),
        ({"type": "text", "text": "a", "frameWidth": True}, "frameWidth"),
        ({"type": "divider", "length": True}, "length"),
    ],
)
async def test_booleans_are_not_numbers(client, admin, component, field):
    response = await client.post(
        "/api/v1/image",
        headers=admin,
        json={"width": 100, "height": 100, "components": [component]},
    )
    body = assert_error_envelope(response, 400)
    assert f"{field}: must be a number, not true/false" in body["error"]
