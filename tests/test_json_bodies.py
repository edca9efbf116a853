"""JSON bodies no route can take are a 400 in the envelope, never a 500: nesting deeper than
the parser goes (`[`×10000 `]`×10000 raised RecursionError on 19 routes), and strings that
are not Unicode text (`{"name":"\\ud800"}`: a lone surrogate parses, then breaks the
database write and the error answer). Every JSON route of the document is sent both, with
real resources behind its path parameters, so the body is what gets judged.
"""

import json
import re

import pytest

from pixhaven.app import create_app
from pixhaven.json_depth import JsonDepth, nested_deeper_than

from .conftest import assert_error_envelope
from .imagegen import unique_jpeg, upload

DEEP = b"[" * 10000 + b"]" * 10000
LONE_SURROGATE = b'{"name":"\\ud800"}'
JSON = {"Content-Type": "application/json"}


def json_operations() -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, operations in create_app().openapi()["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


@pytest.fixture
async def resources(client, admin):
    """Something real for every path parameter of the JSON routes."""
    image = await upload(client, admin, unique_jpeg(7), "deep.jpg", tags="deep")
    assert image.status_code == 200, image.text
    album = await client.post("/v1/albums", headers=admin, json={"slug": "deep", "title": "D"})
    assert album.status_code == 201, album.text
    template = await client.post(
        "/templates",
        headers=admin,
        json={"name": "T", "document": {"width": 10, "height": 10, "components": []}},
    )
    assert template.status_code == 200, template.text
    hook = await client.post(
        "/webhook-subscriptions",
        headers=admin,
        json={"url": "https://93.184.215.14/hook", "events": ["render.completed"]},
    )
    assert hook.status_code == 201, hook.text
    binding = await client.post(
        "/bindings",
        headers=admin,
        json={
            "templateId": template.json()["template"]["uid"],
            "dataSource": {"type": "static", "data": {}},
        },
    )
    assert binding.status_code == 201, binding.text
    return {
        "bindings": binding.json()["uid"],
        "image_id": image.json()["result"]["id"],
        "name": "deep",
        "slug": "deep",
        "templates": template.json()["template"]["uid"],
        "webhook-subscriptions": hook.json()["uid"],
    }


def concrete(path: str, resources: dict) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        return resources.get(name) or resources[path.split("/")[1]]  # {uid}: by collection

    return re.sub(r"\{([^}]+)\}", value, path)


@pytest.mark.parametrize("operation", json_operations())
async def test_json_nested_10000_deep_is_400(client, admin, resources, operation):
    method, path = operation.split(" ", 1)
    response = await client.request(
        method, concrete(path, resources), content=DEEP, headers={**admin, **JSON}
    )
    # Refused while it arrives, before any parser (FastAPI's own included) sees it: on
    # Pyodide a parser given it would end the isolate (pixhaven.json_depth).
    assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert "nested too deeply" in response.text


@pytest.mark.parametrize("operation", json_operations())
async def test_a_lone_surrogate_is_400(client, admin, resources, operation):
    method, path = operation.split(" ", 1)
    response = await client.request(
        method,
        concrete(path, resources),
        content=b'{"name":"\\ud800","filename":"\\ud800.jpg","alt":"\\ud800","\\udfff":1}',
        headers={**admin, **JSON},
    )
    assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert "not Unicode text" in response.text


# -- the requests, with each dialect's wording ---------------------------------------


async def test_deep_json_to_cattopic_tags(client, admin):
    response = await client.post("/api/tags", content=DEEP, headers={**admin, **JSON})
    body = assert_error_envelope(response, 400)
    assert (body["error"], body["details"]) == ("Invalid request body", "nested too deeply")


async def test_deep_json_to_craftr_render(client, admin):
    response = await client.post("/api/v1/image", content=DEEP, headers={**admin, **JSON})
    body = assert_error_envelope(response, 400)
    assert body["error"] == "The request body must be JSON"
    assert body["details"] == {
        "errors": [{"field": "", "message": "invalid JSON: nested too deeply"}]
    }


async def test_lone_surrogate_tag_name(client, admin):
    response = await client.post("/api/tags", content=LONE_SURROGATE, headers={**admin, **JSON})
    body = assert_error_envelope(response, 400)
    assert body["error"] == "Invalid request body"
    assert (
        body["details"] == "a string is not Unicode text (an unpaired surrogate, \\ud800-\\udfff)"
    )
    assert (await client.get("/api/tags", headers=admin)).json()["tags"] == []


async def test_lone_surrogate_collection_name(client, admin):
    response = await client.post(
        "/api/collections", content=LONE_SURROGATE, headers={**admin, **JSON}
    )
    body = assert_error_envelope(response, 400)
    assert body["error"] == "Invalid request body"


async def test_lone_surrogate_template_name(client, admin, resources):
    uid = resources["templates"]
    response = await client.put(
        f"/templates/{uid}", content=LONE_SURROGATE, headers={**admin, **JSON}
    )
    body = assert_error_envelope(response, 400)
    assert body["error"] == "The request body must be JSON"
    assert body["details"]["errors"][0]["message"].startswith("invalid JSON: a string is not")
    assert (await client.get(f"/templates/{uid}", headers=admin)).json()["template"]["name"] == "T"


async def test_raw_utf8_surrogate_bytes_are_refused_too(client, admin):
    """json.loads decodes bytes with "surrogatepass": the surrogate need not be escaped."""
    response = await client.post(
        "/api/tags", content=b'{"name":"\xed\xa0\x80"}', headers={**admin, **JSON}
    )
    assert_error_envelope(response, 400)
    assert "not Unicode text" in response.text


async def test_paired_surrogate_escapes_are_text(client, admin):
    """`\\ud83d\\ude00` is one character (😀), not a lone surrogate: the tag rules judge it."""
    response = await client.post(
        "/api/collections",
        content=b'{"name":"Smile \\ud83d\\ude00"}',
        headers={**admin, **JSON},
    )
    assert response.status_code == 201, response.text
    assert response.json()["collection"]["name"] == "Smile 😀"


async def test_an_error_answer_that_quotes_a_lone_surrogate_is_still_an_answer(client, admin):
    """The safety net behind the refusals above: should text that is not Unicode ever reach
    an error message, the envelope is still rendered (the surrogate as `?`) instead of
    failing into a 500. Called directly, because no request can carry such text past the
    readers any more (before them, `POST /v1/keys` with `"scopes": ["\\ud800"]` did)."""
    from pixhaven.errors import error_response

    response = error_response(400, "Unknown scope: \ud800", details={"unknown": ["\ud800"]})
    assert response.body == (
        b'{"success":false,"error":"Unknown scope: ?","code":"INVALID_REQUEST",'
        b'"message":"Unknown scope: ?","details":{"unknown":["?"]}}'
    )


async def test_brackets_inside_strings_are_not_nesting(client, admin):
    """Deep bodies are refused before parsing (Pyodide's parser cannot be trusted to raise
    RecursionError: a 6000-deep array ends the isolate), by counting brackets outside
    strings: a long run of brackets inside a string is text, judged as text."""
    name = "[{" * 1500
    response = await client.post("/api/tags", json={"name": name}, headers=admin)
    body = assert_error_envelope(response, 400)
    assert body["details"] != "nested too deeply" and "nested" not in response.text
    escaped = b'{"name": "\\"' + b"[" * 1500 + b'"}'
    response = await client.post("/api/tags", content=escaped, headers={**admin, **JSON})
    assert "nested too deeply" not in response.text


# -- the depth guard itself, fed as bodies arrive ------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 4096])
def test_depth_is_counted_across_chunks_and_strings(chunk_size):
    """Brackets inside strings never count, whatever chunk boundary falls inside a string
    or right after a backslash; the depth is exact at any chunk size."""
    text = json.dumps({"a": ['x\\"[[[{{' * 500, {"b": "\\"}, "\\\\"], "c": [[["]]]"]]]}).encode()

    def fed(limit: int) -> bool:
        guard = JsonDepth(limit)
        return any(guard.feed(text[i : i + chunk_size]) for i in range(0, len(text), chunk_size))

    assert fed(4) is False  # {"c": [[[ is four levels
    assert fed(3) is True
    assert nested_deeper_than(b"[" * 1001 + b"]" * 1001)
    assert not nested_deeper_than(b"[" * 1000 + b"]" * 1000)
    assert not nested_deeper_than(b'"' + b"[" * 5000 + b'"')
