"""Pictify HTML templates over HTTP: `POST /templates {html}` with variables extracted from
its `{{ }}` expressions, Pictify's `{template}` envelope, list pagination and `sort`,
`/variables`, and renders through the local browser checked in their pixels; then the same
with Pictify's official SDK against a real `pixhaven dev`."""

import httpx
import pytest

from pixhaven.render.expression_functions import FUNCTIONS
from tests.browser_support import dark_pixels, image, near, require_browser
from tests.conftest import ADMIN_TOKEN, assert_error_envelope, served
from tests.dev_server import run_dev_server

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)

# A 300 x 200 card: the background from a ternary, a blue badge only `_if` premium, a
# title, and the price line from the function library.
CARD = (
    "<html><body style=\"margin:0;background:{{isPremium ? '#00ff00' : '#ff0000'}};"
    'font:bold 30px sans-serif">'
    '<div _if="isPremium && !isExpired" style="position:absolute;left:0;top:0;'
    'width:60px;height:60px;background:#0000ff"></div>'
    '<p style="position:absolute;left:0;top:100px;margin:0;color:#000;background:#fff">'
    "{{uppercase(title)}} {{currency(price * quantity, 'USD')}}</p>"
    "</body></html>"
)
CREATE = {
    "name": "Card",
    "html": CARD,
    "width": 300,
    "height": 200,
    "variableDefinitions": [
        {"name": "title", "type": "text", "validation": {"required": True, "maxLength": 40}},
        {"name": "isPremium", "type": "boolean", "defaultValue": False},
        {"name": "quantity", "type": "number", "defaultValue": 1},
    ],
}


async def create(client, admin, body=CREATE):
    response = await client.post("/templates", json=body, headers=admin)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"success", "template"}
    return response.json()["template"]


async def stored(client, url: str):
    return image((await served(client, url)).content)


async def test_create_extracts_variables_and_answers_pictifys_fields(client, admin):
    template = await create(client, admin)
    assert template["type"] == "html" and template["html"] == CARD
    assert (template["width"], template["height"], template["outputFormat"]) == (300, 200, "image")
    # Every top-level name the expressions and the _if read, declared ones as declared.
    assert sorted(template["variables"]) == [
        "isExpired",
        "isPremium",
        "price",
        "quantity",
        "title",
    ]
    definitions = {d["name"]: d for d in template["variableDefinitions"]}
    assert definitions["title"]["validation"] == {"required": True, "maxLength": 40}
    assert definitions["isPremium"]["type"] == "boolean"
    # Pictify's defaultValue is a string; Pixhaven's default keeps the type.
    assert definitions["isPremium"]["defaultValue"] == "false"
    assert definitions["isPremium"]["default"] is False
    assert definitions["price"] == {  # no nulls for what is not set
        "name": "price",
        "type": "text",
        "validation": {"required": False},
        "default": None,
        "required": False,
    }

    uid = template["uid"]
    fetched = await client.get(f"/templates/{uid}", headers=admin)
    assert fetched.json() == {"success": True, "template": template}
    variables = (await client.get(f"/templates/{uid}/variables", headers=admin)).json()
    assert (variables["templateUid"], variables["templateName"]) == (uid, "Card")
    assert [v["name"] for v in variables["variables"]] == template["variables"]

    # PUT of the html alone re-extracts, keeping what was declared for names still used.
    updated = await client.put(
        f"/templates/{uid}", json={"html": "<p>{{title}} {{subtitle}}</p>"}, headers=admin
    )
    assert updated.status_code == 200, updated.text
    changed = updated.json()["template"]
    assert changed["variables"] == ["title", "subtitle"] and changed["width"] == 300
    assert changed["variableDefinitions"][0]["validation"]["required"] is True


async def test_list_pagination_and_sort(client, admin):
    for name in ("bravo", "Alpha", "charlie"):
        await create(client, admin, {**CREATE, "name": name})
    newest = (await client.get("/templates?limit=2", headers=admin)).json()
    assert [t["name"] for t in newest["templates"]] == ["charlie", "Alpha"]
    assert newest["pagination"] == {
        "page": 1,
        "limit": 2,
        "total": 3,
        "totalPages": 2,
        "hasNext": True,
        "hasPrev": False,
        "hasMore": True,
    }
    last = (await client.get("/templates?limit=2&page=2", headers=admin)).json()
    assert [t["name"] for t in last["templates"]] == ["bravo"]
    assert (last["pagination"]["hasNext"], last["pagination"]["hasPrev"]) == (False, True)
    for sort, names in (
        ("oldest", ["bravo", "Alpha", "charlie"]),
        ("name", ["Alpha", "bravo", "charlie"]),
        ("newest", ["charlie", "Alpha", "bravo"]),
    ):
        page = (await client.get(f"/templates?sort={sort}", headers=admin)).json()
        assert [t["name"] for t in page["templates"]] == names, sort
    pdf = (await client.get("/templates?outputFormat=pdf", headers=admin)).json()
    assert pdf["templates"] == [] and pdf["pagination"]["total"] == 0
    await create(client, admin, {**CREATE, "name": "invoice", "outputFormat": "pdf"})
    pdf = (await client.get("/templates?outputFormat=pdf", headers=admin)).json()
    assert [t["name"] for t in pdf["templates"]] == ["invoice"]
    assert pdf["pagination"]["total"] == 1
    image = (await client.get("/templates?outputFormat=image", headers=admin)).json()
    assert image["pagination"]["total"] == 3
    assert_error_envelope(await client.get("/templates?sort=size", headers=admin), 400)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"html": "<p>{{price * }}</p>"}, "html", "price *"),
        ({"html": "<p>{{__class__}}</p>"}, "html", "__class__"),
        ({"html": "<p>{{system('ls')}}</p>"}, "html", "Unknown function"),
        ({"html": "<p>{{title</p>"}, "html", "Unclosed"),
        ({"html": ""}, "html", "html"),
        ({"fabricJSData": {"objects": []}}, "fabricJSData", "fabricJSData"),
        ({"outputFormat": "video"}, "outputFormat", "outputFormat"),
        ({"layouts": [{"name": "Wide!", "width": 10, "height": 10}]}, "layouts[0].name", "slug"),
        ({"layouts": [{"name": "wide", "width": 0, "height": 10}]}, "layouts[0].width", "px"),
        ({"tags": "blog"}, "tags", "tags"),
        ({"width": 0}, "width", "width"),
        (
            {"variableDefinitions": [{"name": "t", "type": "video"}]},
            "variableDefinitions.0.type",
            "type",
        ),
    ],
)
async def test_bad_templates_are_400_naming_the_problem(client, admin, change, field, words):
    body = assert_error_envelope(
        await client.post("/templates", json={**CREATE, **change}, headers=admin), 400
    )
    assert words in body["error"] and body["details"]["errors"][0]["field"] == field
    assert (await client.get("/templates", headers=admin)).json()["templates"] == []


async def test_render_input_errors_are_400_before_the_browser(client, admin):
    uid = (await create(client, admin))["uid"]
    missing = assert_error_envelope(
        await client.post(f"/templates/{uid}/render", json={"variables": {}}, headers=admin), 400
    )
    assert missing["details"]["variable"] == "title"
    too_long = assert_error_envelope(
        await client.post(
            f"/templates/{uid}/render", json={"variables": {"title": "x" * 41}}, headers=admin
        ),
        400,
    )
    assert too_long["details"]["variable"] == "title"
    # The expressions run over the values: a value that makes one fail names it.
    broken = (await create(client, admin, {"name": "b", "html": "{{parseJson(raw)}}"}))["uid"]
    failed = assert_error_envelope(
        await client.post(
            f"/templates/{broken}/render", json={"variables": {"raw": "{"}}, headers=admin
        ),
        400,
    )
    assert failed["details"]["expression"] == "parseJson(raw)"
    # A batch checks every item's variables the same way, before anything is queued.
    refused = assert_error_envelope(
        await client.post(
            f"/templates/{uid}/batch-render", json={"variableSets": [{}]}, headers=admin
        ),
        400,
    )
    assert refused["details"]["index"] == 0 and refused["details"]["variable"] == "title"


async def test_expression_test_routes(client, admin):
    # The documented requests and answers of "Testing Expressions".
    valid = await client.post(
        "/templates/expression/validate", json={"expression": "price * quantity"}, headers=admin
    )
    assert valid.status_code == 200
    assert valid.json() == {"valid": True, "expression": "price * quantity"}
    invalid = await client.post(
        "/templates/expression/validate", json={"expression": "price *"}, headers=admin
    )
    assert invalid.json()["valid"] is False and "price *" in invalid.json()["error"]
    tested = await client.post(
        "/templates/expression/test",
        json={
            "expression": "currency(price * quantity, 'USD')",
            "variables": {"price": 29.99, "quantity": 3},
        },
        headers=admin,
    )
    assert tested.json() == {"success": True, "result": "$89.97", "resultType": "string"}
    for expression, result, kind in (
        ("1 / 0", "Infinity", "number"),
        ("missing", None, "undefined"),
        ("split('a,b', ',')", ["a", "b"], "array"),
    ):
        answer = (
            await client.post(
                "/templates/expression/test", json={"expression": expression}, headers=admin
            )
        ).json()
        assert (answer["result"], answer["resultType"]) == (result, kind), expression
    refused = await client.post(
        "/templates/expression/test", json={"expression": "a.__class__"}, headers=admin
    )
    assert refused.status_code == 200 and refused.json()["success"] is False
    assert refused.json()["expression"] == "a.__class__" and "__class__" in refused.json()["error"]
    assert_error_envelope(
        await client.post("/templates/expression/test", json={"variables": {}}, headers=admin),
        400,
    )
    # variables is an object or absent: false or a list is a mistake, not "no variables".
    for route in ("test", "validate"):
        for variables in (False, [None, None], "price=1"):
            body = {"expression": "price * quantity", "variables": variables}
            answer = await client.post(f"/templates/expression/{route}", json=body, headers=admin)
            assert_error_envelope(answer, 400)
    nulled = {"expression": "1 + 1", "variables": None}
    answer = await client.post("/templates/expression/test", json=nulled, headers=admin)
    assert answer.json() == {"success": True, "result": 2, "resultType": "number"}
    listed = (await client.get("/templates/expression/functions", headers=admin)).json()
    names = {f["name"] for f in listed["functions"]}
    assert {"uppercase", "currency", "indexOf", "isNumber", "parseJson"} <= names
    assert names == set(FUNCTIONS)  # the catalogue is exactly what expressions may call


async def test_render_fills_expressions_and_conditions(client, admin, browser_available):
    uid = (await create(client, admin))["uid"]
    response = await client.post(
        f"/templates/{uid}/render",
        json={"variables": {"title": "hi", "isPremium": True, "price": 2.5, "quantity": 4}},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["templateUid"], answer["template"], answer["totalRendered"]) == (uid, uid, 1)
    assert answer["results"][0]["url"] == answer["url"] and answer["format"] == "png"
    picture = (await stored(client, answer["url"])).convert("RGB")
    assert picture.size == (300, 200)
    assert near(picture.getpixel((290, 190)), GREEN)  # isPremium ? green : red
    assert near(picture.getpixel((30, 30)), BLUE)  # the _if badge
    assert dark_pixels(picture, (0, 95, 300, 140)) > 100  # "HI $10.00"

    # Defaults: not premium (red), no badge; JPEG at Pictify's fractional quality.
    response = await client.post(
        f"/templates/{uid}/render",
        json={"variables": {"title": "x"}, "format": "jpeg", "quality": 0.8},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    picture = await stored(client, response.json()["url"])
    assert picture.format == "JPEG" and response.json()["format"] == "jpg"
    rgb = picture.convert("RGB")
    assert near(rgb.getpixel((290, 190)), RED, 40) and near(rgb.getpixel((30, 30)), RED, 40)


async def test_values_are_escaped_not_markup(client, admin, browser_available):
    # Were the value inserted raw, the injected div would paint the page red.
    html = '<body style="margin:0;background:#fff"><p style="margin:0">{{note}}</p></body>'
    uid = (await create(client, admin, {"name": "e", "html": html, "width": 100, "height": 100}))[
        "uid"
    ]
    attack = '</p><div style="position:fixed;inset:0;background:#f00"></div>'
    response = await client.post(
        f"/templates/{uid}/render", json={"variables": {"note": attack}}, headers=admin
    )
    assert response.status_code == 200, response.text
    picture = (await stored(client, response.json()["url"])).convert("RGB")
    assert near(picture.getpixel((90, 90)), WHITE)
    assert dark_pixels(picture, (0, 0, 100, 40)) > 20  # the markup, shown as text


# -- Pictify's SDK against a real server -----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    yield from run_dev_server(tmp_path_factory.mktemp("sdk-templates"))


@pytest.fixture(scope="module")
def sdk(server):
    from pictify import Pictify

    with Pictify(api_key=ADMIN_TOKEN, base_url=server, max_retries=0) as client:
        yield client


def fetched(url: str):
    response = httpx.get(url, trust_env=False, timeout=30)
    assert response.status_code == 200, response.text
    return image(response.content)


def test_sdk_create_get_list_and_render(sdk):
    template = sdk.create_template(html=CARD, name="SDK card", width=300, height=200)
    assert template.uid and template.name == "SDK card" and template.html == CARD
    assert sorted(template.variables or []) == [
        "isExpired",
        "isPremium",
        "price",
        "quantity",
        "title",
    ]
    assert {d.name for d in template.variable_definitions or []} == set(template.variables or [])

    got = sdk.get_template(template.uid)
    assert (got.uid, got.width, got.height, got.output_format) == (
        template.uid,
        300,
        200,
        "image",
    )
    sdk.create_template(html="<p>{{a}}</p>", name="Another")
    listed = sdk.list_templates(sort="name", limit=1)
    assert [t.name for t in listed.templates] == ["Another"]
    assert listed.pagination and listed.pagination.has_next and not listed.pagination.has_prev
    second = sdk.list_templates(sort="name", limit=1, page=2)
    assert [t.uid for t in second.templates] == [template.uid]

    result = sdk.render(
        template.uid, variables={"title": "sdk", "isPremium": True, "price": 3, "quantity": 2}
    )
    assert result.template_uid == template.uid and result.total_rendered == 1
    picture = fetched(result.url).convert("RGB")
    assert picture.size == (300, 200)
    assert near(picture.getpixel((290, 190)), GREEN) and near(picture.getpixel((30, 30)), BLUE)
    assert dark_pixels(picture, (0, 95, 300, 140)) > 100

    webp = sdk.render(template.uid, variables={"title": "w"}, format="webp")
    assert fetched(webp.url).format == "WEBP"


def test_sdk_renders_pdf_jpeg_and_layouts(sdk):
    template = sdk.create_template(html=CARD, name="SDK outputs", width=300, height=200)
    values = {"title": "pdf", "price": 1}
    jpeg = sdk.render(template.uid, variables=values, format="jpeg", quality=0.7)
    assert fetched(jpeg.url).format == "JPEG" and jpeg.results[0].format == "jpg"

    pdf = sdk.render(template.uid, variables=values, format="pdf")
    response = httpx.get(pdf.url, trust_env=False, timeout=30)
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and pdf.results[0].format == "pdf"

    layouts = sdk.render_layouts(template.uid, ["default", "instagram-post", "missing"])
    assert [(r.layout, r.width, r.height) for r in layouts.results] == [
        ("default", 300, 200),
        ("instagram-post", 1080, 1080),
    ]
    assert fetched(layouts.results[1].url).size == (1080, 1080)
    assert [e.layout for e in layouts.errors] == ["missing"]
    assert (layouts.total_layouts, layouts.total_rendered, layouts.total_errors) == (3, 2, 1)


def test_sdk_render_gif_from_a_template(sdk):
    template = sdk.create_template(html=CARD, name="SDK gif", width=300, height=200)
    gif = sdk.render_gif(
        template_id=template.uid, variables={"title": "g", "isPremium": True}, quality="low"
    )
    picture = fetched(gif.url)
    assert picture.format == "GIF" and (gif.width, gif.height) == picture.size == (300, 200)
    assert near(picture.convert("RGB").getpixel((290, 190)), GREEN)
    square = sdk.render_layouts(template.uid, ["square", "story"], variables={"title": "s"})
    assert [(r.layout, r.width, r.height) for r in square.results] == [
        ("square", 1080, 1080),
        ("story", 1080, 1920),
    ]
