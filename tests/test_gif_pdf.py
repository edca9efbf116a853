"""Pictify POST /gif, /pdf/render and /pdf/multi-page: what is in the files, through HTTP.

GIFs are decoded with Pillow (frame count, per-frame delay, loop, pixels of every frame);
PDFs are read with pypdf (page count and sizes, extractable text, embedded TrueType fonts).
Fonts come from the local runtime's installer, as in test_render_craftr.py.
"""

import io

import pytest
from PIL import Image, ImageSequence

from tests.conftest import assert_error_envelope, bearer

pypdf = pytest.importorskip("pypdf")

COLOURS = ["#102030", "#aa2200", "#00aa44"]
RGB = [(16, 32, 48), (170, 34, 0), (0, 170, 68)]


def frame(number: int, background: str, **extra) -> dict:
    return {
        "background": background,
        **extra,
        "components": [
            {
                "type": "text",
                "text": f"Frame {number}",
                "fontSize": 40,
                "fontWeight": "700",
                "color": "#ffffff",
                "x": 20,
                "y": 20,
            },
            {
                "type": "divider",
                "length": 200,
                "width": "thick",
                "color": "#ffcc00",
                "x": 20,
                "y": 120,
            },
            {
                "type": "tag",
                "text": "Live",
                "fontSize": 16,
                "backgroundColor": "#ff0066",
                "x": 20,
                "y": 150,
            },
        ],
    }


def gif_body(**extra) -> dict:
    return {
        "width": 320,
        "height": 200,
        "delay": 250,
        "loop": 3,
        "frames": [
            frame(0, COLOURS[0], delay=120),
            frame(1, COLOURS[1]),  # inherits the top-level delay
            frame(2, COLOURS[2], duration=1000),  # `duration` is accepted as well
        ],
        **extra,
    }


def decode_gif(data: bytes):
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    frames, delays = [], []
    for current in ImageSequence.Iterator(gif):
        delays.append(current.info["duration"])
        frames.append(current.convert("RGB"))
    return gif, frames, delays


async def test_gif_has_the_frames_delays_loop_and_pixels_asked_for(client, admin):
    response = await client.post("/gif", json=gif_body(), headers=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) >= {"url", "id", "createdAt", "width", "height"}
    assert (answer["width"], answer["height"]) == (320, 200)
    assert answer["createdAt"].endswith("Z")

    served = await client.get(answer["url"].removeprefix("http://testserver"))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/gif"
    gif, frames, delays = decode_gif(served.content)
    assert gif.n_frames == 3 and gif.is_animated
    assert gif.size == (320, 200)
    assert delays == [120, 250, 1000]
    assert gif.info["loop"] == 3
    for index, pixels in enumerate(frames):
        # Each frame drew its own background, exactly (no palette drift), ...
        for corner in [(0, 0), (319, 0), (0, 199), (319, 199)]:
            assert pixels.getpixel(corner) == RGB[index], (index, corner)
        # ... its white title, yellow divider and pink pill where the document put them.
        title = pixels.crop((20, 20, 260, 80))
        assert title.convert("L").getextrema()[1] >= 245
        assert pixels.getpixel((100, 121)) == (255, 204, 0)
        pill = pixels.crop((20, 150, 80, 175))
        assert (255, 0, 102) in {colour for _, colour in pill.getcolors(10_000)}
        # Nothing is drawn far from the components.
        assert pixels.crop((260, 100, 320, 200)).getextrema() == tuple((c, c) for c in RGB[index])


async def test_gif_frames_that_look_alike_still_count(client, admin):
    """Identical consecutive frames are kept (Pillow's writer would merge them)."""
    same = frame(0, COLOURS[0])
    body = {"width": 200, "height": 120, "frames": [same, same, same], "delay": 100}
    response = await client.post("/gif", json=body, headers=admin)
    assert response.status_code == 200, response.text
    data = (await client.get(response.json()["url"].removeprefix("http://testserver"))).content
    gif, frames, delays = decode_gif(data)
    assert gif.n_frames == 3 and delays == [100, 100, 100]
    assert gif.info["loop"] == 0  # forever by default


async def test_gif_is_an_image_of_its_owner(client, admin, make_key, env):
    key, _ = await make_key(["render", "images:read"], owner="gif-owner")
    response = await client.post("/gif", json=gif_body(), headers=bearer(key))
    assert response.status_code == 200, response.text
    image_id = response.json()["id"]
    listed = await client.get("/api/images", headers=bearer(key))
    assert listed.status_code == 200, listed.text
    images = {i["id"]: i for i in listed.json()["images"]}
    assert images[image_id]["source"] == "render"
    assert images[image_id]["format"] == "gif"
    from pixhaven.db import usage_events

    events = await usage_events.list_for_owner(env.DB, "gif-owner", kind="render")
    assert [e["detail"]["id"] for e in events] == [image_id]
    assert events[0]["detail"]["frames"] == 3


async def test_gif_many_colours_stay_crisp(client, admin):
    """A photo-like frame (more than 256 colours) is median-cut; the document's own colours
    come back exact."""
    gradient = Image.linear_gradient("L").resize((256, 256)).convert("RGB")
    gradient = Image.merge(
        "RGB",
        (gradient.getchannel(0), gradient.rotate(90).getchannel(0), Image.new("L", (256, 256), 90)),
    )
    buffer = io.BytesIO()
    gradient.save(buffer, "PNG")
    import base64

    src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    body = {
        "width": 400,
        "height": 200,
        "frames": [
            {
                **frame(0, COLOURS[0]),
                "components": frame(0, COLOURS[0])["components"]
                + [{"type": "image", "src": src, "width": 120, "height": 120, "x": 260, "y": 40}],
            },
            frame(1, COLOURS[1]),
        ],
    }
    response = await client.post("/gif", json=body, headers=admin)
    assert response.status_code == 200, response.text
    data = (await client.get(response.json()["url"].removeprefix("http://testserver"))).content
    gif, frames, _ = decode_gif(data)
    assert gif.n_frames == 2
    assert frames[0].getpixel((0, 0)) == RGB[0]
    assert frames[0].getpixel((100, 121)) == (255, 204, 0)
    assert frames[1].getpixel((0, 0)) == RGB[1]
    # The image's many colours survive as many colours.
    assert len(frames[0].crop((262, 42, 378, 158)).getcolors(100_000)) > 64


async def test_gif_transparent_background(client, admin):
    body = {
        "width": 200,
        "height": 100,
        "background": "#00000000",
        "frames": [
            {
                "components": [
                    {
                        "type": "divider",
                        "length": 100,
                        "width": "thick",
                        "color": "#ff0000",
                        "x": 10,
                        "y": 10,
                    }
                ]
            },
            {
                "components": [
                    {
                        "type": "divider",
                        "length": 100,
                        "width": "thick",
                        "color": "#0000ff",
                        "x": 10,
                        "y": 50,
                    }
                ]
            },
        ],
    }
    response = await client.post("/gif", json=body, headers=admin)
    assert response.status_code == 200, response.text
    data = (await client.get(response.json()["url"].removeprefix("http://testserver"))).content
    gif = Image.open(io.BytesIO(data))
    rgba = [f.convert("RGBA") for f in ImageSequence.Iterator(gif)]
    assert rgba[0].getpixel((0, 0))[3] == 0
    assert rgba[0].getpixel((50, 11)) == (255, 0, 0, 255)
    assert rgba[1].getpixel((50, 51)) == (0, 0, 255, 255)
    assert rgba[1].getpixel((50, 11))[3] == 0  # the first frame was disposed


async def test_gif_accept_image_gif_returns_the_file(client, admin):
    response = await client.post("/gif", json=gif_body(), headers={**admin, "Accept": "image/gif"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert Image.open(io.BytesIO(response.content)).n_frames == 3


@pytest.mark.parametrize(
    "body, field",
    [
        ({"width": 100, "height": 100}, "frames"),
        ({"frames": []}, "frames"),
        ({"frames": "nope"}, "frames"),
        ({"width": 10, "height": 10, "frames": [{"components": []}] * 101}, "frames"),
        ({"frames": [{"components": [], "delay": -5}]}, "frames[0].delay"),
        ({"frames": [{"components": [], "delay": "fast"}]}, "frames[0].delay"),
        ({"frames": [{"components": []}], "delay": 10**9}, "delay"),
        ({"frames": [{"components": []}], "loop": -1}, "loop"),
        ({"frames": [{"components": []}], "loop": 1.5}, "loop"),
        (
            {
                "frames": [
                    {"width": 100, "height": 100, "components": []},
                    {"width": 200, "height": 100, "components": []},
                ]
            },
            "frames[1]",
        ),
        ({"width": 2000, "height": 1000, "frames": [{"components": []}] * 20}, "frames"),
        ({"width": 4000, "height": 2000, "frames": [{"components": []}]}, "width"),
    ],
)
async def test_gif_validation(client, admin, body, field):
    response = await client.post("/gif", json=body, headers=admin)
    details = assert_error_envelope(response, 400)["details"]
    assert details["errors"][0]["field"] == field, details


async def test_gif_frame_errors_name_the_frame_and_component(client, admin):
    body = {
        "frames": [
            {"components": []},
            {"components": [{"type": "text", "text": "x", "color": "red"}]},
        ]
    }
    response = await client.post("/gif", json=body, headers=admin)
    body = assert_error_envelope(response, 400)
    assert body["error"].startswith("frames[1]: Invalid component 0 (text): color")
    assert body["details"]["frame"] == 1


async def test_gif_and_pdf_need_the_render_scope(client, make_key):
    key, _ = await make_key(["images:read"])
    for path in ("/gif", "/pdf/render", "/pdf/multi-page"):
        assert_error_envelope(await client.post(path, json={}, headers=bearer(key)), 403)
        assert_error_envelope(await client.post(path, json={}), 401)


# -- PDF --------------------------------------------------------------------------------------


def page(title: str, width: int, height: int, background="#ffffff", extra=()) -> dict:
    return {
        "width": width,
        "height": height,
        "background": background,
        "components": [
            {
                "type": "text",
                "text": title,
                "fontSize": 48,
                "fontWeight": "700",
                "fontFamily": "Inter",
                "color": "#111111",
                "x": 40,
                "y": 40,
            },
            {
                "type": "text",
                "text": "Body copy in Roboto wraps inside its frame",
                "fontSize": 20,
                "fontFamily": "Roboto",
                "color": "#333333",
                "x": 40,
                "y": 120,
                "frameWidth": 260,
            },
            {
                "type": "divider",
                "length": 300,
                "width": "medium",
                "color": "#0070f3",
                "x": 40,
                "y": 220,
            },
            {
                "type": "tag",
                "text": "Invoice",
                "fontSize": 16,
                "backgroundColor": "#ff0066",
                "x": 40,
                "y": 240,
            },
            *extra,
        ],
    }


def read_pdf(data: bytes):
    assert data.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(data))


def page_size(pdf_page) -> tuple[float, float]:
    box = pdf_page.mediabox
    return float(box.width), float(box.height)


def embedded_font_files(reader) -> dict[str, str]:
    """BaseFont name → the font file key of its descriptor (/FontFile2 = TrueType)."""
    found = {}
    for pdf_page in reader.pages:
        fonts = pdf_page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = None
            if "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = (descriptor or font.get("/FontDescriptor")).get_object()
            for key in ("/FontFile2", "/FontFile3", "/FontFile"):
                if key in descriptor:
                    found[str(font["/BaseFont"])] = key
    return found


async def fetch(client, url: str):
    return await client.get(url.removeprefix("http://testserver"))


async def test_pdf_render_one_page_text_fonts_and_serving(client, admin):
    response = await client.post("/pdf/render", json=page("Hello PDF", 800, 400), headers=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["pages"] == 1 and (answer["width"], answer["height"]) == (800, 400)
    assert answer["url"].endswith(f"/r2/renders/{answer['id']}.pdf")
    assert answer["createdAt"].endswith("Z")

    served = await fetch(client, answer["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/pdf"
    reader = read_pdf(served.content)
    assert len(reader.pages) == 1
    assert page_size(reader.pages[0]) == (600, 300)  # 1 px = 0.75 pt
    text = reader.pages[0].extract_text()
    for expected in ("Hello PDF", "Invoice", "Body copy"):
        assert expected in text, text
    fonts = embedded_font_files(reader)
    # Inter Bold (title), Roboto (body), Inter SemiBold (the tag's default weight).
    assert len(fonts) == 3 and set(fonts.values()) == {"/FontFile2"}, fonts
    # Subset fonts carry the six-letter tag prefix.
    assert all(name[1:7].isupper() and name[7] == "+" for name in fonts), fonts


async def test_pdf_multi_page_each_page_its_own_size(client, admin):
    body = {
        "pages": [
            page("First page", 800, 400),
            page("Second page", 600, 900),
            {
                "components": [
                    {"type": "text", "text": "Third 第三页", "fontSize": 30, "x": 10, "y": 10}
                ]
            },
        ],
        "width": 1000,
        "height": 500,
    }
    response = await client.post("/pdf/multi-page", json=body, headers=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["pages"] == 3
    assert answer["pageSizes"] == [
        {"width": 800, "height": 400},
        {"width": 600, "height": 900},
        {"width": 1000, "height": 500},
    ]
    reader = read_pdf((await fetch(client, answer["url"])).content)
    assert [page_size(p) for p in reader.pages] == [(600, 300), (450, 675), (750, 375)]
    assert "First page" in reader.pages[0].extract_text()
    assert "Second page" in reader.pages[1].extract_text()
    third = reader.pages[2].extract_text()
    assert "Third" in third and "第三页" in third, third  # CJK through the fallback face


async def test_pdf_text_sits_where_the_layout_put_it(client, admin):
    """The first glyph of each text run starts at the component's x (in pt) and its
    baseline lies inside the component's box."""
    response = await client.post(
        "/pdf/render", json=page("Placed", 800, 400), headers={**admin, "Accept": "application/pdf"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = read_pdf(response.content)
    positions = {}

    def visitor(text, cm, tm, font, size):
        if text.strip():
            positions.setdefault(text.strip(), (tm[4], tm[5]))

    reader.pages[0].extract_text(visitor_text=visitor)
    x, y = positions["Placed"]
    assert abs(x - 40 * 0.75) < 0.5
    page_height_pt = 300
    baseline_px = (page_height_pt - y) / 0.75
    assert 40 + 30 < baseline_px < 40 + 60  # a 48 px line's baseline, below its top at 40


async def test_pdf_embeds_clipped_images(client, admin):
    import base64

    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (0, 200, 80)).save(buffer, "PNG")
    src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    image = {
        "type": "image",
        "src": src,
        "width": 200,
        "height": 120,
        "radius": 30,
        "x": 500,
        "y": 200,
    }
    response = await client.post(
        "/pdf/render",
        json=page("Picture", 800, 400, extra=[image]),
        headers={**admin, "Accept": "application/pdf"},
    )
    assert response.status_code == 200, response.text
    reader = read_pdf(response.content)
    images = reader.pages[0].images
    assert len(images) == 1
    content = reader.pages[0].get_contents().get_data()
    assert b" W n" in content  # the rounded clipping path


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/pdf/render", [], 400),
        ("/pdf/render", {"width": 0}, 400),
        ("/pdf/render", {"components": [{"type": "circle"}]}, 400),
        ("/pdf/multi-page", {}, 400),
        ("/pdf/multi-page", {"pages": []}, 400),
        ("/pdf/multi-page", {"pages": [{"components": []}] * 51}, 400),
        ("/pdf/multi-page", {"pages": [{"components": []}, 5]}, 400),
    ],
)
async def test_pdf_validation(client, admin, path, body, status):
    assert_error_envelope(await client.post(path, json=body, headers=admin), status)


async def test_rendered_pdf_keys_are_checked(client):
    assert_error_envelope(await client.get("/r2/renders/not-a-uuid.pdf"), 404)
    missing = "/r2/renders/00000000-0000-4000-8000-000000000000.pdf"
    assert_error_envelope(await client.get(missing), 404)
    assert_error_envelope(await client.get("/r2/renders/..%2Fimages.pdf"), 400)


@pytest.mark.parametrize(
    "path,body",
    [
        ("/gif", gif_body()),
        ("/pdf/render", page("Invoice", 400, 300)),
        ("/pdf/multi-page", {"pages": [page("One", 300, 200), page("Two", 200, 300)]}),
    ],
)
async def test_idempotency_key_replays_gif_and_pdf_answers(client, admin, env, path, body):
    """As on POST /image: the same key and body answer the first result again, once."""
    headers = {**admin, "Idempotency-Key": f"key-{path}"}
    first = await client.post(path, json=body, headers=headers)
    assert first.status_code == 200, first.text
    again = await client.post(path, json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    events = await env.DB.prepare("SELECT COUNT(*) AS n FROM usage_events").first("n")
    assert events == 1
    other = await client.post(path, json={**body, "background": "#123456"}, headers=headers)
    assert_error_envelope(other, 422, "IDEMPOTENCY_KEY_REUSED")
