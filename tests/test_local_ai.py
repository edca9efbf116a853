"""The local `env.AI` (src/pixhaven/local/ai.py): the offline preview model and the Workers
AI REST API (through httpx.MockTransport: no network), in both answer shapes."""

import base64
import io
import json

import httpx
import pytest
from PIL import Image

from pixhaven.bindings.offline_ai import OFFLINE_MODEL
from pixhaven.local.bindings.ai import AiError, OfflineImageModel, RestAi, build_ai
from pixhaven.local.bindings.r2_objects import BodyStream
from pixhaven.services.ai.generate import declared_model
from tests.conftest import assert_error_envelope

FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
PNG = b"\x89PNG\r\n\x1a\n"


def png_bytes(size=(64, 48), colour=(200, 20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def test_offline_flux_answers_base64_and_sdxl_a_stream():
    model = OfflineImageModel()
    flux = await model.run(FLUX, {"prompt": "a lighthouse", "seed": 3})
    assert set(flux) == {"image"} and flux.image == flux["image"]
    data = base64.b64decode(flux["image"])
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1024, 1024)
    # Labelled in its metadata, and recognised as the offline model by the app.
    assert image.text["pixhaven:model"] == OFFLINE_MODEL and "not AI" in image.text["Software"]
    assert declared_model(data) == OFFLINE_MODEL

    stream = await model.run(SDXL, {"prompt": "a lighthouse", "width": 320, "height": 200})
    assert isinstance(stream, BodyStream)
    chunks = [chunk async for chunk in stream]
    sdxl = Image.open(io.BytesIO(b"".join(chunks)))
    assert sdxl.size == (320, 200) and sdxl.text["pixhaven:model"] == OFFLINE_MODEL


async def test_offline_images_are_deterministic_and_follow_the_prompt():
    model = OfflineImageModel()

    async def make(**inputs):
        return base64.b64decode((await model.run(FLUX, inputs))["image"])

    assert await make(prompt="a cat", seed=1) == await make(prompt="a cat", seed=1)
    assert await make(prompt="a cat", seed=1) != await make(prompt="a cat", seed=2)
    assert await make(prompt="a cat", seed=1) != await make(prompt="a dog", seed=1)
    with pytest.raises(AiError):
        await model.run(FLUX, {"steps": 4})


async def test_offline_caption_is_drawn_in_the_corner():
    stream = await OfflineImageModel().run(SDXL, {"prompt": "plain", "width": 400, "height": 300})
    image = Image.open(io.BytesIO(await stream.read())).convert("RGB")
    corner = {image.getpixel((x, y)) for x in range(0, 120) for y in range(285, 300)}
    assert (0, 0, 0) in corner and any(min(pixel) > 200 for pixel in corner)


def test_build_ai_chooses_rest_only_with_account_and_token():
    assert isinstance(build_ai({}), OfflineImageModel)
    assert isinstance(build_ai({"CLOUDFLARE_ACCOUNT_ID": "acc"}), OfflineImageModel)
    assert isinstance(build_ai({"CLOUDFLARE_API_TOKEN": "tok"}), OfflineImageModel)
    rest = build_ai({"CLOUDFLARE_ACCOUNT_ID": "acc", "CLOUDFLARE_API_TOKEN": "tok"})
    assert isinstance(rest, RestAi) and rest.url(FLUX) == (
        "https://api.cloudflare.com/client/v4/accounts/acc/ai/run/" + FLUX
    )


def recording(handler):
    seen = []

    def wrapped(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.MockTransport(wrapped), seen


async def test_rest_flux_json_answer():
    encoded = base64.b64encode(png_bytes()).decode()
    transport, seen = recording(
        lambda request: httpx.Response(
            200, json={"result": {"image": encoded}, "success": True, "errors": [], "messages": []}
        )
    )
    ai = RestAi("acc123", "secret-token", transport=transport)
    result = await ai.run(FLUX, {"prompt": "a cyberpunk lizard", "steps": 4, "seed": 9})
    assert result["image"] == encoded and result.image == encoded
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == (
        "https://api.cloudflare.com/client/v4/accounts/acc123/ai/run/"
        "@cf/black-forest-labs/flux-1-schnell"
    )
    assert request.headers["authorization"] == "Bearer secret-token"
    assert json.loads(request.content) == {"prompt": "a cyberpunk lizard", "steps": 4, "seed": 9}


async def test_rest_sdxl_binary_answer_is_a_stream():
    transport, seen = recording(
        lambda request: httpx.Response(
            200, content=png_bytes(), headers={"content-type": "image/png"}
        )
    )
    result = await RestAi("acc", "tok", transport=transport).run(SDXL, {"prompt": "cat"})
    assert isinstance(result, BodyStream)
    assert (await result.read()).startswith(PNG)
    assert seen[0].url.path.endswith("/ai/run/@cf/stabilityai/stable-diffusion-xl-base-1.0")


async def test_rest_errors_and_timeouts():
    failing, _ = recording(
        lambda request: httpx.Response(
            400, json={"success": False, "errors": [{"code": 5006, "message": "invalid input"}]}
        )
    )
    with pytest.raises(AiError, match="5006: invalid input"):
        await RestAi("acc", "tok", transport=failing).run(FLUX, {"prompt": "x"})

    timeout_answer, _ = recording(
        lambda request: httpx.Response(
            408, json={"success": False, "errors": [{"code": 3007, "message": "Request timeout"}]}
        )
    )
    with pytest.raises(TimeoutError):
        await RestAi("acc", "tok", transport=timeout_answer).run(FLUX, {"prompt": "x"})

    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TimeoutError):
        await RestAi("acc", "tok", transport=httpx.MockTransport(slow)).run(FLUX, {"prompt": "x"})

    not_json, _ = recording(lambda request: httpx.Response(500, text="oops"))
    with pytest.raises(AiError, match="HTTP 500"):
        await RestAi("acc", "tok", transport=not_json).run(FLUX, {"prompt": "x"})


@pytest.fixture
def settings_overrides():
    return {"CLOUDFLARE_ACCOUNT_ID": "acc42", "CLOUDFLARE_API_TOKEN": "tok42"}


async def test_generate_through_rest_mode_end_to_end(client, admin, env):
    assert isinstance(env.AI, RestAi)  # chosen by the local runtime from the settings
    encoded = base64.b64encode(png_bytes((1024, 1024))).decode()

    def answer(request):
        if "flux" in request.url.path:
            return httpx.Response(200, json={"result": {"image": encoded}, "success": True})
        return httpx.Response(
            200, content=png_bytes((512, 256), (1, 99, 1)), headers={"content-type": "image/png"}
        )

    transport, seen = recording(answer)
    env.AI = RestAi("acc42", "tok42", transport=transport)
    flux = await client.post(
        "/api/generate", headers=admin, json={"prompt": "a lighthouse", "seed": 5}
    )
    assert flux.status_code == 201, flux.text
    assert flux.json()["model"] == FLUX and flux.json()["offline_preview"] is False
    assert flux.json()["cost"] == pytest.approx(0.000652)
    assert seen[0].headers["authorization"] == "Bearer tok42"
    assert json.loads(seen[0].content) == {"prompt": "a lighthouse", "steps": 4, "seed": 5}

    sdxl = await client.post(
        "/api/generate",
        headers=admin,
        json={"prompt": "a lighthouse", "model": SDXL, "width": 512, "height": 256, "seed": 1},
    )
    assert sdxl.status_code == 201, sdxl.text
    assert sdxl.json()["model"] == SDXL and sdxl.json()["width"] == 512
    assert json.loads(seen[1].content) == {
        "prompt": "a lighthouse",
        "num_steps": 20,
        "seed": 1,
        "width": 512,
        "height": 256,
        "guidance": 7.5,
    }

    env.AI = RestAi(
        "acc42",
        "tok42",
        transport=httpx.MockTransport(
            lambda request: httpx.Response(
                429,
                json={"success": False, "errors": [{"code": 3036, "message": "Account limited"}]},
            )
        ),
    )
    error = assert_error_envelope(
        await client.post("/api/generate", headers=admin, json={"prompt": "a lighthouse"}), 502
    )
    assert "3036" in error["details"]["reason"]
