"""Craftr's API: `POST /api/v1/image`."""

from pixhaven.routers.craftr.render import router as render_router

__all__ = ["render_router"]
