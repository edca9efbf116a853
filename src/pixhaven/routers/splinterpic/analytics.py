"""Splinterpic analytics: `GET /api/analytics/usage` and `GET /api/analytics/costs`, from the
caller's usage events (services/analytics.py). Query: `start`, `end` (ISO 8601 date or
date-time) or `days` (default 30)."""

from fastapi import APIRouter, Depends, Request

from pixhaven.dependencies import env_of
from pixhaven.models.common import ERROR_RESPONSES
from pixhaven.security.auth import Identity, require
from pixhaven.services.ai import analytics

router = APIRouter(prefix="/api/analytics", tags=["Splinterpic"], responses=ERROR_RESPONSES)


@router.get("/usage", summary="Usage counts by day, kind and model over a period")
async def usage(request: Request, identity: Identity = Depends(require("analytics:read"))):
    return await analytics.usage(env_of(request).DB, identity.owner, request.query_params)


@router.get("/costs", summary="Cost totals (USD) by model and by day over a period")
async def costs(request: Request, identity: Identity = Depends(require("analytics:read"))):
    return await analytics.costs(env_of(request).DB, identity.owner, request.query_params)
