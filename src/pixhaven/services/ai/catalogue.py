"""The Workers AI models catalogue (`ai_models`, migration 0007): `GET /api/models` and
`GET /api/models/{id}`, and the limits each model puts on a generation request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.db import ai_models
from pixhaven.errors import ApiError

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

DEFAULT_MODEL = "@cf/black-forest-labs/flux-1-schnell"
PROMPT_MIN, PROMPT_MAX = 3, 2048


def model_not_found(model_id: str) -> ApiError:
    return ApiError(404, "Model not found", details={"model_id": model_id})


def model_resource(row: dict) -> dict:
    limits = row["limits"]
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "provider": row["provider"],
        "type": row["type"],
        "cost_per_image": row["cost_per_image"],
        "pricing": {
            "currency": "USD",
            "per_image_at_defaults": row["cost_per_image"],
            "per_512_tile": row["price_per_tile"],
            "per_step": row["price_per_step"],
        },
        "default_params": row["default_params"],
        "limits": {
            "width": {"min": limits.get("min_width"), "max": limits.get("max_width")},
            "height": {"min": limits.get("min_height"), "max": limits.get("max_height")},
            "steps": {"min": 1, "max": limits.get("max_steps")},
            "prompt": {"min": PROMPT_MIN, "max": PROMPT_MAX},
        },
        "supports_negative_prompt": bool(limits.get("negative_prompt")),
        "is_default": row["id"] == DEFAULT_MODEL,
        "is_active": row["is_active"],
        "user_id": row["user_id"],
        "created_at": row["created_at"],
    }


async def list_models(db: D1Database, limit: int, offset: int) -> tuple[list[dict], int]:
    rows = await ai_models.list_page(db, limit, offset)
    return [model_resource(row) for row in rows], await ai_models.count(db)


async def get_model(db: D1Database, model_id: str) -> dict:
    row = await ai_models.get(db, model_id)
    if row is None:
        raise model_not_found(model_id)
    return model_resource(row)
