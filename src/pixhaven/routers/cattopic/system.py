"""CattoPic system endpoints: `GET /api/config`, `POST /api/validate-api-key`,
`POST /api/cleanup`."""

from fastapi import APIRouter, Depends, Request

from pixhaven.dependencies import env_of, get_settings
from pixhaven.models.cattopic import ConfigResponse, ValidateKeyResponse
from pixhaven.models.common import ERROR_RESPONSES
from pixhaven.security.auth import Identity, authenticated, require
from pixhaven.services.images.updates import purge_due
from pixhaven.settings import Settings

router = APIRouter(prefix="/api", tags=["CattoPic"], responses=ERROR_RESPONSES)

SUPPORTED_FORMATS = ["jpeg", "jpg", "png", "gif", "webp", "avif"]


@router.get("/config", response_model=ConfigResponse, summary="Upload limits and formats")
async def get_config(
    _: Identity = Depends(authenticated), settings: Settings = Depends(get_settings)
):
    return {
        "success": True,
        "config": {
            "maxUploadCount": settings.max_upload_count,
            "maxFileSize": settings.max_upload_bytes,
            "supportedFormats": SUPPORTED_FORMATS,
            "imageQuality": settings.image_quality,
        },
    }


@router.post(
    "/validate-api-key",
    response_model=ValidateKeyResponse,
    summary="Check that the bearer key is valid",
)
async def validate_api_key(_: Identity = Depends(authenticated)):
    return {"success": True, "valid": True}


@router.post("/cleanup", summary="Purge expired images now (and deleted ones past retention)")
async def cleanup(
    request: Request,
    _: Identity = Depends(require("images:write")),
    settings: Settings = Depends(get_settings),
):
    deleted = await purge_due(env_of(request), settings.soft_delete_retention_days)
    return {"success": True, "deletedCount": deleted}
