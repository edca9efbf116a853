"""Health check (public)."""

from fastapi import APIRouter

from pixhaven import __version__
from pixhaven.db.d1 import fetch_one
from pixhaven.models.common import Health
from pixhaven.routers.requests import EnvDep
from pixhaven.timeutil import now_iso

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Liveness and database check")
async def health(env: EnvDep):
    try:
        await fetch_one(env.DB, "SELECT 1 AS ok")
        database = "ok"
    except Exception:  # reported, not raised: health must answer even when D1 does not
        database = "error"
    status = "ok" if database == "ok" else "degraded"
    return {
        "status": status,
        "success": True,
        "version": __version__,
        "time": now_iso(),
        "checks": {"database": database},
    }
