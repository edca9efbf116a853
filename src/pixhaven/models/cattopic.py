"""CattoPic (`/api/*`) schemas."""

from pydantic import BaseModel


class SystemConfig(BaseModel):
    maxUploadCount: int
    maxFileSize: int
    supportedFormats: list[str]
    imageQuality: int


class ConfigResponse(BaseModel):
    success: bool = True
    config: SystemConfig


class ValidateKeyResponse(BaseModel):
    success: bool = True
    valid: bool = True
