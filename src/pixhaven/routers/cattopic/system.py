"""CattoPic system endpoints: `GET /api/config`, `POST /api/validate-api-key`,
`POST /api/cleanup`."""

from fastapi import APIRouter

from pixhaven.models.cattopic import ConfigResponse, ValidateKeyResponse
from pixhaven.models.common import ERROR_RESPONSES
from pixhaven.routers.requests import Authenticated, CanWriteImages, EnvDep, SettingsDep
from pixhaven.services.images.updates import purge_due

router = APIRouter(prefix="/api", tags=["CattoPic"], responses=ERROR_RESPONSES)

SUPPORTED_FORMATS = ["jpeg", "jpg", "png", "gif", "webp", "avif"]


@router.get("/config", response_model=ConfigResponse, summary="Upload limits and formats")
async def get_config(_: Authenticated, settings: SettingsDep):
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
async def validate_api_key(_: Authenticated):
    return {"success": True, "valid": True}


@router.post(
    "/cleanup",
    summary="Purge the caller's expired images now (and deleted ones past retention);"
    " the admin's purges everyone's",
)
async def cleanup(identity: CanWriteImages, settings: SettingsDep, env: EnvDep):
    owner = None if identity.is_admin else identity.owner
    deleted = await purge_due(env, settings.soft_delete_retention_days, owner=owner)
    return {"success": True, "deletedCount": deleted}
