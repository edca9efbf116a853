"""Pictify FabricJS templates over HTTP: `POST /templates {fabricJSData}` with variables
extracted from `{{name}}` in text objects and from `variableBindings`, Pictify's envelope and
fields, renders drawn by fabric.js in the local browser and checked in their pixels (a colour
bound to `fill`, text bound to `text`, an image bound to `src`), formats, batches, the
`render.completed` webhook, and 400s that leave no template behind; then the same through
Pictify's official SDK against a real `pixhaven dev`."""

import base64
import copy
import io
import time

import httpx
import pytest
from PIL import Image

from pixhaven.net import fetch as remote_fetch
from pixhaven.services.rendering import canvas, fabric_templates, templates
from pixhaven.settings import Settings
from tests.browser_support import RecordingServer, dark_pixels, image, near, require_browser
from tests.conftest import ADMIN_TOKEN, assert_error_envelope, bearer, served
from tests.dev_server import run_dev_server
from tests.test_webhooks import FakeNetwork, verify

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def png_data_url(colour) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), colour).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# A 200 x 100 white card: a 100 x 100 square whose fill is the `accent` colour, a title
# (textbox) right of it, and a 20 x 20 logo (an image object) at the bottom right.
CARD = {
    "version": "5.3.0",
    "width": 200,
    "height": 100,
    "background": "#ffffff",
    "objects": [
        {
            "type": "rect",
            "left": 0,
            "top": 0,
            "width": 100,
            "height": 100,
            "fill": "#ff0000",
            "strokeWidth": 0,
            "isVariable": True,
            "variableBindings": [{"variableName": "accent", "property": "fill"}],
        },
        {
            "type": "textbox",
            "left": 105,
            "top": 5,
            "width": 90,
            "text": "{{title}}",
            "fill": "#000000",
            "fontSize": 28,
            "isVariable": True,
            "variableBindings": [{"variableName": "title", "property": "text"}],
        },
        {
            "type": "image",
            "left": 170,
            "top": 70,
            "width": 20,
            "height": 20,
            "src": png_data_url(WHITE),
            "isVariable": True,
            "variableBindings": [{"variableName": "logo", "property": "src"}],
        },
    ],
}
CREATE = {
    "name": "Fabric card",
    "fabricJSData": CARD,
    "variableDefinitions": [
        {"name": "title", "type": "text", "validation": {"required": True, "maxLength": 20}}
    ],
}


async def create(client, admin, body=CREATE):
    response = await client.post("/templates", json=body, headers=admin)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"success", "template"}
    return response.json()["template"]


async def render(client, admin, uid, body, status=200):
    response = await client.post(f"/templates/{uid}/render", json=body, headers=admin)
    assert response.status_code == status, response.text
    return response.json()


async def picture_of(client, url: str):
    return image((await served(client, url)).content)


async def no_templates(client, admin) -> bool:
    return (await client.get("/templates", headers=admin)).json()["templates"] == []


async def test_create_extracts_variables_and_answers_pictifys_fields(client, admin):
    template = await create(client, admin)
    assert (template["engine"], template["type"]) == ("fabric", "fabric")
    assert template["fabricJSData"] == CARD and "html" not in template
    # The size is the JSON's when the request gives none.
    assert (template["width"], template["height"], template["outputFormat"]) == (200, 100, "image")
    assert template["variables"] == ["accent", "title", "logo"]
    definitions = {d["name"]: d for d in template["variableDefinitions"]}
    assert {name: d["type"] for name, d in definitions.items()} == {
        "accent": "color",
        "title": "text",
        "logo": "image",
    }
    assert definitions["title"]["validation"] == {"required": True, "maxLength": 20}
    assert definitions["accent"]["validation"] == {"required": False}

    uid = template["uid"]
    assert (await client.get(f"/templates/{uid}", headers=admin)).json() == {
        "success": True,
        "template": template,
    }
    listed = (await client.get("/templates", headers=admin)).json()["templates"]
    assert [t["uid"] for t in listed] == [uid] and listed[0]["engine"] == "fabric"
    variables = (await client.get(f"/templates/{uid}/variables", headers=admin)).json()
    assert (variables["templateUid"], variables["templateName"]) == (uid, "Fabric card")
    assert [v["name"] for v in variables["variables"]] == ["accent", "title", "logo"]

    # The request's size wins over the JSON's; without either it is 1200 x 630.
    sized = await create(client, admin, {**CREATE, "width": 300, "height": 150})
    assert (sized["width"], sized["height"]) == (300, 150)
    bare = await create(client, admin, {"name": "bare", "fabricJSData": {"objects": []}})
    assert (bare["width"], bare["height"], bare["variables"]) == (1200, 630, [])


async def test_update_keeps_declared_rules_and_switches_kinds(client, admin):
    uid = (await create(client, admin))["uid"]
    smaller = {**CARD, "objects": CARD["objects"][1:]}  # the bound square removed
    updated = await client.put(f"/templates/{uid}", json={"fabricJSData": smaller}, headers=admin)
    assert updated.status_code == 200, updated.text
    changed = updated.json()["template"]
    assert changed["variables"] == ["title", "logo"]
    assert changed["variableDefinitions"][0]["validation"]["required"] is True
    renamed = await client.put(f"/templates/{uid}", json={"name": "renamed"}, headers=admin)
    assert renamed.json()["template"]["fabricJSData"] == smaller
    # A document cannot be sent to a FabricJS template; html makes it an HTML template,
    # fabricJSData an HTML one a FabricJS template again.
    assert_error_envelope(
        await client.put(f"/templates/{uid}", json={"components": []}, headers=admin), 400
    )
    html = await client.put(f"/templates/{uid}", json={"html": "<p>{{title}}</p>"}, headers=admin)
    assert html.json()["template"]["engine"] == "html"
    assert "fabricJSData" not in html.json()["template"]
    back = await client.put(f"/templates/{uid}", json={"fabricJSData": CARD}, headers=admin)
    assert back.json()["template"]["engine"] == "fabric"
    assert back.json()["template"]["variables"] == ["accent", "title", "logo"]


def too_many_objects():
    rect = {"type": "rect", "width": 1, "height": 1}
    return {"objects": [rect] * (canvas.MAX_OBJECTS + 1)}


def too_deep():
    data: dict = {"objects": []}
    for _ in range(canvas.MAX_DEPTH):
        data = {"type": "group", "objects": [data]}
    return data


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"html": "<p>{{title}}</p>"}, "fabricJSData", "not both"),
        ({"components": []}, "document", "not more than one"),
        ({"fabricJSData": "rect"}, "fabricJSData", "canvas JSON"),
        (
            {"fabricJSData": {"objects": [{"type": "text", "text": "x" * canvas.MAX_JSON_CHARS}]}},
            "fabricJSData",
            "characters of JSON",
        ),
        ({"fabricJSData": too_many_objects()}, "fabricJSData", "objects"),
        ({"fabricJSData": too_deep()}, "fabricJSData", "deep"),
        (
            {
                "fabricJSData": {
                    "objects": [
                        {
                            "type": "rect",
                            "variableBindings": [{"variableName": "x", "property": "path"}],
                        }
                    ]
                }
            },
            "fabricJSData",
            "'path'",
        ),
        (
            {
                "fabricJSData": {
                    "objects": [
                        {
                            "type": "rect",
                            "variableBindings": [{"variableName": "x", "property": "src"}],
                        }
                    ]
                }
            },
            "fabricJSData",
            "image objects",
        ),
        (
            {"variableDefinitions": [{"name": "accent", "type": "color", "defaultValue": "{"}]},
            "variables.accent",
            "accent",
        ),
        ({"width": 0}, "width", "width"),
    ],
)
async def test_bad_templates_are_400_and_store_nothing(client, admin, change, field, words):
    body = assert_error_envelope(
        await client.post("/templates", json={**CREATE, **change}, headers=admin), 400
    )
    assert words in body["error"] and body["details"]["errors"][0]["field"] == field
    assert await no_templates(client, admin)


async def test_render_input_errors_are_400_before_the_browser(client, admin):
    uid = (await create(client, admin))["uid"]
    missing = await render(client, admin, uid, {"variables": {"accent": "#00ff00"}}, 400)
    assert missing["details"]["variable"] == "title" and "title" in missing["error"]
    for variables, name in (
        ({"title": "t", "accent": "not a colour!"}, "accent"),
        ({"title": "t", "logo": "file:///etc/passwd"}, "logo"),
        ({"title": "x" * 21}, "title"),
    ):
        refused = await render(client, admin, uid, {"variables": variables}, 400)
        assert refused["details"]["variable"] == name, variables
    assert_error_envelope(
        await client.post(
            f"/templates/{uid}/render",
            json={"variables": {"title": "t"}, "format": "gif"},
            headers=admin,
        ),
        400,
    )
    # A batch checks every item the same way, before anything is queued.
    batch = await client.post(
        f"/templates/{uid}/batch-render",
        json={"variableSets": [{"title": "ok"}, {"accent": "#000"}]},
        headers=admin,
    )
    refused = assert_error_envelope(batch, 400)
    assert refused["details"]["index"] == 1 and refused["details"]["variable"] == "title"


async def test_number_bindings_take_numbers_as_the_documents_write_them(client, admin):
    card = copy.deepcopy(CARD)
    card["objects"][0]["variableBindings"].append({"variableName": "shade", "property": "opacity"})
    uid = (await create(client, admin, {**CREATE, "fabricJSData": card}))["uid"]
    # Python's float() reads all of these; none is a number to JSON or JavaScript.
    for shade in ("1_0", "٣", "nan", "infinity"):
        variables = {"title": "t", "shade": shade}
        refused = await render(client, admin, uid, {"variables": variables}, 400)
        assert refused["details"]["variable"] == "shade", shade


async def test_render_applies_bindings_in_the_pixels(client, admin, browser_available):
    uid = (await create(client, admin))["uid"]
    answer = await render(
        client,
        admin,
        uid,
        {"variables": {"title": "Hi", "accent": "#00ff00", "logo": png_data_url(BLUE)}},
    )
    assert (answer["templateUid"], answer["template"], answer["totalRendered"]) == (uid, uid, 1)
    assert answer["results"][0]["url"] == answer["url"] and answer["format"] == "png"
    picture = (await picture_of(client, answer["url"])).convert("RGB")
    assert picture.size == (200, 100)
    assert near(picture.getpixel((50, 50)), GREEN)  # the bound fill
    assert near(picture.getpixel((180, 80)), BLUE)  # the bound src
    assert near(picture.getpixel((150, 60)), WHITE)
    short = dark_pixels(picture, (100, 0, 200, 60))
    assert short > 20  # "Hi"

    # Defaults: the design's own fill (red) and logo (white); a longer title, more ink.
    answer = await render(client, admin, uid, {"variables": {"title": "HELLO"}})
    picture = (await picture_of(client, answer["url"])).convert("RGB")
    assert near(picture.getpixel((50, 50)), RED) and near(picture.getpixel((180, 80)), WHITE)
    assert dark_pixels(picture, (100, 0, 200, 60)) > 2 * short

    # The request's size wins over the template's.
    answer = await render(
        client, admin, uid, {"variables": {"title": "x"}, "width": 120, "height": 60}
    )
    assert (await picture_of(client, answer["url"])).size == (120, 60)


async def test_a_bound_image_url_is_fetched_under_the_outbound_rules(
    client, admin, browser_available
):
    # The test app's browser may not reach loopback addresses: the bound src is never
    # requested, and the canvas is drawn without it (white where the logo was).
    page = RecordingServer()
    try:
        uid = (await create(client, admin))["uid"]
        logo = page.url + "/logo.png"
        answer = await render(client, admin, uid, {"variables": {"title": "x", "logo": logo}})
        picture = (await picture_of(client, answer["url"])).convert("RGB")
        assert near(picture.getpixel((50, 50)), RED) and near(picture.getpixel((180, 80)), WHITE)
        assert page.requests == []
    finally:
        page.stop()


@pytest.mark.parametrize("settings_overrides", [{"BROWSER_TEST_ALLOW_LOOPBACK": "1"}])
async def test_a_bound_image_url_is_fetched_by_the_browser(client, admin, browser_available):
    page = RecordingServer()  # answers text, not an image: fabric.js draws the rest
    try:
        uid = (await create(client, admin))["uid"]
        logo = page.url + "/logo.png"
        await render(client, admin, uid, {"variables": {"title": "x", "logo": logo}})
        assert page.requests == ["/logo.png"]
    finally:
        page.stop()


async def test_render_png_for_callers_that_build_on_a_render(client, admin, env, browser_available):
    # What a PDF of a FabricJS template draws its page from: PNG bytes, nothing stored.
    uid = (await create(client, admin))["uid"]
    template = await templates.get(env, Settings.from_env(env).default_owner, uid)
    data = await fabric_templates.render_png(env, template, {"title": "x", "accent": "#00ff00"})
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    picture = image(data).convert("RGB")
    assert picture.size == (200, 100) and near(picture.getpixel((50, 50)), GREEN)
    half = image(await fabric_templates.render_png(env, template, {"title": "x"}, 100, 50))
    assert half.size == (100, 50)


async def test_jpeg_and_webp_are_honoured(client, admin, browser_available):
    uid = (await create(client, admin))["uid"]
    for body, extension, magic in (
        ({"format": "jpeg", "quality": 0.8}, "jpg", b"\xff\xd8\xff"),
        ({"format": "webp"}, "webp", b"RIFF"),
    ):
        answer = await render(client, admin, uid, {"variables": {"title": "x"}, **body})
        assert answer["format"] == extension and answer["url"].endswith("." + extension)
        data = (await served(client, answer["url"])).content
        assert data.startswith(magic), body
        picture = image(data)
        assert picture.size == (200, 100)
        assert near(picture.convert("RGB").getpixel((50, 50)), RED, 30)
    assert (await served(client, answer["url"])).content[8:12] == b"WEBP"


async def test_render_completed_webhook(client, admin, env, monkeypatch, browser_available):
    network = FakeNetwork()
    transport = httpx.MockTransport(network.handle)
    monkeypatch.setattr(remote_fetch, "default_transport", lambda: transport)
    monkeypatch.setattr(remote_fetch, "default_resolver", network.resolve)
    subscription = (
        await client.post(
            "/webhook-subscriptions",
            headers=admin,
            json={"url": "https://hooks.example.com/renders", "events": ["render.completed"]},
        )
    ).json()
    uid = (await create(client, admin))["uid"]
    answer = await render(client, admin, uid, {"variables": {"title": "x"}})
    await env.JOBS.drain()  # deliveries are jobs
    [request] = network.requests
    payload = verify(request, subscription["secret"])
    assert payload["event"] == "render.completed"
    assert payload["data"]["url"] == answer["url"] and payload["data"]["template"] == uid


async def test_batch_of_a_fabric_template(client, admin, env, browser_available):
    uid = (await create(client, admin))["uid"]
    body = {
        "variableSets": [{"title": "a", "accent": "#00ff00"}, {"title": "b", "accent": "blue"}],
        "format": "webp",
    }
    response = await client.post(f"/templates/{uid}/batch-render", json=body, headers=admin)
    assert response.status_code == 202, response.text
    batch_id = response.json()["batchId"]
    await env.JOBS.drain()
    done = (await client.get(f"/templates/batch/{batch_id}/results", headers=admin)).json()
    assert (done["status"], done["completedItems"], done["progress"]) == ("completed", 2, 100)
    assert all(r["success"] and r["url"].endswith(".webp") for r in done["results"])
    got = [
        (await picture_of(client, r["url"])).convert("RGB").getpixel((50, 50))
        for r in done["results"]
    ]
    assert near(got[0], GREEN, 20) and near(got[1], BLUE, 20)


# -- Pictify's SDK against a real server -----------------------------------------------

FINISHED = {"completed", "partial", "failed", "cancelled"}
WAIT_FOR_BATCH = 120.0  # seconds before giving up on the server's queue (not a measurement)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    yield from run_dev_server(tmp_path_factory.mktemp("sdk-fabric"))


@pytest.fixture(scope="module")
def sdk(server):
    from pictify import Pictify

    with Pictify(api_key=ADMIN_TOKEN, base_url=server, max_retries=0) as client:
        yield client


def fetched(url: str) -> bytes:
    response = httpx.get(url, trust_env=False, timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def test_sdk_reads_renders_and_batches_a_fabric_template(server, sdk):
    # The SDK's create_template sends html only: the FabricJS template is created over HTTP
    # as Pictify's other clients (the MCP server, the REST API) send it.
    created = httpx.post(
        f"{server}/templates",
        json={**CREATE, "name": "SDK fabric"},
        headers=bearer(ADMIN_TOKEN),
        trust_env=False,
        timeout=30,
    )
    assert created.status_code == 200, created.text
    uid = created.json()["template"]["uid"]

    template = sdk.get_template(uid)
    assert (template.uid, template.name, template.engine) == (uid, "SDK fabric", "fabric")
    assert (template.width, template.height, template.output_format) == (200, 100, "image")
    assert template.variables == ["accent", "title", "logo"] and template.html is None
    types = {d.name: d.type for d in template.variable_definitions or []}
    assert types == {"accent": "color", "title": "text", "logo": "image"}
    assert template.model_extra and template.model_extra["fabricJSData"] == CARD
    listed = sdk.list_templates()
    assert [t.uid for t in listed.templates] == [uid] and listed.templates[0].engine == "fabric"

    result = sdk.render(uid, variables={"title": "sdk", "accent": "#0000ff"})
    assert result.template_uid == uid and result.total_rendered == 1
    picture = image(fetched(result.url)).convert("RGB")
    assert picture.size == (200, 100) and near(picture.getpixel((50, 50)), BLUE)
    assert dark_pixels(picture, (100, 0, 200, 60)) > 20
    jpeg = sdk.render(uid, variables={"title": "j"}, format="jpeg", quality=0.5)
    assert fetched(jpeg.url)[:3] == b"\xff\xd8\xff"

    started = sdk.render_batch(
        uid, variable_sets=[{"title": "1"}, {"title": "2", "accent": "lime"}]
    )
    deadline = time.monotonic() + WAIT_FOR_BATCH
    done = sdk.get_batch_results(started.batch_id)
    while done.status not in FINISHED:
        assert time.monotonic() < deadline, done
        time.sleep(0.2)
        done = sdk.get_batch_results(started.batch_id)
    assert (done.status, done.completed_items, done.failed_items) == ("completed", 2, 0)
    got = [image(fetched(r.url)).convert("RGB").getpixel((50, 50)) for r in done.results]
    assert near(got[0], RED) and near(got[1], GREEN)
