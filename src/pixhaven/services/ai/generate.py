"""Splinterpic AI generation: `POST /api/generate` and the models catalogue.

    row, outcome = await generate(env, settings, identity, body)

1. The body is checked against the model's row in `ai_models` (db/ai_models.py): prompt
   3–2048 characters, width/height/steps within the model's limits, seed 0–2^32-1 (drawn at
   random when absent, so two identical requests make two different images).
2. `env.AI.run(model_id, inputs)` — the Workers AI binding. It answers `{"image": base64}`
   (FLUX) or image bytes as a stream (Stable Diffusion); both are read here, bounded by
   MAX_UPLOAD_BYTES. Failures answer 502, timeouts (GENERATE_TIMEOUT_SECONDS, or the
   binding's own 3007) 504.
3. The output is never trusted: it goes through the upload pipeline (type by magic bytes,
   pixel limits, full decode) like any upload; an output the pipeline refuses is a 502.
4. Provenance: an image whose PNG text chunks say `pixhaven:model = @pixhaven/offline-preview`
   (what the local offline stand-in writes, see local/bindings/ai.py) is recorded under that model
   name at cost 0, never under the requested model: nobody mistakes it for AI output.
5. Stored with `record_upload` (source "ai", prompt, model), then one usage event (kind
   "generate", model, cost in USD from the model's unit prices).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import secrets
import uuid
from typing import TYPE_CHECKING

from pixhaven.bindings.offline_ai import OFFLINE_MARKER_KEY, OFFLINE_MODEL
from pixhaven.db import ai_models, usage_events
from pixhaven.decode_budget import DecodeBusy, DecodeTooLarge
from pixhaven.errors import ApiError, invalid_parameter
from pixhaven.imaging.containers import png_chunks
from pixhaven.interop import as_bytes
from pixhaven.services.ai.catalogue import DEFAULT_MODEL, PROMPT_MAX, PROMPT_MIN
from pixhaven.services.images import albums
from pixhaven.services.images.pipeline import UploadOptions, process_upload
from pixhaven.services.images.store import NewImage, record_upload
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database
    from pixhaven.bindings.env import Env

SEED_MAX = 2**32 - 1
GENERATE_TIMEOUT_SECONDS = 120.0
TILE = 512


def _prompt(body: dict, field: str, *, required: bool) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    label = "Prompt" if field == "prompt" else "Negative prompt"
    if not isinstance(value, str):
        raise invalid_parameter(
            field, f"{label} must be a string" if value is not None else "Prompt is required"
        )
    if required and len(value.strip()) < PROMPT_MIN:
        raise invalid_parameter(field, f"{label} must be at least {PROMPT_MIN} characters")
    if len(value) > PROMPT_MAX:
        raise invalid_parameter(field, f"{label} must be at most {PROMPT_MAX} characters")
    return value if required else (value.strip() or None)


def _integer(body: dict, field: str, default: int, low: int, high: int, model_id: str) -> int:
    value = body.get(field)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)  # JSON's 1e400 is inf, which int() refuses
        or value != int(value)
    ):
        raise invalid_parameter(field, f"{field.capitalize()} must be an integer")
    value = int(value)
    if not low <= value <= high:
        message = (
            f"{field.capitalize()} must be {low} for model {model_id}"
            if low == high
            else f"{field.capitalize()} must be between {low} and {high}"
            + (f" for model {model_id}" if field != "seed" else "")
        )
        raise invalid_parameter(field, message)
    return value


async def _model_row(db: D1Database, body: dict) -> dict:
    model_id = body.get("model")
    if model_id is None or model_id == "":
        model_id = DEFAULT_MODEL
    if not isinstance(model_id, str):
        raise invalid_parameter("model", "Model must be a string (a model id from GET /api/models)")
    row = await ai_models.get(db, model_id)
    if row is None or not row["is_active"]:
        raise invalid_parameter(
            "model",
            f"Unknown model: {model_id[:200]} (see GET /api/models)",
            model_id=model_id[:200],
        )
    return row


def check_request(body: dict, row: dict) -> dict:
    """The inputs for env.AI.run plus what the answer reports, or a 400."""
    limits, defaults, model_id = row["limits"], row["default_params"], row["id"]
    prompt = _prompt(body, "prompt", required=True)
    negative = _prompt(body, "negative_prompt", required=False)
    width = _integer(
        body,
        "width",
        int(defaults.get("width", 1024)),
        int(limits.get("min_width", 256)),
        int(limits.get("max_width", 2048)),
        model_id,
    )
    height = _integer(
        body,
        "height",
        int(defaults.get("height", 1024)),
        int(limits.get("min_height", 256)),
        int(limits.get("max_height", 2048)),
        model_id,
    )
    steps = _integer(
        body, "steps", int(defaults.get("steps", 4)), 1, int(limits.get("max_steps", 20)), model_id
    )
    seed = _integer(body, "seed", -1, 0, SEED_MAX, model_id)
    if seed < 0:
        seed = secrets.randbelow(SEED_MAX + 1)
    inputs = {"prompt": prompt, limits.get("steps_input", "num_steps"): steps, "seed": seed}
    if limits.get("size_inputs", True):
        inputs.update(width=width, height=height)
    if not limits.get("negative_prompt"):
        negative = None  # the model takes none: ignored, and reported as null
    if negative:
        inputs["negative_prompt"] = negative
    if "guidance" in defaults:
        inputs["guidance"] = defaults["guidance"]
    return {
        "inputs": inputs,
        "prompt": prompt,
        "negative_prompt": negative,
        "width": width,
        "height": height,
        "steps": steps,
        "seed": seed,
    }


def cost_of(row: dict, width: int, height: int, steps: int) -> float:
    """USD from the model's unit prices (per started 512x512 tile and per step)."""
    if row["price_per_tile"] or row["price_per_step"]:
        tiles = math.ceil(width / TILE) * math.ceil(height / TILE)
        return round(tiles * row["price_per_tile"] + steps * row["price_per_step"], 8)
    return float(row["cost_per_image"] or 0)


async def _run(env: Env, model_id: str, inputs: dict):
    try:
        return await asyncio.wait_for(env.AI.run(model_id, inputs), GENERATE_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise _timeout(model_id, str(exc)) from None
    except ApiError:
        raise
    except Exception as exc:  # the binding's errors are plain exceptions with a message
        reason = str(exc)[:500] or type(exc).__name__
        if "3007" in reason or "timeout" in reason.lower() or "timed out" in reason.lower():
            raise _timeout(model_id, reason) from None
        raise ApiError(
            502,
            "AI generation failed",
            code="AI_ERROR",
            details={"model": model_id, "reason": reason},
        ) from None


def _timeout(model_id: str, reason: str) -> ApiError:
    return ApiError(
        504,
        "AI generation timed out",
        code="AI_TIMEOUT",
        details={
            "model": model_id,
            "timeout_seconds": GENERATE_TIMEOUT_SECONDS,
            "reason": reason[:500] or "timeout",
        },
    )


def _bad_output(model_id: str, reason: str) -> ApiError:
    return ApiError(
        502,
        "AI model returned no usable image",
        code="AI_ERROR",
        details={"model": model_id, "reason": reason},
    )


async def output_bytes(result, model_id: str, limit: int) -> bytes:
    """The image bytes of a text-to-image answer: `{"image": base64}`, bytes, an array
    buffer (a `memoryview` through the SDK, or a JS proxy), or a stream (async-iterable
    chunks, or an async `read()`)."""
    if isinstance(result, (bytes, bytearray, memoryview)) or (
        hasattr(result, "to_bytes") and not isinstance(result, int)  # a JS buffer proxy
    ):
        data = as_bytes(result)
    elif isinstance(result, dict) or hasattr(result, "keys"):
        encoded = result.get("image") if hasattr(result, "get") else None
        if not isinstance(encoded, str):
            raise _bad_output(model_id, "the answer has no base64 `image`")
        if len(encoded) > limit * 4 // 3 + 8:
            raise _bad_output(model_id, "the image is larger than MAX_UPLOAD_BYTES")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise _bad_output(model_id, "`image` is not valid base64") from None
    elif hasattr(result, "arrayBuffer"):
        data = as_bytes(await result.arrayBuffer())
    elif hasattr(result, "__aiter__") or hasattr(result, "read"):
        data = await _read_stream(result, model_id, limit)
    else:
        raise _bad_output(model_id, f"unexpected answer type {type(result).__name__}")
    if len(data) > limit:
        raise _bad_output(model_id, "the image is larger than MAX_UPLOAD_BYTES")
    if not data:
        raise _bad_output(model_id, "the image is empty")
    return data


async def _read_stream(stream, model_id: str, limit: int) -> bytes:
    chunks, size = [], 0
    if hasattr(stream, "__aiter__"):
        async for chunk in stream:
            chunk = as_bytes(chunk)
            size += len(chunk)
            if size > limit:
                raise _bad_output(model_id, "the image is larger than MAX_UPLOAD_BYTES")
            chunks.append(chunk)
        return b"".join(chunks)
    return as_bytes(await stream.read())


def declared_model(data: bytes) -> str | None:
    """The model a PNG declares in a `pixhaven:model` text chunk (the offline stand-in)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    try:
        for kind, start, end in png_chunks(data):
            if kind == b"tEXt":
                key, _, value = data[start + 8 : end - 4].partition(b"\x00")
                if key == OFFLINE_MARKER_KEY.encode():
                    return value.decode("latin-1")
            elif kind == b"IDAT":
                break  # Pillow writes text chunks before the image data
    except Exception:
        return None
    return None


async def generate(
    env: Env, settings, owner: str, key_id: str | None, body: dict
) -> tuple[dict, dict]:
    """Run the model, store the checked output as an image; (image row, what to report)."""
    db = env.DB
    row = await _model_row(db, body)
    request = check_request(body, row)
    album_id = None
    if body.get("collection_id") is not None:
        if not isinstance(body["collection_id"], str) or not body["collection_id"]:
            raise invalid_parameter(
                "collection_id", "collection_id must be a collection's id or slug"
            )
        album_id = (await albums.find_collection(db, owner, body["collection_id"]))["id"]

    result = await _run(env, row["id"], request["inputs"])
    data = await output_bytes(result, row["id"], settings.max_upload_bytes)
    offline = declared_model(data) == OFFLINE_MODEL
    try:
        processed = await process_upload(env, data, settings, UploadOptions())
    except (DecodeBusy, DecodeTooLarge):
        raise  # this server's decode budget, not a fault of the output: its own answer
    except ApiError as exc:
        raise _bad_output(row["id"], f"{exc.error} ({exc.status})") from None
    model = OFFLINE_MODEL if offline else row["id"]
    cost = 0.0 if offline else cost_of(row, processed.width, processed.height, request["steps"])
    image = await record_upload(
        env,
        processed,
        NewImage(
            owner=owner,
            original_name=f"ai-{request['seed']}.{processed.extension}",
            album_id=album_id,
            source="ai",
            prompt=request["prompt"],
            model=model,
        ),
    )
    await usage_events.insert(
        db,
        {
            "id": "use_" + uuid.uuid4().hex[:24],
            "owner": owner,
            "key_id": key_id,
            "kind": "generate",
            "model": model,
            "cost": cost,
            "created_at": now_iso(),
            "detail": {
                "api": "splinterpic",
                "id": image["id"],
                "requested_model": row["id"],
                "offline": offline,
                "width": processed.width,
                "height": processed.height,
                "steps": request["steps"],
                "seed": request["seed"],
            },
        },
    )
    return image, {
        "cost": cost,
        "seed": request["seed"],
        "steps": request["steps"],
        "negative_prompt": request["negative_prompt"],
        "requested_model": row["id"],
        "offline_preview": offline,
    }
