"""The local `env.AI`: the Workers AI binding as the Python SDK exposes it.

    result = await env.AI.run("@cf/black-forest-labs/flux-1-schnell", {"prompt": "…"})

What Workers AI answers for text-to-image models, and so what this binding answers:
* FLUX models (`…/flux-…`): a dict `{"image": "<base64>"}` (a `JsDict` here);
* Stable Diffusion and the others: a stream of the image's bytes (a `ReadableStream` on
  Workers; a `BodyStream` here, read with `async for chunk in stream` or `await read()`).
Failures raise `AiError` whose message reads like workerd's (`"AiError: 3007: …"`);
a timed-out call raises `TimeoutError`.

Two modes, decided here and never by the app:
* REST, when `CLOUDFLARE_ACCOUNT_ID` and the `CLOUDFLARE_API_TOKEN` secret are configured:
  `POST https://api.cloudflare.com/client/v4/accounts/{id}/ai/run/{model}` with the inputs as
  JSON. The API answers image bytes (`image/*`) or `{"result": …, "success": true}`.
* offline, otherwise: `OfflineImageModel`, a deterministic procedural generator (Pillow
  gradients and shapes seeded by a hash of the inputs) that answers for any model id
  given text-to-image inputs; a text-generation call (`messages`) is Workers AI's 5007
  "No such model". It is
  not AI and says so: every image carries an "offline model" caption and PNG text chunks
  naming `@pixhaven/offline-preview` (services/ai/generate.py reads them and records that
  model name, never the requested one).
"""

from __future__ import annotations

import base64
import hashlib
import io
import random

import httpx
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from pixhaven.bindings.offline_ai import OFFLINE_MARKER_KEY, OFFLINE_MODEL
from pixhaven.local.bindings.jsvalues import JsDict
from pixhaven.local.bindings.r2_objects import BodyStream

API_BASE = "https://api.cloudflare.com/client/v4"
REST_TIMEOUT_SECONDS = 120.0
MAX_OFFLINE_SIDE = 2048


class AiError(Exception):
    """A failed Workers AI call; the message starts with `AiError:` as workerd's does."""


def answers_with_json(model: str) -> bool:
    """FLUX models answer `{"image": base64}`; the others a stream of image bytes."""
    return "/flux-" in model


def _as_int(value, default: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return max(low, min(high, int(value)))


class OfflineImageModel:
    """Answers `run(model, inputs)` for any text-to-image model id with a labelled,
    deterministic procedural picture (same inputs, same bytes)."""

    async def run(self, model: str, inputs: dict, **options):
        if isinstance(inputs, dict) and "messages" in inputs:
            # A text-generation call: there is no offline text model, as Workers AI answers
            # for a model it does not have.
            raise AiError(
                f"AiError: 5007: No such model {model}: the offline preview model draws images "
                "only (configure CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN for Workers AI)"
            )
        if (
            not isinstance(inputs, dict)
            or not isinstance(inputs.get("prompt"), str)
            or not inputs["prompt"]
        ):
            raise AiError("AiError: 5006: Error: required properties at '/' are 'prompt'")
        png = render_offline_image(model, inputs)
        if answers_with_json(model):
            return JsDict({"image": base64.b64encode(png).decode("ascii")})
        return BodyStream(png)


def render_offline_image(model: str, inputs: dict) -> bytes:
    width = _as_int(
        inputs.get("width"), 1024 if answers_with_json(model) else 512, 64, MAX_OFFLINE_SIDE
    )
    height = _as_int(inputs.get("height"), width, 64, MAX_OFFLINE_SIDE)
    seed_material = "\x1f".join(
        [
            model,
            inputs["prompt"],
            str(inputs.get("seed", "")),
            str(inputs.get("negative_prompt", "")),
            f"{width}x{height}",
        ]
    )
    rng = random.Random(hashlib.sha256(seed_material.encode("utf-8")).digest())

    def colour() -> tuple[int, int, int]:
        return rng.randrange(256), rng.randrange(256), rng.randrange(256)

    top, bottom = colour(), colour()
    mask = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), mask
    )
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(rng.randint(6, 14)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        size = rng.randint(min(width, height) // 12, max(8, min(width, height) // 2))
        box = (x0 - size // 2, y0 - size // 2, x0 + size // 2, y0 + size // 2)
        fill = (*colour(), rng.randint(90, 220))
        shape = rng.choice(("ellipse", "rectangle", "triangle"))
        if shape == "ellipse":
            draw.ellipse(box, fill=fill)
        elif shape == "rectangle":
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon([(box[0], box[3]), (box[2], box[3]), (x0, box[1])], fill=fill)
    _caption(draw, width, height)

    info = PngImagePlugin.PngInfo()
    info.add_text(OFFLINE_MARKER_KEY, OFFLINE_MODEL)
    info.add_text("Software", "Pixhaven offline preview (procedural, not AI)")
    info.add_text("Comment", f"offline model; requested {model}; not AI output")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, compress_level=4)
    return out.getvalue()


def _caption(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    """A black box with "offline model" in white, in the bottom-left corner."""
    text = "offline model" if width < 200 else f"offline model - {OFFLINE_MODEL}"
    font = ImageFont.load_default(size=max(12, min(width, height) // 40))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 4
    box = (0, height - (bottom - top) - 2 * pad, min(width, right - left + 2 * pad), height)
    draw.rectangle(box, fill=(0, 0, 0, 255))
    draw.text((pad - left, box[1] + pad - top), text, font=font, fill=(255, 255, 255, 255))


class RestAi:
    """Workers AI over Cloudflare's REST API (`transport` is for tests: httpx.MockTransport)."""

    def __init__(
        self,
        account_id: str,
        api_token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = REST_TIMEOUT_SECONDS,
    ):
        self.account_id = account_id
        self._token = api_token
        self._transport = transport
        self._timeout = timeout

    def url(self, model: str) -> str:
        return f"{API_BASE}/accounts/{self.account_id}/ai/run/{model}"

    async def run(self, model: str, inputs: dict, **options):
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout
            ) as client:
                response = await client.post(self.url(model), json=inputs, headers=headers)
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"AiError: 3007: Request timeout ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise AiError(f"AiError: Workers AI REST API unreachable: {exc}") from exc
        content_type = response.headers.get("content-type", "")
        if response.is_success and content_type.startswith("image/"):
            return BodyStream(response.content)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.is_success or not isinstance(body, dict) or not body.get("success"):
            raise AiError(_error_message(response.status_code, body))
        result = body.get("result")
        return JsDict(result) if isinstance(result, dict) else result


def _error_message(status: int, body) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = f"{first.get('code', status)}: {first.get('message', '')}"
        if status == 408 or str(first.get("code")) == "3007":
            raise TimeoutError(f"AiError: {message}")
        return f"AiError: {message}"
    if status == 408:
        raise TimeoutError("AiError: 3007: Request timeout")
    return f"AiError: Workers AI REST API answered HTTP {status}"


def build_ai(variables: dict[str, str], transport: httpx.AsyncBaseTransport | None = None):
    """REST when an account and token are configured, else the offline model."""
    account = (variables.get("CLOUDFLARE_ACCOUNT_ID") or "").strip()
    token = (variables.get("CLOUDFLARE_API_TOKEN") or "").strip()
    if account and token:
        return RestAi(account, token, transport=transport)
    return OfflineImageModel()
