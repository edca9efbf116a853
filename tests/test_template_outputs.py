"""What a Pictify template renders to, as Pictify's clients ask: every `format`
(`fileExtension` too), PDFs from a template (`format: pdf`, `variableSets`, presets, and
`POST /pdf/render` / `/pdf/multi-page` with a `templateUid`), layouts (`layout`,
`layouts`, with unknown ones in `errors[]`), `multi-size-render`, and the template fields
beside the document (`outputFormat`, `type`, `category`, `tags`, `layouts`).

HTML templates go through the local browser; component templates through the renderer."""

import io

from pypdf import PdfReader

from tests.browser_support import image, near
from tests.conftest import assert_error_envelope, served
from tests.test_html_pdf import points as size_pt
from tests.test_templates import TEMPLATE

A4_PT = (596, 842)  # 210 x 297 mm in points, to the nearest 2 (tests/test_html_pdf.py)
HTML = {
    "name": "Invoice",
    "html": (
        '<html><body style="margin:0;background:#00ff00;font:24px sans-serif">'
        "<p>Invoice {{number}} for {{uppercase(customer)}}</p></body></html>"
    ),
    "width": 400,
    "height": 300,
    "layouts": [{"name": "square", "width": 200, "height": 200, "label": "Square"}],
}


async def create(client, admin, body):
    response = await client.post("/templates", json=body, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["template"]


async def post(client, admin, path, body, status=200):
    response = await client.post(path, json=body, headers=admin)
    assert response.status_code == status, response.text
    return response.json()


async def pdf_at(client, url: str) -> PdfReader:
    response = await served(client, url)
    assert response.headers["content-type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


async def test_template_fields_beside_the_document(client, admin):
    created = await create(
        client,
        admin,
        {**HTML, "type": "invoice", "category": "document", "tags": ["billing", "billing"]},
    )
    assert (created["type"], created["category"], created["tags"]) == (
        "invoice",
        "document",
        ["billing"],
    )
    assert created["engine"] == "html" and created["outputFormat"] == "image"
    layouts = {layout["name"]: layout for layout in created["layouts"]}
    assert layouts["default"] == {
        "name": "default",
        "label": "Default",
        "width": 400,
        "height": 300,
    }
    assert layouts["square"] == {"name": "square", "label": "Square", "width": 200, "height": 200}
    assert (layouts["twitter-post"]["width"], layouts["twitter-post"]["height"]) == (1200, 675)
    # An update keeps what it does not name and replaces what it does.
    response = await client.put(
        f"/templates/{created['uid']}", json={"outputFormat": "pdf", "tags": []}, headers=admin
    )
    updated = response.json()["template"]
    assert (updated["outputFormat"], updated["tags"], updated["category"]) == (
        "pdf",
        [],
        "document",
    )
    assert any(layout["name"] == "square" for layout in updated["layouts"])


async def test_every_image_format_of_a_template(client, admin, browser_available):
    html = (await create(client, admin, HTML))["uid"]
    component = (await create(client, admin, TEMPLATE))["uid"]
    variables = {"number": "7", "customer": "ada", "name": "Ada"}
    for uid in (html, component):
        for field, value, kind in (
            ("format", "jpeg", "JPEG"),
            ("fileExtension", "jpeg", "JPEG"),  # Pictify's other name for it
            ("format", "webp", "WEBP"),
            ("format", "png", "PNG"),
        ):
            answer = await post(
                client, admin, f"/templates/{uid}/render", {"variables": variables, field: value}
            )
            picture = image((await served(client, answer["url"])).content)
            assert picture.format == kind, (uid, field, value)
            assert answer["results"][0]["url"] == answer["url"]
    refused = assert_error_envelope(
        await client.post(
            f"/templates/{html}/render",
            json={"variables": variables, "format": "svg"},
            headers=admin,
        ),
        400,
    )
    assert refused["details"]["errors"][0]["field"] == "format"


async def test_a_template_as_a_pdf(client, admin, browser_available):
    uid = (await create(client, admin, HTML))["uid"]
    # format pdf: one page, the template's own size unless a preset is given.
    own = await post(
        client,
        admin,
        f"/templates/{uid}/render",
        {"variables": {"number": "1", "customer": "ada"}, "format": "pdf"},
    )
    assert own["format"] == "pdf" and own["results"][0]["format"] == "pdf"
    assert own["pageCount"] == 1 and own["pageSize"] == {"width": 400, "height": 300}
    reader = await pdf_at(client, own["url"])
    assert size_pt(reader.pages[0]) == (300, 224)  # 400 x 300 px: 300 x 225 pt
    assert "Invoice 1 for ADA" in reader.pages[0].extract_text()

    # variableSets: one page per set, on A4 (the MCP server sends `preset` at the top).
    pages = await post(
        client,
        admin,
        f"/templates/{uid}/render",
        {
            "format": "pdf",
            "preset": "A4",
            "variableSets": [{"number": str(n), "customer": "bob"} for n in (1, 2, 3)],
        },
    )
    reader = await pdf_at(client, pages["url"])
    assert len(reader.pages) == 3 and pages["preset"] == "A4"
    assert all(size_pt(page) == A4_PT for page in reader.pages)
    assert "Invoice 3 for BOB" in reader.pages[2].extract_text()

    # A template whose outputFormat is pdf renders a PDF without being asked.
    await client.put(f"/templates/{uid}", json={"outputFormat": "pdf"}, headers=admin)
    default = await post(
        client, admin, f"/templates/{uid}/render", {"variables": {"customer": "c", "number": "9"}}
    )
    assert default["format"] == "pdf" and (await pdf_at(client, default["url"])).pages

    # variableSets without pdf is refused: one image per set is a batch.
    refused = assert_error_envelope(
        await client.post(
            f"/templates/{uid}/render",
            json={"format": "png", "variableSets": [{"customer": "x"}]},
            headers=admin,
        ),
        400,
    )
    assert refused["details"]["errors"][0]["field"] == "variableSets"


async def test_pdf_routes_render_a_template(client, admin, browser_available):
    # The issue's case: this answered a blank 1200 x 630 page.
    uid = (await create(client, admin, HTML))["uid"]
    one = await post(
        client,
        admin,
        "/pdf/render",
        {
            "templateUid": uid,
            "variables": {"number": "42", "customer": "ada"},
            "options": {"preset": "A4", "margins": {"top": 40, "bottom": 40}},
        },
    )
    assert (one["pageCount"], one["preset"]) == (1, "A4")
    reader = await pdf_at(client, one["url"])
    assert size_pt(reader.pages[0]) == A4_PT
    assert "Invoice 42 for ADA" in reader.pages[0].extract_text()

    several = await post(
        client,
        admin,
        "/pdf/multi-page",
        {
            "templateUid": uid,
            "variableSets": [{"number": "1", "customer": "a"}, {"number": "2", "customer": "b"}],
            "options": {"preset": "Letter"},
        },
    )
    reader = await pdf_at(client, several["url"])
    assert [size_pt(page) for page in reader.pages] == [(612, 792)] * 2
    assert "Invoice 2 for B" in reader.pages[1].extract_text()

    missing = assert_error_envelope(
        await client.post("/pdf/render", json={"templateUid": "tpl_nope"}, headers=admin), 404
    )
    assert "Template" in missing["error"]


async def test_pdf_of_a_component_template(client, admin):
    uid = (await create(client, admin, TEMPLATE))["uid"]
    one = await post(
        client, admin, "/pdf/render", {"templateUid": uid, "variables": {"name": "Ada"}}
    )
    reader = await pdf_at(client, one["url"])
    assert size_pt(reader.pages[0]) == (
        224,
        112,
    )  # 225 x 112.5 pt: the document's 300 x 150 px canvas
    assert "Hello Ada!" in reader.pages[0].extract_text()
    a4 = await post(
        client,
        admin,
        f"/templates/{uid}/render",
        {
            "format": "pdf",
            "options": {"preset": "A4"},
            "variableSets": [{"name": "A"}, {"name": "B"}],
        },
    )
    reader = await pdf_at(client, a4["url"])
    assert [size_pt(page) for page in reader.pages] == [A4_PT, A4_PT]
    assert "Hello B!" in reader.pages[1].extract_text()
    margins = assert_error_envelope(
        await client.post(
            "/pdf/render",
            json={
                "templateUid": uid,
                "variables": {"name": "A"},
                "options": {"preset": "A4", "margins": {"top": 10}},
            },
            headers=admin,
        ),
        400,
    )
    assert margins["details"]["errors"][0]["field"] == "options.margins"


async def test_layouts(client, admin, browser_available):
    uid = (await create(client, admin, HTML))["uid"]
    answer = await post(
        client,
        admin,
        f"/templates/{uid}/render",
        {
            "variables": {"number": "1", "customer": "ada"},
            "layouts": ["default", "square", "twitter-post", "nope"],
        },
    )
    sizes = {item["layout"]: (item["width"], item["height"]) for item in answer["results"]}
    assert sizes == {"default": (400, 300), "square": (200, 200), "twitter-post": (1200, 675)}
    assert answer["errors"] == [{"layout": "nope", "error": "The template has no layout 'nope'"}]
    assert (answer["totalLayouts"], answer["totalRendered"], answer["totalErrors"]) == (4, 3, 1)
    for item in answer["results"]:
        picture = image((await served(client, item["url"])).content)
        assert picture.size == sizes[item["layout"]]
        assert near(
            picture.convert("RGB").getpixel((picture.width - 2, picture.height - 2)), (0, 255, 0)
        )
    assert [item["name"] for item in answer["results"]] == ["Default", "Square", "X (Twitter) post"]

    single = await post(
        client, admin, f"/templates/{uid}/render", {"layout": "square", "variables": {}}
    )
    assert [item["layout"] for item in single["results"]] == ["square"]
    none = assert_error_envelope(
        await client.post(f"/templates/{uid}/render", json={"layouts": ["nope"]}, headers=admin),
        400,
    )
    assert none["details"]["errors"] == [
        {"layout": "nope", "error": "The template has no layout 'nope'"}
    ]


async def test_multi_size_render(client, admin):
    uid = (await create(client, admin, TEMPLATE))["uid"]
    answer = await post(
        client,
        admin,
        f"/templates/{uid}/multi-size-render",
        {
            "variables": {"name": "Ada"},
            "format": "webp",
            "sizes": [
                {"label": "og", "width": 1200, "height": 630},
                {"preset": "instagram-post"},
            ],
        },
    )
    assert answer["totalRendered"] == 2 and answer["templateUid"] == uid
    og, square = answer["results"]
    assert og["size"] == {"width": 1200, "height": 630, "preset": None, "label": "og"}
    assert square["size"] == {"width": 1080, "height": 1080, "preset": "instagram-post"}
    for result in answer["results"]:
        picture = image((await served(client, result["url"])).content)
        assert picture.format == "WEBP"
        assert picture.size == (result["size"]["width"], result["size"]["height"])
    refused = assert_error_envelope(
        await client.post(
            f"/templates/{uid}/multi-size-render",
            json={"sizes": [{"width": 5, "height": 100}]},
            headers=admin,
        ),
        400,
    )
    assert refused["details"]["errors"][0]["field"] == "sizes[0].width"


async def test_a_fabric_template_as_a_pdf_and_in_layouts(client, admin, browser_available):
    from tests.test_fabric_templates import CREATE as FABRIC

    uid = (await create(client, admin, FABRIC))["uid"]
    values = {"title": "Hi", "accent": "#0000ff"}
    own = await post(
        client, admin, f"/templates/{uid}/render", {"variables": values, "format": "pdf"}
    )
    reader = await pdf_at(client, own["url"])
    assert len(reader.pages) == 1 and size_pt(reader.pages[0]) == (
        150,
        76,
    )  # 200 x 100 px: 150 x 75 pt
    [drawing] = reader.pages[0].images  # the FabricJS drawing, printed as an image
    picture = drawing.image.convert("RGB")
    assert near(picture.getpixel((10, 10)), (0, 0, 255))  # the bound fill
    several = await post(
        client,
        admin,
        "/pdf/multi-page",
        {"templateUid": uid, "variableSets": [values, {**values, "title": "Yo"}]},
    )
    assert len((await pdf_at(client, several["url"])).pages) == 2
    layouts = await post(
        client,
        admin,
        f"/templates/{uid}/render",
        {"variables": values, "layouts": ["default", "instagram-post"]},
    )
    assert [(r["width"], r["height"]) for r in layouts["results"]] == [(200, 100), (1080, 1080)]
    too_many = assert_error_envelope(
        await client.post(
            f"/templates/{uid}/render",
            json={"format": "pdf", "variableSets": [values] * 21},
            headers=admin,
        ),
        400,
    )
    assert too_many["details"]["errors"][0]["field"] == "variableSets"


async def test_a_gif_from_a_template(client, admin, browser_available):
    # Pictify's GifRequest `template` + `variables` (what the SDK's render_gif sends).
    document = (await create(client, admin, TEMPLATE))["uid"]
    answer = await post(
        client, admin, "/gif", {"template": document, "variables": {"name": "Ada"}, "width": 120}
    )
    picture = image((await served(client, answer["url"])).content)
    assert picture.format == "GIF" and picture.size == (120, 150)
    assert near(picture.convert("RGB").getpixel((119, 149)), (0x10, 0x20, 0x30))  # bg default

    html = (await create(client, admin, HTML))["uid"]
    body = {"templateUid": html, "variables": {"customer": "x"}, "quality": "low"}
    answer = await post(client, admin, "/gif", body)
    assert answer["gif"]["width"] == 400 and answer["gif"]["height"] == 300
    picture = image((await served(client, answer["url"])).content).convert("RGB")
    assert near(picture.getpixel((399, 299)), (0, 255, 0))
    missing = assert_error_envelope(
        await client.post("/gif", json={"template": "tpl_none"}, headers=admin), 404
    )
    assert "Template" in missing["error"]
