"""Health check (public)."""

from fastapi import APIRouter

from pixhaven import __version__
from pixhaven.models.common import Health
from pixhaven.routers.requests import EnvDep
from pixhaven.services.health import database_status
from pixhaven.timeutil import now_iso

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Liveness and database check")
async def health(env: EnvDep):
    database = await database_status(env.DB)
    status = "ok" if database == "ok" else "degraded"
    return {
        "status": status,
        "success": True,
        "version": __version__,
        "time": now_iso(),
        "checks": {"database": database},
    }
