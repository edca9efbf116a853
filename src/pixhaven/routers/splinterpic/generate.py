"""Splinterpic AI generation and models: `POST /api/generate`, `GET /api/models`,
`GET /api/models/{id}` (ids contain slashes: `@cf/black-forest-labs/flux-1-schnell`).
Logic in services/ai_generation.py."""

from fastapi import APIRouter, Depends, Request

from pixhaven.dependencies import env_of, get_settings
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.splinterpic import GenerateBody
from pixhaven.routers.cattopic.images import json_object
from pixhaven.routers.forms import query_int
from pixhaven.security.auth import Identity, require
from pixhaven.services.ai import catalogue
from pixhaven.services.ai import generate as ai_generation
from pixhaven.services.images import api_images
from pixhaven.services.images.keys import base_url
from pixhaven.settings import Settings

router = APIRouter(prefix="/api", tags=["Splinterpic"], responses=ERROR_RESPONSES)

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


@router.post(
    "/generate",
    status_code=201,
    summary="Generate an image with an AI model (not idempotent)",
    responses=errors(
        404,
        413,
        502,
        504,
        e404="No such collection",
        e502="The AI model failed or returned no usable image",
        e504="The AI model timed out",
    ),
    openapi_extra=request_body(GenerateBody),
)
async def generate(
    request: Request,
    identity: Identity = Depends(require("generate")),
    settings: Settings = Depends(get_settings),
):
    body = await json_object(request)
    env = env_of(request)
    row, outcome = await ai_generation.generate(
        env, settings, identity.owner, identity.key_id, body
    )
    image = (await api_images.shape(env.DB, [row], base_url(request, settings)))[0]
    # Splinterpic clients read the fields at the top level; `image` holds them too.
    return {**image, **outcome, "success": True, "image": image}


@router.get("/models", summary="List the available AI models (limit/offset)")
async def list_models(request: Request, identity: Identity = Depends(require("generate"))):
    limit = min(query_int(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = query_int(request, "offset", 0, 0)
    models, total = await catalogue.list_models(env_of(request).DB, limit, offset)
    return {
        "success": True,
        "models": models,
        "pagination": {
            "limit": limit,
            "offset": offset,
            "total": total,
            "has_more": offset + len(models) < total,
        },
    }


@router.get(
    "/models/{model_id:path}",
    summary="Get one AI model by id",
    responses=errors(404, e404="No such model"),
)
async def get_model(
    model_id: str, request: Request, identity: Identity = Depends(require("generate"))
):
    model = await catalogue.get_model(env_of(request).DB, model_id)
    return {**model, "success": True, "model": model}
