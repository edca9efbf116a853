"""CattoPic system endpoints: `GET /api/config`, `POST /api/validate-api-key`."""

from fastapi import APIRouter, Depends

from ..dependencies import get_settings
from ..models.cattopic import ConfigResponse, ValidateKeyResponse
from ..models.common import ERROR_RESPONSES
from ..security.auth import Identity, authenticated
from ..settings import Settings

router = APIRouter(prefix="/api", tags=["CattoPic"], responses=ERROR_RESPONSES)

SUPPORTED_FORMATS = ["jpeg", "jpg", "png", "gif", "webp", "avif"]


@router.get("/config", response_model=ConfigResponse, summary="Upload limits and formats")
async def get_config(_: Identity = Depends(authenticated),
                     settings: Settings = Depends(get_settings)):
    return {"success": True, "config": {
        "maxUploadCount": settings.max_upload_count,
        "maxFileSize": settings.max_upload_bytes,
        "supportedFormats": SUPPORTED_FORMATS,
        "imageQuality": settings.image_quality,
    }}


@router.post("/validate-api-key", response_model=ValidateKeyResponse,
             summary="Check that the bearer key is valid")
async def validate_api_key(_: Identity = Depends(authenticated)):
    return {"success": True, "valid": True}
