"""Pictify `POST /pdf/render` with `html` and `POST /pdf/multi-page` with HTML `pages`,
printed by the local browser and stored as PDFs; `GET /pdf/presets`. Every PDF is fetched
back from its `url` and read with pypdf: page count, page size, text."""

import io

import pytest
from pypdf import PdfReader

from pixhaven.services.rendering import html_pdf
from tests.conftest import assert_error_envelope, bearer, served

PAGE_ONE = (
    "<html><head><style>body{background:#fff}h1{color:#c00}</style></head>"
    "<body><h1>Quarterly report</h1><p>Revenue grew.</p></body></html>"
)
# Its own styles must not leak into page one, nor page one's into it.
PAGE_TWO = "<style>h1{color:#00c}</style><h1>Appendix</h1><p>Tables follow.</p>"


async def fetched_pdf(client, answer: dict) -> PdfReader:
    response = await served(client, answer["url"])
    assert response.headers["content-type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def points(page) -> tuple[int, int]:
    """A page's size in points, to the nearest 2 pt (Chromium rounds the paper size to
    whole CSS pixels: A4's 595.3 x 841.9 pt comes out as 596 x 843)."""
    box = page.mediabox
    return round(float(box.width) / 2) * 2, round(float(box.height) / 2) * 2


async def test_two_html_pages_are_two_a4_pages_with_their_text(client, admin, browser_available):
    body = {"pages": [PAGE_ONE, PAGE_TWO], "options": {"title": "Q3 <report>"}}
    response = await client.post("/pdf/multi-page", json=body, headers=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["success"] is True and answer["pageCount"] == 2 and answer["pages"] == 2
    assert answer["preset"] == "A4" and answer["pageSize"] == {"width": 794, "height": 1123}
    reader = await fetched_pdf(client, answer)
    assert len(reader.pages) == 2
    assert [points(page) for page in reader.pages] == [(596, 842), (596, 842)]
    first, second = (page.extract_text() for page in reader.pages)
    assert "Quarterly report" in first and "Revenue grew." in first and "Appendix" not in first
    assert "Appendix" in second and "Tables follow." in second
    assert reader.metadata.title == "Q3 <report>"


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ({"preset": "Letter"}, (612, 792)),
        ({"preset": "A5"}, (420, 596)),
        ({"preset": "custom", "customSize": {"width": 400, "height": 300}}, (300, 224)),
    ],
)
async def test_presets_and_custom_sizes(client, admin, browser_available, options, size):
    body = {"html": PAGE_ONE, "options": {**options, "margins": {"top": 20, "left": 20}}}
    response = await client.post("/pdf/render", json=body, headers=admin)
    assert response.status_code == 200, response.text
    reader = await fetched_pdf(client, response.json())
    assert len(reader.pages) == 1 and points(reader.pages[0]) == size
    assert "Quarterly report" in reader.pages[0].extract_text()


async def test_a_long_document_prints_as_many_pages_as_it_needs(client, admin, browser_available):
    long = "".join(f"<p style='height:400px'>Section {n}</p>" for n in range(6))
    response = await client.post("/pdf/render", json={"html": long}, headers=admin)
    answer = response.json()
    reader = await fetched_pdf(client, answer)
    assert answer["pageCount"] == len(reader.pages) >= 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert all(f"Section {n}" in text for n in range(6))
    assert "Section 0" not in reader.pages[1].extract_text()


@pytest.mark.parametrize(
    ("document", "titled"),
    [
        ("<html><head><title>Own</title></head>", "<html><head><title>T &amp; C</title><title>Own"),
        (
            "<!DOCTYPE html><HTML lang=en><p>x",
            "<!DOCTYPE html><HTML lang=en><title>T &amp; C</title><p>x",
        ),
        ("<!doctype html><p>x", "<!doctype html><title>T &amp; C</title><p>x"),
        ("<p>x</p>", "<title>T &amp; C</title><p>x</p>"),
    ],
)
def test_the_title_goes_into_the_head(document, titled):
    assert html_pdf.with_title(document, "T & C").startswith(titled)


async def test_the_pdf_itself_with_accept(client, admin, browser_available):
    response = await client.post(
        "/pdf/multi-page",
        json={"pages": ["<p>a</p>", "<p>b</p>", "<p>c</p>"]},
        headers={**admin, "Accept": "application/pdf"},
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 3


async def test_presets(client, admin, make_key):
    response = await client.get("/pdf/presets", headers=admin)
    assert response.status_code == 200
    presets = response.json()["presets"]
    assert set(presets) == {"A4", "Letter", "Legal", "A3", "A5", "custom"}
    assert presets["A4"] == {
        "width": 794,
        "height": 1123,
        "unit": "px",
        "widthMm": 210,
        "heightMm": 297,
        "widthPt": 595,
        "heightPt": 842,
    }
    assert (presets["Letter"]["widthPt"], presets["Letter"]["heightPt"]) == (612, 792)
    key, _ = await make_key(["images:read"])
    assert_error_envelope(await client.get("/pdf/presets", headers=bearer(key)), 403)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/pdf/render", {"html": "<p>x</p>", "options": {"preset": "B5"}}, "options.preset"),
        (
            "/pdf/render",
            {"html": "<p>x</p>", "options": {"preset": "custom"}},
            "options.customSize",
        ),
        (
            "/pdf/render",
            {"html": "<p>x</p>", "options": {"margins": {"top": 600, "bottom": 600}}},
            "options.margins",
        ),
        (
            "/pdf/render",
            {"html": "<p>x</p>", "options": {"margins": {"top": -1}}},
            "options.margins.top",
        ),
        ("/pdf/render", {"html": "<p>x</p>", "url": "https://example.com/"}, "html"),
        ("/pdf/render", {"html": "<p>x</p>", "options": "A4"}, "options"),
        ("/pdf/multi-page", {"pages": ["<p>x</p>", {"components": []}]}, "pages[1]"),
        ("/pdf/multi-page", {"pages": ["<p>x</p>"] * 101}, "pages"),
    ],
)
async def test_bad_inputs_are_400(client, admin, path, body, field):
    error = assert_error_envelope(await client.post(path, json=body, headers=admin), 400)
    assert error["details"]["errors"][0]["field"] == field


async def test_an_env_without_the_binding_answers_503(client, admin, env):
    binding = env.BROWSER
    del env.BROWSER
    try:
        response = await client.post("/pdf/render", json={"html": PAGE_ONE}, headers=admin)
        assert_error_envelope(response, 503, "BROWSER_NOT_AVAILABLE")
    finally:
        env.BROWSER = binding
