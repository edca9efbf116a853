"""The routes that send their JSON answers as built (routers/native_json.py, no
`jsonable_encoder` pass, no `response_model` check) answer exactly what /openapi.json
documents for them: every answer here is validated against the operation's 200 schema, so
a key added to, dropped from or retyped in the built data without the documentation model
(models/*.py, `answer(...)`) following fails here."""

import json
import re

import jsonschema_rs
import pytest

from tests.imagegen import animated_gif, image_bytes, unique_jpeg
from tests.imagegen import upload as cattopic_upload
from tests.test_pixelflare_images import create, upload

# (method, path template): the operations whose answers are sent as built.
NATIVE_JSON_ROUTES = [
    ("get", "/api/images"),
    ("get", "/api/images/{image_id}"),
    ("put", "/api/images/{image_id}"),
    ("get", "/api/tags"),
    ("get", "/api/collections"),
    ("get", "/api/collections/{collection_id}/images"),
    ("get", "/v1/tags"),
    ("get", "/v1/albums"),
    ("get", "/v1/images"),
    ("get", "/v1/images/{image_id}"),
]


async def openapi(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def validator(document: dict, method: str, template: str):
    """The JSON Schema validator of the operation's documented 200 answer."""
    content = document["paths"][template][method]["responses"]["200"]["content"]
    schema = content["application/json"]["schema"]
    # The components beside the reference, so `#/components/schemas/...` resolves.
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def template_of(document: dict, method: str, path: str) -> str:
    for template, operations in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if method in operations and re.match(pattern, path):
            return template
    raise AssertionError(f"{method} {path} is not in /openapi.json")


async def documented(client, document: dict, method: str, url: str, **kwargs) -> dict:
    """Ask, and assert the answer is a 200 that the document's schema accepts."""
    response = await client.request(method, url, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    template = template_of(document, method.lower(), url.split("?", 1)[0])
    errors = [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator(document, method.lower(), template).iter_errors(body)
    ]
    assert not errors, (url, errors)
    SEEN.add((method.lower(), template))
    return body


SEEN: set[tuple[str, str]] = set()


async def test_each_route_documents_a_named_answer_schema(client):
    document = await openapi(client)
    for method, template in NATIVE_JSON_ROUTES:
        content = document["paths"][template][method]["responses"]["200"]["content"]
        reference = content["application/json"]["schema"]["$ref"]
        name = reference.rsplit("/", 1)[1]
        assert document["components"]["schemas"][name]["additionalProperties"] is False


async def test_every_answer_matches_its_documented_schema(client, admin):
    document = await openapi(client)
    SEEN.clear()
    # CattoPic uploads of every kind: tags and an expiry, a GIF (no WebP/AVIF), a PNG
    # without AVIF.
    first = await cattopic_upload(
        client, admin, unique_jpeg(1), "a.jpg", tags="nature,outdoor", expiry_minutes=60
    )
    assert first.status_code == 200, first.text
    await cattopic_upload(client, admin, animated_gif(), "b.gif")
    await cattopic_upload(client, admin, image_bytes(30, 90, "PNG"), "c.png", generateAvif="false")
    # PixelFlare: public in an album, private with alt text, one still pending, one deleted.
    public = await upload(client, admin, unique_jpeg(2), album="trip", tags=["sea"])
    private = await upload(client, admin, unique_jpeg(3), alt="Hidden", is_private=True)
    await create(client, admin, filename="pending.jpg")
    gone = await upload(client, admin, unique_jpeg(4))
    assert (await client.delete(f"/v1/images/{gone['id']}", headers=admin)).status_code == 200

    page = await documented(client, document, "GET", "/api/images?limit=24", headers=admin)
    assert len(page["images"]) == 5
    await documented(client, document, "GET", "/api/images?page=2&limit=2", headers=admin)
    await documented(client, document, "GET", "/api/images?offset=1&limit=3", headers=admin)
    for image in page["images"]:
        await documented(client, document, "GET", f"/api/images/{image['id']}", headers=admin)
    image_id = first.json()["result"]["id"]
    for body in ({"tags": ["cat"]}, {"expiryMinutes": 0}):
        await documented(
            client, document, "PUT", f"/api/images/{image_id}", headers=admin, json=body
        )
    tags = await documented(client, document, "GET", "/api/tags", headers=admin)
    assert {tag["name"] for tag in tags["tags"]} >= {"cat", "sea"}

    await documented(client, document, "GET", "/v1/tags", headers=admin)
    albums = await documented(client, document, "GET", "/v1/albums", headers=admin)
    assert [album["slug"] for album in albums["data"]] == ["trip"]
    await documented(client, document, "GET", "/api/collections?limit=5", headers=admin)

    collection = public["cdn_url"].split("/")[-2]  # the album's slug is a collection id too
    url = f"/api/collections/{collection}/images"
    listed = await documented(client, document, "GET", url, headers=admin)
    assert [image["id"] for image in listed["images"]] == [public["id"]]

    resources = await documented(client, document, "GET", "/v1/images?limit=50", headers=admin)
    assert len(resources["data"]) == 5  # not the pending one, nor the deleted one
    await documented(client, document, "GET", "/v1/images?limit=1", headers=admin)
    await documented(client, document, "GET", "/v1/images?include_deleted=true", headers=admin)
    for image in (public, private):
        await documented(client, document, "GET", f"/v1/images/{image['id']}", headers=admin)
    url = f"/v1/images/{gone['id']}?include_deleted=true"
    assert (await documented(client, document, "GET", url, headers=admin))["deleted_at"]

    assert SEEN == set(NATIVE_JSON_ROUTES)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda body: body.update(extra=1), id="an undocumented key"),
        pytest.param(lambda body: body.pop("next_cursor"), id="a documented key missing"),
        pytest.param(lambda body: body["data"][0].update(width="800"), id="a retyped value"),
        pytest.param(lambda body: body["data"][0].pop("thumbnail_url"), id="a nested key missing"),
    ],
)
async def test_the_schema_check_catches_drift(client, admin, change):
    """The check above can fail: a real answer, changed as a drifting route would change it,
    is refused by the documented schema."""
    document = await openapi(client)
    await upload(client, admin, unique_jpeg(5))
    body = (await client.get("/v1/images", headers=admin)).json()
    check = validator(document, "get", "/v1/images")
    assert check.is_valid(body)
    drifted = json.loads(json.dumps(body))
    change(drifted)
    assert not check.is_valid(drifted)
