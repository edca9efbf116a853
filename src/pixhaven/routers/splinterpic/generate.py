"""Splinterpic AI generation and models: `POST /api/generate`, `GET /api/models`,
`GET /api/models/{id}` (ids contain slashes: `@cf/black-forest-labs/flux-1-schnell`).
Logic in services/ai/generate.py."""

from fastapi import APIRouter, Request

from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.splinterpic import GenerateBody
from pixhaven.routers.api_images import shape_api_images
from pixhaven.routers.requests import (
    SPLINTERPIC_BODY_ERRORS,
    CanGenerate,
    EnvDep,
    SettingsDep,
    offset_params,
    read_json,
)
from pixhaven.services.ai import catalogue
from pixhaven.services.ai import generate as ai_generation

router = APIRouter(prefix="/api", tags=["Splinterpic"], responses=ERROR_RESPONSES)


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
async def generate(request: Request, identity: CanGenerate, settings: SettingsDep, env: EnvDep):
    body = await read_json(request, SPLINTERPIC_BODY_ERRORS)
    row, outcome = await ai_generation.generate(
        env, settings, identity.owner, identity.key_id, body
    )
    image = (await shape_api_images(request, settings, [row]))[0]
    # Splinterpic clients read the fields at the top level; `image` holds them too.
    return {**image, **outcome, "success": True, "image": image}


@router.get("/models", summary="List the available AI models (limit/offset)")
async def list_models(request: Request, identity: CanGenerate, env: EnvDep):
    limit, offset = offset_params(request)
    models, total = await catalogue.list_models(env.DB, limit, offset)
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
async def get_model(model_id: str, identity: CanGenerate, env: EnvDep):
    model = await catalogue.get_model(env.DB, model_id)
    return {**model, "success": True, "model": model}
