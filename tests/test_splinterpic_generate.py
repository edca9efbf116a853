"""Splinterpic `POST /api/generate` and `GET /api/models`, through HTTP, with the local
offline model standing in for Workers AI (no Cloudflare account configured in tests)."""

import io

import pytest
from PIL import Image

from pixhaven.db import usage_events
from pixhaven.local.bindings.r2_objects import BodyStream
from pixhaven.services.ai import generate as ai_generation
from tests.conftest import assert_error_envelope, bearer

FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
OFFLINE = "@pixhaven/offline-preview"
SMALL = {"model": SDXL, "width": 256, "height": 256, "steps": 4}


async def fetch(client, url):
    response = await client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200, response.text
    return response.content


async def test_generate_with_the_offline_model_end_to_end(client, admin, env):
    response = await client.post(
        "/api/generate", headers=admin, json={"prompt": "A beautiful sunset over the sea", **SMALL}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["image"]["id"] == body["id"]
    # The offline stand-in is never reported as the requested AI model.
    assert body["model"] == OFFLINE and body["requested_model"] == SDXL
    assert body["offline_preview"] is True and body["cost"] == 0
    assert body["prompt"] == "A beautiful sunset over the sea" and body["source"] == "ai"
    assert (body["width"], body["height"]) == (256, 256) and body["collection_id"] is None
    assert body["created_at"].endswith("Z") and isinstance(body["seed"], int)
    assert body["steps"] == 4

    image = Image.open(io.BytesIO(await fetch(client, body["url"])))
    image.load()
    assert image.format == "PNG" and image.size == (256, 256)
    # Labelled: the black caption box with white text in the bottom-left corner.
    rgb = image.convert("RGB")
    corner = [rgb.getpixel((x, 255 - y)) for x in range(0, 60) for y in range(1, 10)]
    assert (0, 0, 0) in corner and any(min(p) > 200 for p in corner)

    listed = (await client.get("/api/images", headers=admin)).json()["images"]
    mine = [item for item in listed if item["id"] == body["id"]]
    assert mine and mine[0]["prompt"] == body["prompt"] and mine[0]["model"] == OFFLINE
    assert mine[0]["source"] == "ai"

    events = await usage_events.list_for_owner(env.DB, "default_user", "generate")
    assert len(events) == 1 and events[0]["model"] == OFFLINE and events[0]["cost"] == 0
    assert events[0]["detail"]["id"] == body["id"]
    assert events[0]["detail"]["requested_model"] == SDXL


async def test_default_model_is_flux_and_generation_is_not_idempotent(client, admin):
    first = await client.post("/api/generate", headers=admin, json={"prompt": "a red fox"})
    second = await client.post("/api/generate", headers=admin, json={"prompt": "a red fox"})
    assert first.status_code == second.status_code == 201, first.text
    one, two = first.json(), second.json()
    assert one["requested_model"] == FLUX and (one["width"], one["height"]) == (1024, 1024)
    assert one["steps"] == 4 and one["id"] != two["id"] and one["seed"] != two["seed"]


async def test_real_model_output_is_recorded_under_the_model_with_its_cost(client, admin, env):
    png = io.BytesIO()
    Image.new("RGB", (1024, 1024), (10, 200, 30)).save(png, "PNG")
    calls = []

    class FakeFlux:
        async def run(self, model, inputs):
            calls.append((model, inputs))
            import base64

            return {"image": base64.b64encode(png.getvalue()).decode()}

    env.AI = FakeFlux()
    response = await client.post(
        "/api/generate", headers=admin, json={"prompt": "green field", "seed": 7, "steps": 6}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["model"] == FLUX and body["offline_preview"] is False
    # 4 tiles of 512x512 at $0.000053 + 6 steps at $0.00011.
    assert body["cost"] == pytest.approx(4 * 0.000053 + 6 * 0.00011)
    assert calls == [(FLUX, {"prompt": "green field", "steps": 6, "seed": 7})]
    events = await usage_events.list_for_owner(env.DB, "default_user", "generate")
    assert events[0]["model"] == FLUX and events[0]["cost"] == pytest.approx(body["cost"])


async def test_stream_answers_are_read(client, admin, env):
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (1, 2, 3)).save(png, "PNG")

    class FakeSdxl:
        async def run(self, model, inputs):
            assert inputs["num_steps"] == 20 and inputs["negative_prompt"] == "blur"
            assert (inputs["width"], inputs["height"]) == (1024, 1024)
            return BodyStream(png.getvalue())

    env.AI = FakeSdxl()
    response = await client.post(
        "/api/generate",
        headers=admin,
        json={"prompt": "a quiet lake", "model": SDXL, "negative_prompt": "blur"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["model"] == SDXL and (body["width"], body["height"]) == (300, 200)
    assert body["negative_prompt"] == "blur" and body["cost"] == 0


@pytest.mark.parametrize(
    "prompt,message",
    [
        ("hi", "Prompt must be at least 3 characters"),
        ("   ab  ", "Prompt must be at least 3 characters"),
        ("x" * 2049, "Prompt must be at most 2048 characters"),
        (42, "Prompt must be a string"),
        (None, "Prompt is required"),
    ],
)
async def test_prompt_validation(client, admin, prompt, message):
    body = {} if prompt is None else {"prompt": prompt}
    response = await client.post("/api/generate", headers=admin, json=body)
    error = assert_error_envelope(response, 400)
    assert error["error"] == "Invalid prompt parameter"
    assert error["details"] == {"field": "prompt", "message": message}


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"model": "@cf/nope/unknown"}, "model"),
        ({"model": 3}, "model"),
        ({"width": 512}, "width"),  # FLUX makes 1024x1024 only
        ({"model": SDXL, "width": 100}, "width"),
        ({"model": SDXL, "height": 4096}, "height"),
        ({"steps": 9}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"negative_prompt": 5}, "negative_prompt"),
        ({"collection_id": 12}, "collection_id"),
    ],
)
async def test_other_parameters_are_checked(client, admin, extra, field):
    response = await client.post(
        "/api/generate", headers=admin, json={"prompt": "a fine prompt", **extra}
    )
    error = assert_error_envelope(response, 400)
    assert error["error"] == f"Invalid {field} parameter" and error["details"]["field"] == field


@pytest.mark.parametrize("field", ["width", "height", "steps", "seed"])
@pytest.mark.parametrize("number", ["1e400", "-1e400", "Infinity", "NaN"])
async def test_numbers_json_cannot_make_integers_are_a_400(client, admin, field, number):
    """1e400 parses as inf (and Python's JSON reads Infinity and NaN): not an integer."""
    body = f'{{"prompt": "a fine prompt", "{field}": {number}}}'
    response = await client.post(
        "/api/generate", headers={**admin, "Content-Type": "application/json"}, content=body
    )
    error = assert_error_envelope(response, 400)
    assert error["error"] == f"Invalid {field} parameter" and error["details"]["field"] == field


async def test_body_must_be_json(client, admin):
    response = await client.post("/api/generate", headers=admin, content=b"nope")
    assert assert_error_envelope(response, 400)["error"] == "Invalid request body"


async def test_collection_id(client, admin, make_key):
    created = await client.post("/api/collections", headers=admin, json={"name": "AI art"})
    collection = created.json()["id"]
    response = await client.post(
        "/api/generate",
        headers=admin,
        json={"prompt": "a small boat", "collection_id": collection, **SMALL},
    )
    assert response.status_code == 201, response.text
    assert response.json()["collection_id"] == collection
    inside = (await client.get(f"/api/collections/{collection}/images", headers=admin)).json()
    assert [image["id"] for image in inside["images"]] == [response.json()["id"]]

    missing = await client.post(
        "/api/generate", headers=admin, json={"prompt": "a small boat", "collection_id": "col_nope"}
    )
    assert assert_error_envelope(missing, 404)["error"] == "Collection not found"
    # Another owner's collection is not found either.
    key, _ = await make_key(["generate"], owner="someone_else")
    other = await client.post(
        "/api/generate",
        headers=bearer(key),
        json={"prompt": "a small boat", "collection_id": collection},
    )
    assert_error_envelope(other, 404)


async def test_ai_failure_is_a_502_and_timeout_a_504(client, admin, env, monkeypatch):
    class Failing:
        async def run(self, model, inputs):
            raise RuntimeError("AiError: 3040: Capacity temporarily exceeded")

    env.AI = Failing()
    response = await client.post("/api/generate", headers=admin, json={"prompt": "a cat"})
    error = assert_error_envelope(response, 502, "AI_ERROR")
    assert error["details"]["model"] == FLUX and "3040" in error["details"]["reason"]

    class Slow:
        async def run(self, model, inputs):
            import asyncio

            await asyncio.sleep(5)

    env.AI = Slow()
    monkeypatch.setattr(ai_generation, "GENERATE_TIMEOUT_SECONDS", 0.05)
    response = await client.post("/api/generate", headers=admin, json={"prompt": "a cat"})
    assert assert_error_envelope(response, 504, "AI_TIMEOUT")["details"]["model"] == FLUX

    class TimedOut:
        async def run(self, model, inputs):
            raise RuntimeError("AiError: 3007: Request timeout")

    env.AI = TimedOut()
    assert_error_envelope(
        await client.post("/api/generate", headers=admin, json={"prompt": "a cat"}), 504
    )
    assert await usage_events.list_for_owner(env.DB, "default_user", "generate") == []


@pytest.mark.parametrize(
    "answer", [{"image": "not base64!"}, {"nothing": 1}, b"not an image", b"", 42]
)
async def test_unusable_output_is_a_502(client, admin, env, answer):
    class Odd:
        async def run(self, model, inputs):
            return answer

    env.AI = Odd()
    response = await client.post("/api/generate", headers=admin, json={"prompt": "a cat"})
    assert assert_error_envelope(response, 502)["error"] == "AI model returned no usable image"
    listed = (await client.get("/api/images", headers=admin)).json()
    assert listed["total"] == 0


async def test_scopes(client, admin, make_key):
    reader, _ = await make_key(["images:read"])
    response = await client.post("/api/generate", headers=bearer(reader), json={"prompt": "a cat"})
    assert assert_error_envelope(response, 403)["details"] == {"required_scope": "generate"}
    assert_error_envelope(await client.get("/api/models", headers=bearer(reader)), 403)
    assert_error_envelope(await client.post("/api/generate", json={"prompt": "a cat"}), 401)

    generator, _ = await make_key(["generate"], owner="painter")
    response = await client.post(
        "/api/generate", headers=bearer(generator), json={"prompt": "a cat", **SMALL}
    )
    assert response.status_code == 201, response.text
    # Stored for the key's owner: not visible to the admin's owner.
    assert_error_envelope(
        await client.get(f"/api/images/{response.json()['id']}", headers=admin), 404
    )


async def test_models_list_and_get(client, admin):
    response = await client.get("/api/models", headers=admin)
    assert response.status_code == 200
    body = response.json()
    ids = [model["id"] for model in body["models"]]
    assert ids[0] == FLUX and SDXL in ids and ids[-1] == OFFLINE
    assert body["pagination"] == {"limit": 20, "offset": 0, "total": len(ids), "has_more": False}
    flux = body["models"][0]
    assert flux["provider"] == "Black Forest Labs" and flux["user_id"] == "system"
    assert flux["cost_per_image"] == pytest.approx(0.000652) and flux["is_default"] is True
    assert flux["limits"]["steps"] == {"min": 1, "max": 8}

    page = (await client.get("/api/models?limit=2&offset=1", headers=admin)).json()
    assert [m["id"] for m in page["models"]] == ids[1:3]
    assert page["pagination"]["has_more"] is True

    one = await client.get(f"/api/models/{SDXL}", headers=admin)
    assert one.status_code == 200 and one.json()["id"] == SDXL
    assert one.json()["model"]["supports_negative_prompt"] is True
    missing = await client.get("/api/models/@cf/nope/nothing", headers=admin)
    error = assert_error_envelope(missing, 404)
    assert error["error"] == "Model not found"
    assert error["details"] == {"model_id": "@cf/nope/nothing"}
