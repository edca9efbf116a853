"""Pictify's API: images, GIF and PDF, templates, batch rendering, webhook subscriptions."""

from pixhaven.routers.pictify.batch import router as batch_router
from pixhaven.routers.pictify.gif_pdf import router as gif_pdf_router
from pixhaven.routers.pictify.images import router as images_router
from pixhaven.routers.pictify.templates import router as templates_router
from pixhaven.routers.pictify.webhooks import router as webhooks_router

__all__ = ["batch_router", "gif_pdf_router", "images_router", "templates_router", "webhooks_router"]
