"""Shapes shared by every dialect."""

from typing import Any

from pydantic import BaseModel, Field


class ErrorEnvelope(BaseModel):
    """SPEC §3: the superset error body every dialect's client can read."""

    success: bool = False
    error: str = Field(examples=["Image not found"])
    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["Image not found"])
    details: Any = Field(default_factory=dict)


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    success: bool = True
    version: str
    time: str
    checks: dict[str, str]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorEnvelope, "description": "Invalid request"},
    401: {"model": ErrorEnvelope, "description": "Missing, unknown or revoked API key"},
    403: {"model": ErrorEnvelope, "description": "The key lacks the required scope"},
}
