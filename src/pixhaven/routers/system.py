"""Health check (public)."""

from fastapi import APIRouter, Request

from pixhaven import __version__
from pixhaven.dependencies import env_of
from pixhaven.models.common import Health
from pixhaven.services.health import database_status
from pixhaven.timeutil import now_iso

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Liveness and database check")
async def health(request: Request):
    database = await database_status(env_of(request).DB)
    status = "ok" if database == "ok" else "degraded"
    return {
        "status": status,
        "success": True,
        "version": __version__,
        "time": now_iso(),
        "checks": {"database": database},
    }
