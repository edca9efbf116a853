"""Splinterpic analytics: `GET /api/analytics/usage` and `GET /api/analytics/costs`, from the
caller's usage events (services/ai/analytics.py). Query: `start`, `end` (ISO 8601 date or
date-time) or `days` (default 30)."""

from fastapi import APIRouter, Request

from pixhaven.models.common import ERROR_RESPONSES
from pixhaven.routers.requests import CanReadAnalytics, EnvDep
from pixhaven.services.ai import analytics

router = APIRouter(prefix="/api/analytics", tags=["Splinterpic"], responses=ERROR_RESPONSES)


@router.get("/usage", summary="Usage counts by day, kind and model over a period")
async def usage(request: Request, identity: CanReadAnalytics, env: EnvDep):
    return await analytics.usage(env.DB, identity.owner, request.query_params)


@router.get("/costs", summary="Cost totals (USD) by model and by day over a period")
async def costs(request: Request, identity: CanReadAnalytics, env: EnvDep):
    return await analytics.costs(env.DB, identity.owner, request.query_params)
