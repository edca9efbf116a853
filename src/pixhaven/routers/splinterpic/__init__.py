"""Splinterpic's API: AI generation and models, collections, usage and cost analytics
(its `/api/images` are CattoPic's routes, which answer both)."""

from pixhaven.routers.splinterpic.analytics import router as analytics_router
from pixhaven.routers.splinterpic.collections import router as collections_router
from pixhaven.routers.splinterpic.generate import router as generate_router

__all__ = ["analytics_router", "collections_router", "generate_router"]
