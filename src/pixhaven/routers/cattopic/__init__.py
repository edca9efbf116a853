"""CattoPic's API (also read by Splinterpic clients for `/api/images`): uploads, images,
tags, random image, configuration, and the public `/r2/` objects."""

from pixhaven.routers.cattopic.images import router as images_router
from pixhaven.routers.cattopic.objects import router as objects_router
from pixhaven.routers.cattopic.random_image import router as random_router
from pixhaven.routers.cattopic.system import router as system_router
from pixhaven.routers.cattopic.tags import router as tags_router

__all__ = ["images_router", "objects_router", "random_router", "system_router", "tags_router"]
